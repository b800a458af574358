using Hrm.Runtime.Backends.Cuda;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Tests.TestUtil;
using static Hrm.Runtime.Tests.TestUtil.BackendBuffers;

namespace Hrm.Runtime.Tests.Cuda;

/// <summary>
/// The GEMMs' side of <see cref="CudaBf16IntermediatesTests"/> (bf16 intermediates, GPU only): a bf16-input GEMM
/// bitwise the fp32-storage path on the same values (the operand that path would convert is the same), a bf16-output
/// GEMM within one bf16 rounding of the fp32 output.
/// </summary>
[Collection("Cuda")]
public sealed class CudaBf16GemmIntermediatesTests(CudaFixture cuda)
{
    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData(164, 1536, 512)] // down projection, Sudoku B=2
    [InlineData(37, 19, 23)]
    public void Gemms_read_a_bf16_input_as_it_is(int m, int k, int n)
    {
        using CudaBackend gpu = Backend(bf16Inter: true);
        float[] x = CudaBf16IntermediatesTests.Rounded(TestData.Floats(1, m * k)), w = TestData.Floats(2, n * k, 0.1f);
        float[] dy = TestData.Floats(3, m * n), dw0 = TestData.Floats(4, n * k);
        Buf x32 = Up(gpu, x), x16 = UpBf16(gpu, x), gw = Up(gpu, w), y = gpu.Allocate((long)m * n, "y");
        Buf gdy = Up(gpu, dy), dx = gpu.Allocate((long)m * k, "dx"), dw = gpu.Allocate((long)n * k, "dw");
        gpu.BeginWeightReuse();
        gpu.MatmulForward(y, x32, gw, m, k, n);
        float[] y32 = Down(gpu, y);
        long before = gpu.Launches;
        gpu.MatmulForward(y, x16, gw, m, k, n);
        Assert.Equal(1, gpu.Launches - before); // no conversion
        Assert.Equal(y32, Down(gpu, y));

        gpu.Upload(dw0, dw);
        gpu.MatmulBackward(dx, dw, gdy, x32, gw, m, k, n);
        (float[] dx32, float[] dw32) = (Down(gpu, dx), Down(gpu, dw));
        gpu.Upload(dw0, dw);
        before = gpu.Launches;
        gpu.MatmulBackward(dx, dw, gdy, x16, gw, m, k, n);
        long launches = gpu.Launches - before;
        gpu.EndWeightReuse();
        Assert.Equal(3, launches); // dout converted, two GEMMs; inp read as it is
        Assert.Equal(dx32, Down(gpu, dx));
        Assert.Equal(dw32, Down(gpu, dw));

        // dout in bf16 (the gate/up gradient) is read as it is too; dinp in bf16 (the SwiGLU output's gradient) is
        // the fp32 result within one rounding
        float[] dyr = CudaBf16IntermediatesTests.Rounded(dy);
        Buf dy32 = Up(gpu, dyr), dy16 = UpBf16(gpu, dyr), dxh = AllocBf16(gpu, (long)m * k);
        gpu.BeginWeightReuse();
        gpu.Upload(dw0, dw);
        gpu.MatmulBackward(dx, dw, dy32, x16, gw, m, k, n);
        (dx32, dw32) = (Down(gpu, dx), Down(gpu, dw));
        gpu.Upload(dw0, dw);
        before = gpu.Launches;
        gpu.MatmulBackward(dxh, dw, dy16, x16, gw, m, k, n);
        launches = gpu.Launches - before;
        gpu.EndWeightReuse();
        Assert.Equal(2, launches); // nothing converted
        Assert.Equal(dw32, Down(gpu, dw));
        WithinOneRounding(dx32, DownBf16(gpu, dxh));
    }

    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData(164, 512, 3072)] // gate/up projection, Sudoku B=2
    [InlineData(37, 19, 46)]
    [InlineData(5, 0, 6)]        // K = 0: zeros
    public void A_gemm_writes_a_bf16_output_within_one_rounding_of_the_fp32_output(int m, int k, int n)
    {
        using CudaBackend gpu = Backend(bf16Inter: true);
        float[] x = TestData.Floats(1, m * k), w = TestData.Floats(2, n * k, 0.1f);
        float[] junk = Enumerable.Repeat(3f, m * n).ToArray(); // so that K = 0 must really write zeros
        Buf gx = Up(gpu, x), gw = Up(gpu, w), y32 = Up(gpu, junk), y16 = UpBf16(gpu, junk);
        gpu.MatmulForward(y32, gx, gw, m, k, n);
        gpu.MatmulForward(y16, gx, gw, m, k, n);
        float[] f = Down(gpu, y32), h = DownBf16(gpu, y16);
        WithinOneRounding(f, h);
        if (k == 0) Assert.All(h, v => Assert.Equal(0f, v));
        else Assert.True(f.Where((v, i) => v != h[i]).Any(), "the bf16 output was not rounded");
    }

    /// <summary>h is f rounded to bf16, or a sum in another order rounded (cuBLASLt may pick another kernel for a bf16
    /// output): within half a bf16 ulp and a little.</summary>
    private static void WithinOneRounding(float[] f, float[] h)
    {
        Assert.Equal(f.Length, h.Length);
        float scale = f.Length == 0 ? 0f : f.Max(Math.Abs);
        for (int i = 0; i < f.Length; i++)
        {
            float tol = Math.Abs(f[i]) / 256f + scale * 1e-5f;
            Assert.True(Math.Abs(h[i] - f[i]) <= tol, $"[{i}]: bf16 output {h[i]} vs fp32 {f[i]}");
        }
    }

    private CudaBackend Backend(bool bf16Inter) =>
        cuda.Bf16MatmulBackendOrSkip(new CudaBackendOptions { Bf16Intermediates = bf16Inter });
}
