using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Backends.Reference;
using Hrm.Runtime.Tests.TestUtil;
using Hrm.Runtime.Threading;
using static Hrm.Runtime.Tests.Kernels.KernelTestUtil;

namespace Hrm.Runtime.Tests.Kernels;

[Collection(KernelTestGroup.Name)]
public sealed class SwiGluTests
{
    [Fact]
    public void Reference_backward_matches_finite_differences()
    {
        const int rows = 3, inter = 5;
        double[] gu = Doubles(1, rows * 2 * inter, 3.0), r = Doubles(2, rows * inter);
        var act = new double[rows * inter];
        double Loss()
        {
            ReferenceOps.SwiGluForward(act, gu, rows, inter);
            return FiniteDiff.Dot(act, r);
        }
        var grad = new double[gu.Length];
        ReferenceOps.SwiGluBackward(grad, r, gu, rows, inter);
        FiniteDiff.Check(gu, grad, Loss, "dgateUp", samples: gu.Length);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 45)]
    [InlineData(164, 1536)] // HRM shape
    public void Cpu_matches_reference(int rows, int inter)
    {
        // Gates span the saturated regions of the sigmoid too.
        float[] gu = TestData.Floats(3 + inter, rows * 2 * inter, 12f), dact = TestData.Floats(4 + inter, rows * inter);
        double[] gud = TestData.ToDouble(gu);
        var refAct = new double[rows * inter];
        ReferenceOps.SwiGluForward(refAct, gud, rows, inter);
        var refGrad = new double[gu.Length];
        ReferenceOps.SwiGluBackward(refGrad, TestData.ToDouble(dact), gud, rows, inter);

        using var pool = new WorkerPool(2);
        var act = new float[rows * inter];
        CpuOps.SwiGluForward(act, gu, rows, inter, pool);
        TensorAssert.Close(refAct, act, 1e-5, 1e-5, 1e-10, "act");
        var grad = new float[gu.Length];
        CpuOps.SwiGluBackward(grad, dact, gu, rows, inter, pool);
        TensorAssert.Close(refGrad, grad, 1e-5, 1e-5, 1e-10, "dgateUp");
    }

    [Fact]
    public void Extreme_gates_stay_finite()
    {
        float[] gu = [-1000f, -90f, -88f, -20f, 0f, 20f, 88f, 90f, 1000f, float.NaN, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
        using var pool = new WorkerPool(1);
        var act = new float[10];
        CpuOps.SwiGluForward(act, gu, 1, 10, pool);
        var expected = new double[10];
        ReferenceOps.SwiGluForward(expected, TestData.ToDouble(gu), 1, 10);
        for (int i = 0; i < 9; i++) Assert.Equal(expected[i], act[i], 1e-5);
        Assert.True(float.IsNaN(act[9]));
    }

    [Fact]
    public void Results_are_deterministic_and_calls_allocate_nothing()
    {
        const int rows = 164, inter = 1536;
        float[] gu = TestData.Floats(1, rows * 2 * inter, 4f), dact = TestData.Floats(2, rows * inter);
        using var pool = new WorkerPool(2);
        float[] a1 = new float[rows * inter], a2 = new float[rows * inter];
        float[] g1 = new float[gu.Length], g2 = new float[gu.Length];
        CpuOps.SwiGluForward(a1, gu, rows, inter, pool);
        CpuOps.SwiGluForward(a2, gu, rows, inter, pool);
        CpuOps.SwiGluBackward(g1, dact, gu, rows, inter, pool);
        CpuOps.SwiGluBackward(g2, dact, gu, rows, inter, pool);
        AssertBitwiseEqual(a1, a2, "act");
        AssertBitwiseEqual(g1, g2, "dgateUp");
        AssertNoAllocation(() =>
        {
            CpuOps.SwiGluForward(a1, gu, rows, inter, pool);
            CpuOps.SwiGluBackward(g1, dact, gu, rows, inter, pool);
        }, "swiglu");
    }

    [Fact]
    public void Wrong_lengths_throw_naming_the_operand()
    {
        using var pool = new WorkerPool(2);
        var e = Assert.Throws<ArgumentException>(() =>
            CpuOps.SwiGluBackward(new float[12], new float[5], new float[12], 2, 3, pool));
        Assert.Equal("dact", e.ParamName);
    }
}
