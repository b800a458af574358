using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Backends.Reference;
using Hrm.Runtime.Tests.TestUtil;
using Hrm.Runtime.Threading;
using static Hrm.Runtime.Tests.Kernels.KernelTestUtil;

namespace Hrm.Runtime.Tests.Kernels;

[Collection(KernelTestGroup.Name)]
public sealed class RopeTests
{
    [Theory]
    [InlineData(2, 5, 2, 4)]
    [InlineData(1, 3, 1, 6)]
    public void Reference_backward_matches_finite_differences(int batch, int t, int nh, int hs)
    {
        (double[] cos, double[] sin) = RopeTables(t, hs);
        int n = 3 * batch * t * nh * hs;
        double[] qkv = Doubles(1, n), r = Doubles(2, n);
        var y = new double[n];
        double Loss()
        {
            qkv.CopyTo(y, 0);
            ReferenceOps.RopeForward(y, cos, sin, batch, t, nh, hs);
            return FiniteDiff.Dot(y, r);
        }
        var grad = (double[])r.Clone();
        ReferenceOps.RopeBackward(grad, cos, sin, batch, t, nh, hs);
        FiniteDiff.Check(qkv, grad, Loss, "dqkv", samples: n);
    }

    [Fact]
    public void Backward_inverts_forward_for_real_tables()
    {
        // With real tables RoPE is a rotation, so its transpose is its inverse.
        const int batch = 1, t = 7, nh = 2, hs = 8;
        (double[] cos, double[] sin) = RopeTables(t, hs);
        double[] x = Doubles(3, 3 * batch * t * nh * hs);
        var y = (double[])x.Clone();
        ReferenceOps.RopeForward(y, cos, sin, batch, t, nh, hs);
        ReferenceOps.RopeBackward(y, cos, sin, batch, t, nh, hs);
        TensorAssert.Close(x, y, 1e-12, 0, 1e-20, "round trip");
    }

    [Theory]
    [InlineData(1, 1, 1, 8)]
    [InlineData(2, 9, 3, 22)]   // half = 11: vector + scalar tail
    [InlineData(2, 82, 8, 64)]  // HRM shape
    [InlineData(1, 5, 2, 80)]   // half = 40: 16 + 16 + 8
    public void Cpu_matches_reference(int batch, int t, int nh, int hs)
    {
        (double[] cosD, double[] sinD) = RopeTables(t, hs);
        float[] cos = ToFloat(cosD), sin = ToFloat(sinD);
        int n = 3 * batch * t * nh * hs;
        float[] x = TestData.Floats(5, n, 2f);
        using var pool = new WorkerPool(2);
        foreach (bool backward in new[] { false, true })
        {
            double[] expected = TestData.ToDouble(x);
            var actual = (float[])x.Clone();
            if (backward)
            {
                ReferenceOps.RopeBackward(expected, TestData.ToDouble(cos), TestData.ToDouble(sin), batch, t, nh, hs);
                CpuOps.RopeBackward(actual, cos, sin, batch, t, nh, hs, pool);
            }
            else
            {
                ReferenceOps.RopeForward(expected, TestData.ToDouble(cos), TestData.ToDouble(sin), batch, t, nh, hs);
                CpuOps.RopeForward(actual, cos, sin, batch, t, nh, hs, pool);
            }
            TensorAssert.Close(expected, actual, 1e-6, 1e-5, 1e-12, backward ? "backward" : "forward");
        }
    }

    [Fact]
    public void Results_are_deterministic_and_calls_allocate_nothing()
    {
        const int batch = 4, t = 82, nh = 8, hs = 64;
        (double[] cosD, double[] sinD) = RopeTables(t, hs);
        float[] cos = ToFloat(cosD), sin = ToFloat(sinD);
        float[] x = TestData.Floats(1, 3 * batch * t * nh * hs);
        using var pool = new WorkerPool(2);
        float[] a = (float[])x.Clone(), b = (float[])x.Clone();
        CpuOps.RopeForward(a, cos, sin, batch, t, nh, hs, pool);
        CpuOps.RopeForward(b, cos, sin, batch, t, nh, hs, pool);
        AssertBitwiseEqual(a, b, "forward");
        CpuOps.RopeBackward(a, cos, sin, batch, t, nh, hs, pool);
        CpuOps.RopeBackward(b, cos, sin, batch, t, nh, hs, pool);
        AssertBitwiseEqual(a, b, "backward");
        AssertNoAllocation(() =>
        {
            CpuOps.RopeForward(a, cos, sin, batch, t, nh, hs, pool);
            CpuOps.RopeBackward(a, cos, sin, batch, t, nh, hs, pool);
        }, "rope");
    }

    [Fact]
    public void Wrong_lengths_throw_naming_the_operand()
    {
        using var pool = new WorkerPool(2);
        var e = Assert.Throws<ArgumentException>(() =>
            CpuOps.RopeForward(new float[3 * 2 * 4], new float[2 * 4], new float[7], 1, 2, 1, 4, pool));
        Assert.Equal("sin", e.ParamName);
    }
}
