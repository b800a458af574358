namespace Hrm.Runtime.Tests.TestUtil;

/// <summary>Fixed-seed random inputs (never zeros).</summary>
public static class TestData
{
    /// <summary>n values uniform in [-scale, scale), from seed.</summary>
    public static float[] Floats(int seed, int n, float scale = 1f)
    {
        var r = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)((r.NextDouble() * 2 - 1) * scale);
        return a;
    }

    /// <summary>n ints uniform in [lo, hi).</summary>
    public static int[] Ints(int seed, int n, int lo, int hi)
    {
        var r = new Random(seed);
        var a = new int[n];
        for (int i = 0; i < n; i++) a[i] = r.Next(lo, hi);
        return a;
    }

    /// <summary>Widens floats to doubles.</summary>
    public static double[] ToDouble(ReadOnlySpan<float> a)
    {
        var d = new double[a.Length];
        for (int i = 0; i < a.Length; i++) d[i] = a[i];
        return d;
    }

    /// <summary>n doubles uniform in [-scale, scale), from seed.</summary>
    public static double[] Doubles(int seed, int n, double scale = 1.0) => ToDouble(Floats(seed, n, (float)scale));
}
