using Hrm.Runtime.Tests.TestUtil;

namespace Hrm.Runtime.Tests.Kernels;

/// <summary>
/// The kernel test classes share this collection: it runs by itself (no other test runs in parallel), so the
/// process-wide allocation counter used by the zero-allocation checks only sees the op under test.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class KernelTestGroup
{
    /// <summary>Collection name.</summary>
    public const string Name = "Kernels";
}

/// <summary>Helpers shared by the kernel tests.</summary>
public static class KernelTestUtil
{
    /// <summary>
    /// Runs <paramref name="action"/> a few times to warm up (JIT tiers, lazily created state), then asserts that a
    /// few more calls allocate 0 managed bytes anywhere in the process. Up to 5 measurements are taken and the
    /// smallest counts, so an unrelated background allocation (runner, tiered JIT) cannot fail the test while an
    /// allocation made by the op itself appears in every measurement.
    /// </summary>
    public static void AssertNoAllocation(Action action, string what)
    {
        for (int i = 0; i < 3; i++) action();
        long best = long.MaxValue;
        for (int attempt = 0; attempt < 5 && best != 0; attempt++)
        {
            long before = GC.GetTotalAllocatedBytes(true);
            for (int i = 0; i < 3; i++) action();
            long delta = GC.GetTotalAllocatedBytes(true) - before;
            best = Math.Min(best, delta);
        }
        Assert.True(best == 0, $"{what}: allocated {best} bytes over 3 calls");
    }

    /// <summary>Asserts two float arrays are bitwise identical.</summary>
    public static void AssertBitwiseEqual(ReadOnlySpan<float> a, ReadOnlySpan<float> b, string what)
    {
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(a[i]) != BitConverter.SingleToInt32Bits(b[i]))
                Assert.Fail($"{what}: element {i} differs between runs ({a[i]:R} vs {b[i]:R})");
        }
    }

    /// <summary>Narrows doubles to floats.</summary>
    public static float[] ToFloat(ReadOnlySpan<double> a)
    {
        var f = new float[a.Length];
        for (int i = 0; i < a.Length; i++) f[i] = (float)a[i];
        return f;
    }

    /// <summary>Element-wise a − b.</summary>
    public static double[] Minus(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        var d = new double[a.Length];
        for (int i = 0; i < a.Length; i++) d[i] = a[i] - b[i];
        return d;
    }

    /// <summary>
    /// Real RoPE tables (T,HS): angle(p,k) = p·theta^(−2k/HS) for k &lt; HS/2, cos and sin with the halves
    /// duplicated.
    /// </summary>
    public static (double[] Cos, double[] Sin) RopeTables(int t, int hs, double theta = 10000.0)
    {
        int half = hs / 2;
        var cos = new double[t * hs];
        var sin = new double[t * hs];
        for (int p = 0; p < t; p++)
        {
            for (int k = 0; k < half; k++)
            {
                double angle = p * Math.Pow(theta, -2.0 * k / hs);
                cos[p * hs + k] = cos[p * hs + k + half] = Math.Cos(angle);
                sin[p * hs + k] = sin[p * hs + k + half] = Math.Sin(angle);
            }
        }
        return (cos, sin);
    }

    /// <summary>Fixed-seed random doubles that are exactly representable as floats.</summary>
    public static double[] Doubles(int seed, int n, double scale = 1.0) => TestData.Doubles(seed, n, scale);
}
