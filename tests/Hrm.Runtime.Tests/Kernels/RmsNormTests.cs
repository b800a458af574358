using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Backends.Reference;
using Hrm.Runtime.Tests.TestUtil;
using Hrm.Runtime.Threading;
using static Hrm.Runtime.Tests.Kernels.KernelTestUtil;

namespace Hrm.Runtime.Tests.Kernels;

[Collection(KernelTestGroup.Name)]
public sealed class RmsNormTests
{
    private const double Eps = 1e-5;

    [Fact]
    public void Reference_backward_matches_finite_differences()
    {
        const int rows = 3, c = 7;
        double[] a = Doubles(1, rows * c), b = Doubles(2, rows * c), r = Doubles(3, rows * c);
        var output = new double[rows * c];
        var rstd = new double[rows];
        double Loss()
        {
            ReferenceOps.AddRmsNormForward(output, rstd, a, b, rows, c, Eps);
            return FiniteDiff.Dot(output, r);
        }
        Loss();
        var dinp = new double[rows * c];
        ReferenceOps.RmsNormBackward(dinp, r, output, rstd, rows, c);
        FiniteDiff.Check(a, dinp, Loss, "d/da");
        FiniteDiff.Check(b, dinp, Loss, "d/db");
    }

    [Theory]
    [InlineData(1, 3)]
    [InlineData(5, 37)]
    [InlineData(164, 512)]
    public void Cpu_matches_reference(int rows, int c)
    {
        float[] a = TestData.Floats(10 + c, rows * c, 2f), b = TestData.Floats(20 + c, rows * c);
        float[] dout = TestData.Floats(30 + c, rows * c);
        double[] ad = TestData.ToDouble(a), bd = TestData.ToDouble(b), doutd = TestData.ToDouble(dout);
        var refOut = new double[rows * c];
        var refRstd = new double[rows];
        ReferenceOps.AddRmsNormForward(refOut, refRstd, ad, bd, rows, c, Eps);
        var refDinp = new double[rows * c];
        ReferenceOps.RmsNormBackward(refDinp, doutd, refOut, refRstd, rows, c);

        using var pool = new WorkerPool(2);
        var output = new float[rows * c];
        var rstd = new float[rows];
        CpuOps.AddRmsNormForward(output, rstd, a, b, rows, c, (float)Eps, pool);
        TensorAssert.Close(refOut, output, 1e-5, 1e-4, 1e-10, "out");
        TensorAssert.Close(refRstd, rstd, 1e-5, 1e-4, 1e-10, "rstd");
        // The backward from the reference's own forward results isolates the backward's error.
        var dinp = new float[rows * c];
        CpuOps.RmsNormBackward(dinp, dout, ToFloat(refOut), ToFloat(refRstd), rows, c, pool);
        TensorAssert.Close(refDinp, dinp, 1e-5, 1e-4, 1e-9, "dinp");
    }

    [Fact]
    public void Output_may_alias_an_input()
    {
        const int rows = 4, c = 40;
        float[] a = TestData.Floats(1, rows * c), b = TestData.Floats(2, rows * c);
        using var pool = new WorkerPool(2);
        var expected = new float[rows * c];
        var rstd = new float[rows];
        CpuOps.AddRmsNormForward(expected, rstd, a, b, rows, c, 1e-5f, pool);
        CpuOps.AddRmsNormForward(a, rstd, a, b, rows, c, 1e-5f, pool);
        AssertBitwiseEqual(expected, a, "aliased out");
    }

    [Fact]
    public void Results_are_deterministic_and_calls_allocate_nothing()
    {
        const int rows = 82 * 2, c = 512;
        float[] a = TestData.Floats(1, rows * c), b = TestData.Floats(2, rows * c), dout = TestData.Floats(3, rows * c);
        using var pool = new WorkerPool(2);
        float[] out1 = new float[rows * c], out2 = new float[rows * c];
        float[] rstd1 = new float[rows], rstd2 = new float[rows];
        float[] d1 = new float[rows * c], d2 = new float[rows * c];
        CpuOps.AddRmsNormForward(out1, rstd1, a, b, rows, c, 1e-5f, pool);
        CpuOps.AddRmsNormForward(out2, rstd2, a, b, rows, c, 1e-5f, pool);
        CpuOps.RmsNormBackward(d1, dout, out1, rstd1, rows, c, pool);
        CpuOps.RmsNormBackward(d2, dout, out1, rstd1, rows, c, pool);
        AssertBitwiseEqual(out1, out2, "out");
        AssertBitwiseEqual(rstd1, rstd2, "rstd");
        AssertBitwiseEqual(d1, d2, "dinp");
        AssertNoAllocation(() =>
        {
            CpuOps.AddRmsNormForward(out1, rstd1, a, b, rows, c, 1e-5f, pool);
            CpuOps.RmsNormBackward(d1, dout, out1, rstd1, rows, c, pool);
        }, "rmsnorm");
    }

    [Fact]
    public void Wrong_lengths_throw_naming_the_operand()
    {
        using var pool = new WorkerPool(1);
        var e = Assert.Throws<ArgumentException>(() =>
            CpuOps.AddRmsNormForward(new float[6], new float[2], new float[6], new float[5], 2, 3, 1e-5f, pool));
        Assert.Equal("b", e.ParamName);
        Assert.Contains("expected 6 elements, got 5", e.Message, StringComparison.Ordinal);
    }
}
