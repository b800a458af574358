using Hrm.Runtime.Backends.Cuda;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Tests.TestUtil;

namespace Hrm.Runtime.Tests.Cuda;

/// <summary>
/// CudaBackend attention vs CpuBackend: kernel1 (fp32, any HS ≤ 128) within ~1e-5, kernel2 (bf16 tensor cores,
/// HS = 64) within ~1e-2, forward (out, lse) and backward (dqkv) (GPU only).
/// </summary>
[Collection("Cuda")]
public sealed class CudaBackendAttentionTests(CudaFixture cuda, ITestOutputHelper output)
{
    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData(2, 82, 8, 64)]  // Sudoku
    [InlineData(3, 17, 4, 16)]  // the tiny preset's head size, odd T
    [InlineData(1, 1, 2, 32)]   // T = 1
    [InlineData(2, 130, 2, 128)] // largest head size: > 48 KiB of shared memory in the backward
    [InlineData(1, 40, 3, 5)]   // odd head size
    public void Fp32_attention_matches_the_cpu(int batch, int t, int nh, int hs) =>
        Compare(bf16: false, batch, t, nh, hs, fwdTol: 1e-5, bwdTol: 1e-5);

    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData(2, 82, 8, 64)]  // Sudoku
    [InlineData(3, 37, 2, 64)]  // T not a multiple of the tiles
    [InlineData(1, 1, 1, 64)]   // T = 1
    [InlineData(1, 901, 8, 64)] // Maze/ARC length
    public void Bf16_attention_matches_the_cpu_to_bf16_accuracy(int batch, int t, int nh, int hs) =>
        Compare(bf16: true, batch, t, nh, hs, fwdTol: 1e-2, bwdTol: 2e-2);

    [Trait("Category", "Gpu")]
    [Fact]
    public void Rope_attention_matches_the_cpu()
    {
        const int batch = 2, t = 82, nh = 8, hs = 64;
        using var p = new BackendPair(cuda.BackendOrSkip(false), output);
        long c = (long)nh * hs;
        (double[] cosD, double[] sinD) = Kernels.KernelTestUtil.RopeTables(t, hs);
        Twin qkv = p.Floats(1, 3L * batch * t * c, 2f), o = p.Zeros(batch * t * c), lse = p.Zeros((long)batch * nh * t);
        Twin cos = p.Upload(Kernels.KernelTestUtil.ToFloat(cosD)), sin = p.Upload(Kernels.KernelTestUtil.ToFloat(sinD));
        p.Cpu.RopeAttentionForward(o.C, lse.C, qkv.C, cos.C, sin.C, batch, t, nh, hs);
        p.Gpu.RopeAttentionForward(o.G, lse.G, qkv.G, cos.G, sin.G, batch, t, nh, hs);
        p.Close(qkv, 1e-5, "qkv (rotated in place)");
        p.Close(o, 1e-5, "out");
        p.Close(lse, 1e-5, "lse");
    }

    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData(2, 82, 8)]  // Sudoku
    [InlineData(3, 37, 2)]  // T not a multiple of the tiles
    public void Rope_fused_into_the_pack_is_bitwise_the_rope_kernel_then_the_pack(int batch, int t, int nh)
    {
        const int hs = 64;
        using var p = new BackendPair(cuda.BackendOrSkip(true), output);
        int c = nh * hs, rows = batch * t;
        // Random tables, not RoPE's (whose halves repeat: cos[i] = cos[32 + i]): a mixed-up half index shows.
        Twin cos = p.Floats(7, (long)t * hs), sin = p.Floats(8, (long)t * hs);
        Twin inp = p.Floats(1, (long)rows * c), w = p.Floats(2, 3L * c * c, 0.1f);
        Twin fused = p.Zeros(3L * rows * c), apart = p.Zeros(3L * rows * c);
        Twin o1 = p.Zeros((long)rows * c), o2 = p.Zeros((long)rows * c), l1 = p.Zeros((long)batch * nh * t), l2 = p.Zeros((long)batch * nh * t);
        p.Gpu.MatmulRopeForward(fused.G, inp.G, w.G, cos.G, sin.G, batch, t, c, nh, hs); // packs with RoPE
        p.Gpu.AttentionForward(o1.G, l1.G, fused.G, batch, t, nh, hs);                  // reuses that pack
        p.Gpu.MatmulForward(apart.G, inp.G, w.G, rows, c, 3 * c);
        p.Gpu.RopeForward(apart.G, cos.G, sin.G, batch, t, nh, hs);
        p.Gpu.AttentionForward(o2.G, l2.G, apart.G, batch, t, nh, hs);                  // packs on its own
        GpuSame(p, fused, apart, "qkv after RoPE");
        GpuSame(p, o1, o2, "out");
        GpuSame(p, l1, l2, "lse");

        // A pack is only reused by the op right after it: here qkv changes in between and must be packed again.
        p.Gpu.MatmulRopeForward(fused.G, inp.G, w.G, cos.G, sin.G, batch, t, c, nh, hs);
        p.Gpu.Upload(TestData.Floats(3, 3 * rows * c, 2f), fused.G);
        p.Gpu.AttentionForward(o1.G, l1.G, fused.G, batch, t, nh, hs);
        p.Gpu.AttentionForward(o2.G, l2.G, fused.G, batch, t, nh, hs);
        GpuSame(p, o1, o2, "out after qkv changed");
    }

    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData(2, 82, 8)]  // Sudoku: one kernel
    [InlineData(3, 37, 2)]  // one key tile
    [InlineData(1, 64, 1)]  // exactly one tile
    [InlineData(1, 65, 2)]  // two tiles, the second nearly empty
    [InlineData(2, 128, 2)] // the longest for the fused kernel
    [InlineData(1, 1, 1)]
    [InlineData(1, 129, 2)] // longer: RoPE in the pack, then the attention kernel
    public void Rope_attention_forward_is_bitwise_the_rope_kernel_then_the_attention(int batch, int t, int nh)
    {
        const int hs = 64;
        using var p = new BackendPair(cuda.BackendOrSkip(true), output);
        long c = (long)nh * hs;
        // Random tables, not RoPE's (whose halves repeat): a mixed-up half index shows.
        Twin cos = p.Floats(7, (long)t * hs), sin = p.Floats(8, (long)t * hs);
        Twin fused = p.Floats(1, 3L * batch * t * c, 2f), apart = p.Floats(1, 3L * batch * t * c, 2f);
        Twin o1 = p.Zeros(batch * t * c), o2 = p.Zeros(batch * t * c);
        Twin l1 = p.Zeros((long)batch * nh * t), l2 = p.Zeros((long)batch * nh * t);
        long before = p.Gpu.Launches;
        p.Gpu.RopeAttentionForward(o1.G, l1.G, fused.G, cos.G, sin.G, batch, t, nh, hs);
        long launches = p.Gpu.Launches - before;
        p.Gpu.RopeForward(apart.G, cos.G, sin.G, batch, t, nh, hs);
        p.Gpu.AttentionForward(o2.G, l2.G, apart.G, batch, t, nh, hs); // packs on its own
        output.WriteLine($"T = {t}: {launches} launch(es)");
        Assert.Equal(t <= 128 ? 1 : 2, launches);
        GpuSame(p, fused, apart, "qkv after RoPE");
        GpuSame(p, o1, o2, "out");
        GpuSame(p, l1, l2, "lse");

        // A forward nobody differentiates: the same results, qkv only read.
        Twin kept = p.Floats(1, 3L * batch * t * c, 2f), o3 = p.Zeros(batch * t * c), l3 = p.Zeros((long)batch * nh * t);
        before = p.Gpu.Launches;
        p.Gpu.RopeAttentionForward(o3.G, l3.G, kept.G, cos.G, sin.G, batch, t, nh, hs, keepRotated: false);
        Assert.Equal(launches, p.Gpu.Launches - before);
        GpuSame(p, o3, o2, "out, qkv not kept");
        GpuSame(p, l3, l2, "lse, qkv not kept");
        Twin original = p.Floats(1, 3L * batch * t * c, 2f);
        GpuSame(p, kept, original, "qkv, not rotated");
    }

    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData(true, 2, 82, 8, 64)]  // Sudoku, RoPE in the bf16 kernels' stores
    [InlineData(true, 3, 37, 2, 64)]  // T not a multiple of the tiles
    [InlineData(false, 2, 17, 4, 16)] // fp32 path: the attention backward, then the RoPE kernel
    public void Rope_attention_backward_matches_the_cpu(bool bf16, int batch, int t, int nh, int hs)
    {
        using var p = new BackendPair(cuda.BackendOrSkip(bf16), output);
        long c = (long)nh * hs;
        (double[] cosD, double[] sinD) = Kernels.KernelTestUtil.RopeTables(t, hs);
        Twin cos = p.Upload(Kernels.KernelTestUtil.ToFloat(cosD)), sin = p.Upload(Kernels.KernelTestUtil.ToFloat(sinD));
        Twin qkv = p.Floats(1, 3L * batch * t * c, 2f), o = p.Zeros(batch * t * c), lse = p.Zeros((long)batch * nh * t);
        p.Cpu.RopeAttentionForward(o.C, lse.C, qkv.C, cos.C, sin.C, batch, t, nh, hs);
        p.Gpu.RopeAttentionForward(o.G, lse.G, qkv.G, cos.G, sin.G, batch, t, nh, hs);
        Twin dout = p.Floats(2, batch * t * c), dqkv = p.Floats(3, 3L * batch * t * c);
        p.Cpu.RopeAttentionBackward(dqkv.C, dout.C, qkv.C, o.C, lse.C, cos.C, sin.C, batch, t, nh, hs);
        p.Gpu.RopeAttentionBackward(dqkv.G, dout.G, qkv.G, o.G, lse.G, cos.G, sin.G, batch, t, nh, hs);
        p.Close(dqkv, bf16 ? 2e-2 : 1e-5, "dqkv before RoPE (=)");
    }

    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData(2, 82, 8)] // Sudoku
    [InlineData(3, 37, 2)] // T not a multiple of the tiles
    public void Rope_fused_into_the_attention_backward_is_bitwise_the_backward_then_the_rope_kernel(int batch, int t,
        int nh)
    {
        const int hs = 64;
        using var p = new BackendPair(cuda.BackendOrSkip(true), output);
        long c = (long)nh * hs;
        // Random tables, not RoPE's (whose halves repeat): a mixed-up half index shows.
        Twin cos = p.Floats(7, (long)t * hs), sin = p.Floats(8, (long)t * hs);
        Twin qkv = p.Floats(1, 3L * batch * t * c, 2f), o = p.Zeros(batch * t * c), lse = p.Zeros((long)batch * nh * t);
        p.Gpu.AttentionForward(o.G, lse.G, qkv.G, batch, t, nh, hs);
        Twin dout = p.Floats(2, batch * t * c), fused = p.Zeros(3L * batch * t * c), apart = p.Zeros(3L * batch * t * c);
        p.Gpu.RopeAttentionBackward(fused.G, dout.G, qkv.G, o.G, lse.G, cos.G, sin.G, batch, t, nh, hs);
        p.Gpu.AttentionBackward(apart.G, dout.G, qkv.G, o.G, lse.G, batch, t, nh, hs);
        p.Gpu.RopeBackward(apart.G, cos.G, sin.G, batch, t, nh, hs);
        GpuSame(p, fused, apart, "dqkv");
    }

    /// <summary>
    /// <c>attention_backward_kernel3</c> (T ≤ 128: one block per head, from the unpacked buffers) against the split path
    /// (the pack, the dot pre-pass, the dQ and dK/dV kernels): dqkv bitwise, with and without RoPE, T from 1 to 128
    /// (one key tile, exactly one, two with the second nearly empty, two full); and the bf16 copy of dqkv both write
    /// for the q/k/v projection's backward GEMM gives that GEMM bitwise the same dinp and dW.
    /// </summary>
    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData(2, 82, 8, true)]  // Sudoku
    [InlineData(3, 37, 2, true)]
    [InlineData(1, 64, 1, false)]
    [InlineData(1, 65, 2, true)]
    [InlineData(2, 128, 2, true)]
    [InlineData(1, 1, 1, false)]
    public void One_block_attention_backward_is_bitwise_the_split_kernels(int batch, int t, int nh, bool rope)
    {
        const int hs = 64;
        using CudaBackend gpu = cuda.Bf16MatmulBackendOrSkip();
        Assert.True(gpu.UsesBf16Attention(hs));
        Assert.True(gpu.OneBlockAttentionBackward, "the device should allow the one-block backward's shared memory");
        int c = nh * hs, rows = batch * t;
        Buf qkv = BackendBuffers.Up(gpu, TestData.Floats(1, 3 * rows * c, 2f));
        Buf o = gpu.Allocate((long)rows * c, "o"), lse = gpu.Allocate((long)batch * nh * t, "lse");
        gpu.AttentionForward(o, lse, qkv, batch, t, nh, hs);
        Buf dout = BackendBuffers.Up(gpu, TestData.Floats(2, rows * c));
        Buf cos = rope ? BackendBuffers.Up(gpu, TestData.Floats(7, t * hs)) : Buf.Empty; // random tables: a mixed-up
        Buf sin = rope ? BackendBuffers.Up(gpu, TestData.Floats(8, t * hs)) : Buf.Empty; // half index shows
        Buf x = BackendBuffers.Up(gpu, TestData.Floats(4, rows * c));
        Buf w = BackendBuffers.Up(gpu, TestData.Floats(5, 3 * c * c, 0.1f));
        var results = new List<(float[] Dqkv, float[] Dinp, float[] Dw, long Launches, long GemmLaunches)>();
        foreach (bool oneBlock in new[] { true, false })
        {
            gpu.OneBlockAttentionBackward = oneBlock;
            Buf dqkv = BackendBuffers.Up(gpu, TestData.Floats(3, 3 * rows * c)); // stale values: all must be written
            long before = gpu.Launches;
            if (rope) gpu.RopeAttentionBackward(dqkv, dout, qkv, o, lse, cos, sin, batch, t, nh, hs);
            else gpu.AttentionBackward(dqkv, dout, qkv, o, lse, batch, t, nh, hs);
            long launches = gpu.Launches - before;
            Buf dinp = gpu.Allocate((long)rows * c, "dinp"), dw = BackendBuffers.Up(gpu, TestData.Floats(6, 3 * c * c));
            before = gpu.Launches;
            gpu.MatmulBackward(dinp, dw, dqkv, x, w, rows, c, 3 * c); // takes the bf16 copy of dqkv both wrote
            results.Add((BackendBuffers.Down(gpu, dqkv), BackendBuffers.Down(gpu, dinp), BackendBuffers.Down(gpu, dw),
                launches, gpu.Launches - before));
        }
        output.WriteLine($"launches: one block {results[0].Launches}, split {results[1].Launches}");
        Assert.Equal(1, results[0].Launches);
        Assert.Equal(4, results[1].Launches);
        Assert.Equal(results[1].GemmLaunches, results[0].GemmLaunches);
        BitwiseSame(results[0].Dqkv, results[1].Dqkv, "dqkv");
        BitwiseSame(results[0].Dinp, results[1].Dinp, "dinp");
        BitwiseSame(results[0].Dw, results[1].Dw, "dW");
    }

    private void BitwiseSame(float[] x, float[] y, string what)
    {
        Assert.Equal(x.Length, y.Length);
        for (int i = 0; i < x.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(x[i]) != BitConverter.SingleToInt32Bits(y[i]))
                Assert.Fail($"{what}: element {i} differs: {x[i]:G9} vs {y[i]:G9}");
        }
        output.WriteLine($"{what}: bitwise equal ({x.Length} elements)");
    }

    private static void GpuSame(BackendPair p, Twin a, Twin b, string what)
    {
        float[] x = new float[a.G.Length], y = new float[b.G.Length];
        p.Gpu.Download(a.G, x);
        p.Gpu.Download(b.G, y);
        for (int i = 0; i < x.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(x[i]) != BitConverter.SingleToInt32Bits(y[i]))
                Assert.Fail($"{what}: element {i} differs: {x[i]:G9} vs {y[i]:G9}");
        }
        p.Output.WriteLine($"{what}: bitwise equal ({x.Length} elements)");
    }

    private void Compare(bool bf16, int batch, int t, int nh, int hs, double fwdTol, double bwdTol)
    {
        using var p = new BackendPair(cuda.BackendOrSkip(bf16), output);
        Assert.Equal(bf16, p.Gpu.UsesBf16Attention(hs));
        long c = (long)nh * hs;
        Twin qkv = p.Floats(1, 3L * batch * t * c, 2f), o = p.Zeros(batch * t * c), lse = p.Zeros((long)batch * nh * t);
        p.Cpu.AttentionForward(o.C, lse.C, qkv.C, batch, t, nh, hs);
        p.Gpu.AttentionForward(o.G, lse.G, qkv.G, batch, t, nh, hs);
        p.Close(o, fwdTol, "out");
        p.Close(lse, fwdTol, "lse");
        Twin dout = p.Floats(2, batch * t * c), dqkv = p.Floats(3, 3L * batch * t * c);
        // Each backend differentiates its own forward (as the model does).
        p.Cpu.AttentionBackward(dqkv.C, dout.C, qkv.C, o.C, lse.C, batch, t, nh, hs);
        p.Gpu.AttentionBackward(dqkv.G, dout.G, qkv.G, o.G, lse.G, batch, t, nh, hs);
        p.Close(dqkv, bwdTol, "dqkv (=)");
    }
}
