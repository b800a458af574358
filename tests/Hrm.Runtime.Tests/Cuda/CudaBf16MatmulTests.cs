using Hrm.Runtime.Backends.Cuda;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Numerics;
using Hrm.Runtime.Tests.TestUtil;

namespace Hrm.Runtime.Tests.Cuda;

/// <summary>
/// The bf16 linear layers (<see cref="CudaBackendOptions.Bf16Matmul"/>; GPU only): forward and backward against
/// double-precision products of the bf16-rounded operands (fp32 accumulation is all that separates them), and the
/// bf16 weight copies: redone on every call outside a weight-reuse scope, made once inside one.
/// </summary>
[Collection("Cuda")]
public sealed class CudaBf16MatmulTests(CudaFixture cuda, ITestOutputHelper output)
{
    private const double Accumulation = 1e-4; // fp32 accumulation of exact bf16 products

    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData(164, 512, 1536)] // qkv projection, Sudoku B=2
    [InlineData(164, 1536, 512)] // down projection
    [InlineData(37, 19, 23)]     // odd
    [InlineData(1, 1, 1)]
    public void Forward_and_backward_match_products_of_the_rounded_operands(int m, int k, int n)
    {
        using CudaBackend gpu = Backend();
        float[] x = TestData.Floats(1, m * k), w = TestData.Floats(2, n * k, 0.1f);
        float[] dy = TestData.Floats(3, m * n), dw0 = TestData.Floats(4, n * k);
        Buf gx = Up(gpu, x), gw = Up(gpu, w), gy = gpu.Allocate((long)m * n, "y");
        gpu.MatmulForward(gy, gx, gw, m, k, n);
        Check(gpu, gy, Forward(x, w, m, k, n), "out");
        if (k >= 16)
        {
            // The rounding is really there: the fp32 product of the unrounded operands is much further away.
            double[] exact = new double[m * n];
            for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            for (int c = 0; c < k; c++)
                exact[i * n + j] += (double)x[i * k + c] * w[j * k + c];
            var got = new float[m * n];
            gpu.Download(gy, got);
            double rel = TensorAssert.RelNorm(exact, got);
            output.WriteLine($"out vs the unrounded product: {rel:E2}");
            Assert.InRange(rel, 1e-4, 2e-2);
        }
        Buf gdy = Up(gpu, dy), gdw = Up(gpu, dw0), gdx = gpu.Allocate((long)m * k, "dx");
        gpu.MatmulBackward(gdx, gdw, gdy, gx, gw, m, k, n);
        double[] dx = new double[m * k], dw = new double[n * k];
        for (int i = 0; i < m; i++)
        for (int c = 0; c < k; c++)
            dx[i * k + c] = Dot(dy, i * n, 1, w, c, k, n);
        for (int j = 0; j < n; j++)
        for (int c = 0; c < k; c++)
            dw[j * k + c] = dw0[j * k + c] + Dot(dy, j, n, x, c, k, m);
        Check(gpu, gdx, dx, "dinp");
        Check(gpu, gdw, dw, "dweight (+=)");
    }

    [Trait("Category", "Gpu")]
    [Fact]
    public void Weight_copies_follow_the_weights_outside_a_reuse_scope_and_are_kept_inside_one()
    {
        using CudaBackend gpu = Backend();
        const int m = 8, k = 64, n = 32;
        float[] x = TestData.Floats(1, m * k), w1 = TestData.Floats(2, n * k), w2 = TestData.Floats(3, n * k);
        Buf gx = Up(gpu, x), gw = Up(gpu, w1), gy = gpu.Allocate(m * n, "y");
        double[] y1 = Forward(x, w1, m, k, n), y2 = Forward(x, w2, m, k, n);
        gpu.MatmulForward(gy, gx, gw, m, k, n);
        Check(gpu, gy, y1, "W1");
        gpu.Upload(w2, gw);
        gpu.MatmulForward(gy, gx, gw, m, k, n);
        Check(gpu, gy, y2, "W2 after an upload, no scope");
        gpu.BeginWeightReuse();
        gpu.MatmulForward(gy, gx, gw, m, k, n);
        Check(gpu, gy, y2, "W2 in a scope");
        gpu.Upload(w1, gw); // breaks the scope's promise on purpose: the copy made above is what is used
        gpu.MatmulForward(gy, gx, gw, m, k, n);
        Check(gpu, gy, y2, "the scope's copy of W2");
        gpu.EndWeightReuse();
        gpu.MatmulForward(gy, gx, gw, m, k, n);
        Check(gpu, gy, y1, "W1 after the scope");
    }

    private CudaBackend Backend()
    {
        cuda.BackendOrSkip(); // skips without a device, NVRTC or cuBLAS; warms the kernel cache
        try
        {
            return new CudaBackend(cuda.DeviceOrSkip(), new CudaBackendOptions { Bf16Matmul = true });
        }
        catch (CudaLibraryNotFoundException e)
        {
            Assert.Skip($"cuBLASLt is not installed: {e.Message}");
            throw;
        }
    }

    private static Buf Up(CudaBackend gpu, float[] host)
    {
        Buf b = gpu.Allocate(host.Length, "test");
        gpu.Upload(host, b);
        return b;
    }

    private static float R(float v) => BFloat16.ToFloat(BFloat16.FromFloat(v));

    /// <summary>Σ_c bf16(a[ai + c·sa]) · bf16(b[bi + c·sb]) in double.</summary>
    private static double Dot(float[] a, int ai, int sa, float[] b, int bi, int sb, int len)
    {
        double s = 0;
        for (int c = 0; c < len; c++) s += (double)R(a[ai + c * sa]) * R(b[bi + c * sb]);
        return s;
    }

    private static double[] Forward(float[] x, float[] w, int m, int k, int n)
    {
        double[] y = new double[m * n];
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
            y[i * n + j] = Dot(x, i * k, 1, w, j * k, 1, k);
        return y;
    }

    private void Check(CudaBackend gpu, Buf b, double[] expected, string what)
    {
        var got = new float[b.Length];
        gpu.Download(b, got);
        double rel = TensorAssert.RelNorm(expected, got);
        output.WriteLine($"{what}: relative L2 error {rel:E2} vs the rounded operands");
        Assert.True(rel <= Accumulation, $"{what}: relative L2 error {rel:E3} > {Accumulation:E0}");
    }
}
