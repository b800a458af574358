using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Backends.Reference;
using Hrm.Runtime.Tests.TestUtil;
using Hrm.Runtime.Threading;

namespace Hrm.Runtime.Tests.Kernels;

/// <summary>
/// <c>MatmulBackward(..., accumulate: true)</c>: dinp += dout·weight (the block backward's two residual gradient sums,
/// which replaced an Add each), on every CPU GEMM path against the double reference, and the reference itself against
/// its plain form plus the old dinp.
/// </summary>
[Collection(nameof(MatmulSerial))]
public sealed unsafe class MatmulAccumulateTests : IDisposable
{
    private const double Atol = 1e-4, Rtol = 1e-4, MaxNmse = 1e-10; // as MatmulTests: fp32 against double

    private readonly WorkerPool _pool = new(2);

    public void Dispose() => _pool.Dispose();

    [Theory]
    [MemberData(nameof(MatmulTests.Shapes), MemberType = typeof(MatmulTests))]
    public void Backward_accumulate_adds_the_product_to_dinp_on_every_path(int m, int k, int n)
    {
        float[] x = TestData.Floats(60, m * k), w = TestData.Floats(61, n * k), dy = TestData.Floats(62, m * n);
        float[] dx0 = TestData.Floats(63, m * k), dw0 = TestData.Floats(64, n * k);
        double[] ex = Array.ConvertAll(dx0, v => (double)v), ew = Array.ConvertAll(dw0, v => (double)v);
        ReferenceOps.MatmulBackward(ex, ew, D(dy), D(x), D(w), m, k, n, accumulate: true);
        float[] dx = (float[])dx0.Clone(), dw = (float[])dw0.Clone();
        CpuOps.MatmulBackward(dx, dw, dy, x, w, m, k, n, _pool, accumulate: true);
        TensorAssert.Close(ex, dx, Atol, Rtol, MaxNmse, "dinp (+=)");
        TensorAssert.Close(ew, dw, Atol, Rtol, MaxNmse, "dweight (+=)");
        foreach (GemmPath path in MatmulTests.NarrowPaths().Prepend(GemmPath.Scalar)) // and the best path above
        {
            float[] px = (float[])dx0.Clone(), pw = (float[])dw0.Clone();
            fixed (float* a = px, b = pw, g = dy, xi = x, wi = w)
                Gemm.Backward(a, b, g, xi, wi, m, k, n, _pool, path, accumulate: true);
            TensorAssert.Close(ex, px, Atol, Rtol, MaxNmse, $"dinp (+=, {path})");
            TensorAssert.Close(ew, pw, Atol, Rtol, MaxNmse, $"dweight (+=, {path})");
        }
    }

    [Fact]
    public void Reference_accumulate_is_the_plain_product_plus_the_old_dinp()
    {
        const int m = 9, k = 13, n = 7;
        double[] x = TestData.Doubles(70, m * k), w = TestData.Doubles(71, n * k), dy = TestData.Doubles(72, m * n);
        double[] dx0 = TestData.Doubles(73, m * k);
        double[] plain = new double[m * k], acc = (double[])dx0.Clone();
        ReferenceOps.MatmulBackward(plain, new double[n * k], dy, x, w, m, k, n);
        ReferenceOps.MatmulBackward(acc, new double[n * k], dy, x, w, m, k, n, accumulate: true);
        for (int i = 0; i < acc.Length; i++) Assert.Equal(dx0[i] + plain[i], acc[i]);
    }

    [Fact]
    public void An_empty_reduction_leaves_an_accumulated_dinp_as_it_was_and_zeroes_a_written_one()
    {
        const int m = 5, k = 6;
        float[] x = TestData.Floats(80, m * k), dx0 = TestData.Floats(81, m * k);
        float[] kept = (float[])dx0.Clone(), zeroed = (float[])dx0.Clone();
        CpuOps.MatmulBackward(kept, [], [], x, [], m, k, 0, _pool, accumulate: true);
        CpuOps.MatmulBackward(zeroed, [], [], x, [], m, k, 0, _pool);
        Assert.Equal(dx0, kept);
        Assert.All(zeroed, v => Assert.Equal(0f, v));
    }

    private static double[] D(float[] a) => Array.ConvertAll(a, v => (double)v);
}
