using Hrm.Runtime.Backends.Cuda;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Numerics;
using Hrm.Runtime.Tests.TestUtil;
using static Hrm.Runtime.Tests.TestUtil.BackendBuffers;

namespace Hrm.Runtime.Tests.Cuda;

/// <summary>
/// bf16 intermediates (<see cref="CudaBackendOptions.Bf16Intermediates"/>, GPU only): the gate/up GEMM writes a
/// bf16 product, SwiGLU reads it and writes bf16, the down projection's GEMMs read that as it is; the o_proj and
/// down_proj GEMMs write bf16 products for the residual add + RMSNorm. Each piece against the fp32-storage path on the
/// same values: SwiGLU and the add + RMSNorm bitwise, a bf16-input GEMM bitwise (the operand the fp32 path would
/// convert is the same), a bf16-output GEMM within one bf16 rounding.
/// </summary>
[Collection("Cuda")]
public sealed class CudaBf16IntermediatesTests(CudaFixture cuda, ITestOutputHelper output)
{
    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData(7, 1536)]
    [InlineData(3, 37)]
    public void SwiGlu_on_bf16_storage_is_the_fp32_kernel_on_the_stored_values(int rows, int inter)
    {
        using CudaBackend gpu = Backend(bf16Inter: true);
        float[] gateUp = Rounded(TestData.Floats(1, 2 * rows * inter, 4f)), dact = Rounded(TestData.Floats(2, rows * inter));
        Buf gu32 = Up(gpu, gateUp), gu16 = UpBf16(gpu, gateUp), da = Up(gpu, dact), da16 = UpBf16(gpu, dact);
        Buf act32 = gpu.Allocate((long)rows * inter, "act"), act16 = AllocBf16(gpu, (long)rows * inter);
        Buf dgu32 = gpu.Allocate(2L * rows * inter, "dgu32"), dgu16 = gpu.Allocate(2L * rows * inter, "dgu16");

        gpu.SwiGluForward(act32, gu32, rows, inter);
        gpu.SwiGluForward(act16, gu16, rows, inter);
        float[] expected = Rounded(Down(gpu, act32));
        Assert.Equal(expected, DownBf16(gpu, act16));
        double[] exact = new double[rows * inter];
        for (int r = 0; r < rows; r++)
        for (int i = 0; i < inter; i++)
        {
            double g = gateUp[2 * r * inter + i], u = gateUp[2 * r * inter + inter + i];
            exact[r * inter + i] = g / (1 + Math.Exp(-g)) * u;
        }
        double rel = TensorAssert.RelNorm(exact, DownBf16(gpu, act16));
        output.WriteLine($"act (bf16) vs double: {rel:E2}");
        Assert.InRange(rel, 1e-5, 4e-3); // one bf16 rounding, and really there

        gpu.SwiGluBackward(dgu32, da, gu32, rows, inter);
        gpu.SwiGluBackward(dgu16, da16, gu16, rows, inter);               // bf16 inputs, fp32 dgateUp
        float[] dgu = Down(gpu, dgu32);
        Assert.Equal(dgu, Down(gpu, dgu16));
        Buf dguh = AllocBf16(gpu, 2L * rows * inter);
        gpu.SwiGluBackward(dguh, da16, gu16, rows, inter);                // all bf16, as the model runs it
        Assert.Equal(Rounded(dgu), DownBf16(gpu, dguh));
    }

    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData(164, 512)]
    [InlineData(9, 37)]
    [InlineData(3, 600)] // C > 512: the two-pass row
    public void Add_rmsnorm_of_a_bf16_product_is_the_fp32_kernel_on_the_stored_values(int rows, int c)
    {
        using CudaBackend gpu = Backend(bf16Inter: true);
        float[] a = TestData.Floats(1, rows * c), b = Rounded(TestData.Floats(2, rows * c));
        Buf ga = Up(gpu, a), b32 = Up(gpu, b), b16 = UpBf16(gpu, b);
        Buf out32 = gpu.Allocate((long)rows * c, "out32"), out16 = gpu.Allocate((long)rows * c, "out16");
        Buf r32 = gpu.Allocate(rows, "r32"), r16 = gpu.Allocate(rows, "r16");
        gpu.AddRmsNormForward(out32, r32, ga, b32, rows, c, 1e-5f);
        gpu.AddRmsNormForward(out16, r16, ga, b16, rows, c, 1e-5f);
        Assert.Equal(Down(gpu, out32), Down(gpu, out16));
        Assert.Equal(Down(gpu, r32), Down(gpu, r16));
    }

    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData(2, 82, 8)]  // Sudoku: kernel4
    [InlineData(1, 128, 2)] // the longest kernel4 takes
    [InlineData(3, 37, 2)]
    [InlineData(1, 1, 1)]
    [InlineData(1, 129, 2)] // longer: attention_rope_rows_kernel1, then attention_forward_kernel5
    [InlineData(2, 200, 1)]
    public void Rope_attention_on_a_bf16_qkv_is_the_fp32_path_on_the_stored_values(int batch, int t, int nh)
    {
        using CudaBackend gpu = Backend(bf16Inter: true);
        Assert.True(gpu.Bf16QkvForward(t, 64));
        long c = nh * 64L;
        float[] qkv = Rounded(TestData.Floats(1, (int)(3 * batch * t * c), 2f));
        Buf q32 = Up(gpu, qkv), q16 = UpBf16(gpu, qkv);
        Buf cos = Up(gpu, TestData.Floats(7, t * 64)), sin = Up(gpu, TestData.Floats(8, t * 64)); // random tables
        Buf o32 = gpu.Allocate(batch * t * c, "o32"), o16 = gpu.Allocate(batch * t * c, "o16");
        Buf l32 = gpu.Allocate(batch * nh * (long)t, "l32"), l16 = gpu.Allocate(batch * nh * (long)t, "l16");
        gpu.RopeAttentionForward(o32, l32, q32, cos, sin, batch, t, nh, 64, keepRotated: false);
        long before = gpu.Launches;
        gpu.RopeAttentionForward(o16, l16, q16, cos, sin, batch, t, nh, 64, keepRotated: false);
        Assert.Equal(t <= 128 ? 1 : 2, gpu.Launches - before);
        Assert.Equal(Down(gpu, o32), Down(gpu, o16));
        Assert.Equal(Down(gpu, l32), Down(gpu, l16));
        Assert.Equal(qkv, DownBf16(gpu, q16)); // read only
        // and the o_proj GEMM right after it takes the attention's bf16 copy, as after kernel3
        Buf w = Up(gpu, TestData.Floats(9, (int)(c * c), 0.1f)), y = gpu.Allocate(batch * t * c, "y");
        gpu.MatmulForward(y, o32, w, batch * t, (int)c, (int)c); // sizes the operand scratch; o32 converted
        float[] y32 = Down(gpu, y);
        gpu.RopeAttentionForward(o16, l16, q16, cos, sin, batch, t, nh, 64, keepRotated: false);
        before = gpu.Launches;
        gpu.MatmulForward(y, o16, w, batch * t, (int)c, (int)c);
        Assert.Equal(2, gpu.Launches - before); // W converted (no reuse scope), the GEMM; o16 not converted
        Assert.Equal(y32, Down(gpu, y));        // kernel4's bf16 copy of out is the conversion's
    }

    // attention_forward_rope_kernel6 (4 blocks per SM, one row tile per warp and pass) against kernel4, bitwise: out,
    // its bf16 copy and lse, and with a bf16-only output (the bf16 residual stream's attention output).
    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData(2, 82, 8)]  // Sudoku: two key tiles, warps 2 and 3 idle in the second pass
    [InlineData(1, 128, 2)] // every row of both passes
    [InlineData(3, 37, 2)]  // one key tile, a partial row tile
    [InlineData(1, 1, 1)]
    [InlineData(2, 65, 3)]  // one row in the second key tile
    [InlineData(1, 80, 2)]  // the second pass: warp 0's tile only, full
    [InlineData(1, 96, 1)]  // the second pass: warps 0 and 1, full
    public void The_four_blocks_per_sm_short_forward_is_kernel4_bitwise(int batch, int t, int nh)
    {
        using CudaBackend gpu = Backend(bf16Inter: true);
        long c = nh * 64L, n = batch * t * c;
        float[] qkv = Rounded(TestData.Floats(3, (int)(3 * n), 2f));
        Buf q16 = UpBf16(gpu, qkv);
        Buf cos = Up(gpu, TestData.Floats(7, t * 64)), sin = Up(gpu, TestData.Floats(8, t * 64));
        var results = new List<(int[] O, int[] L, int[] Oh)>();
        foreach (int kernel in new[] { 4, 6 })
        {
            gpu.ShortAttentionKernel = kernel;
            Buf o = gpu.Allocate(n, "o"), l = gpu.Allocate(batch * nh * (long)t, "l"), oh = AllocBf16(gpu, n);
            gpu.RopeAttentionForward(o, l, q16, cos, sin, batch, t, nh, 64, keepRotated: false);
            gpu.RopeAttentionForward(oh, l, q16, cos, sin, batch, t, nh, 64, keepRotated: false);
            results.Add((Bits(Down(gpu, o)), Bits(Down(gpu, l)), Bits(DownBf16(gpu, oh))));
        }
        Assert.Equal(results[0].O, results[1].O);
        Assert.Equal(results[0].L, results[1].L);
        Assert.Equal(results[0].Oh, results[1].Oh);
        Assert.Equal(qkv, DownBf16(gpu, q16)); // read only
    }

    [Trait("Category", "Gpu")]
    [Fact]
    public void The_short_forward_takes_kernel6_only_where_it_holds_more_blocks_and_the_grid_needs_them()
    {
        using CudaBackend gpu = Backend(bf16Inter: true);
        (int four, int six) = gpu.ShortAttentionBlocksPerSm;
        output.WriteLine($"{gpu.DeviceDescription}: kernel4 {four}, kernel6 {six} blocks per SM");
        Assert.True(four >= 1 && six >= four, $"kernel4 {four}, kernel6 {six} blocks per SM");
        Assert.Equal(4, gpu.ShortKernelFor(1, 8)); // the batch-1 solve's 8 blocks
        Assert.Equal(4, gpu.ShortKernelFor(four * gpu.DeviceSmCount, 1)); // kernel4 holds them all at once
        Assert.Equal(six > four ? 6 : 4, gpu.ShortKernelFor(four * gpu.DeviceSmCount + 1, 1));
        gpu.ShortAttentionKernel = 6;
        Assert.Equal(6, gpu.ShortKernelFor(1, 8));
        gpu.ShortAttentionKernel = 4;
        Assert.Equal(4, gpu.ShortKernelFor(768, 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => gpu.ShortAttentionKernel = 5);
    }

    private static int[] Bits(float[] v) => [.. v.Select(BitConverter.SingleToInt32Bits)];

    /// <summary>
    /// The no-grad forwards' bf16 residual stream (<see cref="CudaBackend.Bf16StreamForward"/>): each op writing or
    /// reading it gives bitwise what its fp32 form gives on the same values, rounded to bf16 where it writes bf16: the
    /// injection add, the add + RMSNorm with a bf16 a (bf16 or fp32 output), the attention's bf16-only output and the
    /// gather of bf16 rows.
    /// </summary>
    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData(164, 512)]
    [InlineData(9, 37)]
    [InlineData(3, 600)] // C > 512: the two-pass row
    public void The_bf16_residual_stream_ops_are_the_fp32_ops_rounded(int rows, int c)
    {
        using CudaBackend gpu = Backend(bf16Inter: true);
        long n = (long)rows * c;
        float[] x = TestData.Floats(1, (int)n), y = TestData.Floats(2, (int)n);
        Buf gx = Up(gpu, x), gy = Up(gpu, y), sum32 = gpu.Allocate(n, "sum32"), sum16 = AllocBf16(gpu, n);
        gpu.Add(sum32, gx, gy);
        gpu.Add(sum16, gx, gy);
        float[] sum = Down(gpu, sum32);
        Assert.Equal(Rounded(sum), DownBf16(gpu, sum16));

        float[] a = Rounded(TestData.Floats(3, (int)n)), b = Rounded(TestData.Floats(4, (int)n));
        Buf a32 = Up(gpu, a), a16 = UpBf16(gpu, a), b16 = UpBf16(gpu, b);
        Buf out32 = gpu.Allocate(n, "out32"), outF = gpu.Allocate(n, "outF"), outH = AllocBf16(gpu, n);
        Buf r32 = gpu.Allocate(rows, "r32"), rF = gpu.Allocate(rows, "rF"), rH = gpu.Allocate(rows, "rH");
        gpu.AddRmsNormForward(out32, r32, a32, b16, rows, c, 1e-5f); // kernel2: a in fp32
        gpu.AddRmsNormForward(outF, rF, a16, b16, rows, c, 1e-5f);   // kernel3, fp32 output (a module's last block)
        gpu.AddRmsNormForward(outH, rH, a16, b16, rows, c, 1e-5f);   // kernel3, bf16 output
        float[] expect = Down(gpu, out32);
        Assert.Equal(expect, Down(gpu, outF));
        Assert.Equal(Rounded(expect), DownBf16(gpu, outH));
        Assert.Equal(Down(gpu, r32), Down(gpu, rF));
        Assert.Equal(Down(gpu, r32), Down(gpu, rH));
        // A bf16 output holds what an fp32 output's bf16 copy holds: the next GEMM reads the same bits either way.
        Buf w = Up(gpu, TestData.Floats(9, c * c, 0.1f)), g1 = gpu.Allocate(n, "g1"), g2 = gpu.Allocate(n, "g2");
        gpu.AddRmsNormForward(outF, rF, a16, b16, rows, c, 1e-5f);
        gpu.MatmulForward(g1, outF, w, rows, c, c);
        gpu.MatmulForward(g2, outH, w, rows, c, c);
        Assert.Equal(Down(gpu, g1), Down(gpu, g2));

        // Gathering bf16 rows: the rows' bits.
        int[] ids = [2, 0, rows - 1];
        Buf gids = gpu.AllocateInts(ids.Length, "ids");
        gpu.UploadInts(ids, gids);
        Buf gathered = AllocBf16(gpu, ids.Length * (long)c);
        gpu.GatherRows(gathered, a16, gids, ids.Length, c);
        Assert.Equal(ids.SelectMany(i => a.Skip(i * c).Take(c)).ToArray(), DownBf16(gpu, gathered));
    }

    /// <summary>The attention's bf16-only output (a no-grad forward's): the fp32 output rounded, both kernels.</summary>
    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData(2, 82, 8)]  // kernel4
    [InlineData(1, 129, 2)] // attention_rope_rows_kernel1, then attention_forward_kernel5
    public void The_attention_s_bf16_output_is_its_fp32_output_rounded(int batch, int t, int nh)
    {
        using CudaBackend gpu = Backend(bf16Inter: true);
        long c = nh * 64L;
        float[] qkv = Rounded(TestData.Floats(1, (int)(3 * batch * t * c), 2f));
        Buf q16 = UpBf16(gpu, qkv);
        Buf cos = Up(gpu, TestData.Floats(7, t * 64)), sin = Up(gpu, TestData.Floats(8, t * 64));
        Buf o32 = gpu.Allocate(batch * t * c, "o32"), oh = AllocBf16(gpu, batch * t * c);
        Buf l32 = gpu.Allocate(batch * nh * (long)t, "l32"), lh = gpu.Allocate(batch * nh * (long)t, "lh");
        gpu.RopeAttentionForward(o32, l32, q16, cos, sin, batch, t, nh, 64, keepRotated: false);
        gpu.RopeAttentionForward(oh, lh, q16, cos, sin, batch, t, nh, 64, keepRotated: false);
        Assert.Equal(Rounded(Down(gpu, o32)), DownBf16(gpu, oh));
        Assert.Equal(Down(gpu, l32), Down(gpu, lh));
    }

    /// <summary>
    /// The plain attention on a bf16 qkv (<c>attention_forward_kernel5</c>): one launch, no pack, the rows read where they
    /// lie; bitwise the fp32 path (the pack, then kernel2) on the stored values, with a T whose last query block has
    /// warps with no rows (129, 200, 901) and one whose blocks are all full (256).
    /// </summary>
    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData(2, 82, 8)]
    [InlineData(1, 129, 2)]
    [InlineData(2, 200, 1)]
    [InlineData(1, 256, 2)]
    [InlineData(1, 901, 1)]
    public void Attention_on_a_bf16_qkv_reads_it_in_place_bitwise_the_fp32_path(int batch, int t, int nh)
    {
        using CudaBackend gpu = Backend(bf16Inter: true);
        long c = nh * 64L;
        float[] qkv = Rounded(TestData.Floats(3, (int)(3 * batch * t * c), 2f));
        Buf q32 = Up(gpu, qkv), q16 = UpBf16(gpu, qkv);
        Buf o32 = gpu.Allocate(batch * t * c, "o32"), o16 = gpu.Allocate(batch * t * c, "o16");
        Buf l32 = gpu.Allocate(batch * nh * (long)t, "l32"), l16 = gpu.Allocate(batch * nh * (long)t, "l16");
        gpu.AttentionForward(o32, l32, q32, batch, t, nh, 64);
        long before = gpu.Launches;
        gpu.AttentionForward(o16, l16, q16, batch, t, nh, 64);
        Assert.Equal(1, gpu.Launches - before); // kernel5 alone
        float[] expect = Down(gpu, o32);
        Assert.Equal(expect, Down(gpu, o16));
        Assert.Equal(Down(gpu, l32), Down(gpu, l16));
        Assert.Equal(qkv, DownBf16(gpu, q16)); // read only
        // and both are the attention (bf16 accuracy against the CPU's fp32 kernel on the same values)
        using var cpu = new Hrm.Runtime.Backends.Cpu.CpuBackend(1);
        Buf cq = Up(cpu, qkv), co = cpu.Allocate(batch * t * c, "o"), cl = cpu.Allocate(batch * nh * (long)t, "l");
        cpu.AttentionForward(co, cl, cq, batch, t, nh, 64);
        double rel = TensorAssert.RelNorm(Array.ConvertAll(Down(cpu, co), v => (double)v), expect);
        output.WriteLine($"out vs the CPU: {rel:E2}");
        Assert.InRange(rel, 0, 1e-2);
    }

    [Trait("Category", "Gpu")]
    [Fact]
    public void A_bf16_qkv_is_refused_where_no_kernel_reads_it()
    {
        using CudaBackend gpu = Backend(bf16Inter: true);
        Assert.True(gpu.Bf16QkvForward(901, 64));
        Assert.False(gpu.Bf16QkvForward(82, 32));
        const int batch = 1, nh = 1;
        foreach ((int t, bool keep) in new[] { (82, true), (129, true) })
        {
            Buf q16 = AllocBf16(gpu, 3L * batch * t * 64), cos = gpu.Allocate(t * 64, "cos"), sin = gpu.Allocate(t * 64, "sin");
            Buf o = gpu.Allocate(t * 64, "o"), l = gpu.Allocate(t, "l");
            var e = Assert.Throws<ArgumentException>(() =>
                gpu.RopeAttentionForward(o, l, q16, cos, sin, batch, t, nh, 64, keepRotated: keep));
            Assert.Contains("Bf16QkvForward", e.Message);
        }
        {
            const int t = 40; // the plain attention reads a bf16 qkv on the bf16 kernels only (head size 64)
            Buf q16 = AllocBf16(gpu, 3L * t * 32), o = gpu.Allocate(t * 32, "o"), l = gpu.Allocate(t, "l");
            var e = Assert.Throws<ArgumentException>(() => gpu.AttentionForward(o, l, q16, 1, t, 1, 32));
            Assert.Contains("head size 64", e.Message);
            // kernel5 reads the rows with 16-byte copies: a view 8 bytes off is refused, naming the buffer
            Buf words = gpu.Allocate(3L * t * 32 + 2, "qkv");
            Buf shifted = new(words.Address + 8, 3L * t * 64, sizeof(ushort));
            Buf o64 = gpu.Allocate(t * 64, "o64");
            e = Assert.Throws<ArgumentException>(() => gpu.AttentionForward(o64, l, shifted, 1, t, 1, 64));
            Assert.Contains("qkv", e.Message);
            Assert.Contains("16-byte", e.Message);
        }
        using CudaBackend off = Backend(bf16Inter: false);
        Assert.False(off.Bf16QkvForward(82, 64));
    }

    [Trait("Category", "Gpu")]
    [Fact]
    public void A_bf16_buffer_is_refused_without_bf16_intermediates_and_by_the_other_ops()
    {
        using CudaBackend gpu = Backend(bf16Inter: false);
        Assert.False(gpu.Bf16Intermediates);
        Buf h = AllocBf16(gpu, 64), f = gpu.Allocate(64, "f"), w = gpu.Allocate(64, "w");
        var e = Assert.Throws<ArgumentException>(() => gpu.MatmulForward(h, f, w, 8, 8, 8));
        Assert.Contains("Bf16Intermediates", e.Message);
        Assert.Throws<ArgumentException>(() => gpu.AddRmsNormForward(f, gpu.Allocate(8, "rstd"), f, h, 8, 8, 1e-5f));
        Assert.Throws<ArgumentException>(() => gpu.Add(h, f, f));           // the bf16 residual stream needs them too
        using CudaBackend on = Backend(bf16Inter: true);
        Assert.True(on.Bf16Intermediates);
        Buf h2 = AllocBf16(on, 64), f2 = on.Allocate(64, "f"), g2 = on.Allocate(128, "g");
        Assert.Throws<ArgumentException>(() => on.Add(f2, h2, f2));          // a bf16 summand: not an op of the stream
        var rstd = on.Allocate(8, "rstd");
        // A bf16 a (the residual stream) needs a bf16 b; a bf16 output needs a bf16 a.
        Assert.Throws<ArgumentException>(() => on.AddRmsNormForward(f2, rstd, h2, f2, 8, 8, 1e-5f));
        Assert.Throws<ArgumentException>(() => on.AddRmsNormForward(AllocBf16(on, 64), rstd, f2, h2, 8, 8, 1e-5f));
        Assert.Throws<ArgumentException>(() => on.GatherRows(f2, h2, on.AllocateInts(1, "ids"), 1, 8)); // mixed
        Assert.Throws<ArgumentException>(() => on.SwiGluForward(f2, AllocBf16(on, 128), 8, 8)); // mixed storage
        Assert.Throws<ArgumentException>(() => on.SwiGluForward(h2, g2, 8, 8));
    }

    private CudaBackend Backend(bool bf16Inter) =>
        cuda.Bf16MatmulBackendOrSkip(new CudaBackendOptions { Bf16Intermediates = bf16Inter });

    internal static float[] Rounded(float[] v) => v.Select(BFloat16.Round).ToArray();
}
