using Hrm.Runtime.Backends.Cuda;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Numerics;
using Hrm.Runtime.Tests.TestUtil;
using static Hrm.Runtime.Tests.TestUtil.BackendBuffers;

namespace Hrm.Runtime.Tests.Cuda;

/// <summary>
/// The recorded bf16 qkv (<see cref="CudaBackendOptions.Bf16RecordedQkv"/>, GPU only): the attention backward on the
/// bf16, never rotated qkv (<c>attention_backward_kernel4</c>, RoPE again in the kernel) against the fp32 path on the
/// same values (<c>attention_forward_rope_kernel3</c> rotating them in place, then <c>attention_backward_kernel3</c>):
/// the forward's out and lse and the backward's dqkv bitwise, its bf16-only dqkv the fp32 one rounded, and the q/k/v
/// projection's backward GEMM bitwise the same from either.
/// </summary>
[Collection("Cuda")]
public sealed class CudaBf16RecordedQkvTests(CudaFixture cuda, ITestOutputHelper output)
{
    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData(2, 82, 8, true)]  // Sudoku
    [InlineData(3, 37, 2, true)]  // one key tile, a partial row tile
    [InlineData(1, 64, 1, false)] // exactly one tile, no RoPE
    [InlineData(1, 65, 2, true)]  // one row in the second tile
    [InlineData(2, 128, 2, true)] // the longest the one-block backward takes
    [InlineData(1, 1, 1, false)]
    [InlineData(1, 1, 1, true)]
    public void The_backward_on_the_bf16_qkv_is_the_fp32_path_on_the_rotated_values(int batch, int t, int nh,
        bool rope)
    {
        using CudaBackend gpu = Backend(new CudaBackendOptions());
        Assert.True(gpu.Bf16QkvRecorded(t, 64));
        int c = nh * 64, rows = batch * t;
        long n = 3L * rows * c;
        float[] qkv = [.. TestData.Floats(1, (int)n, 2f).Select(BFloat16.Round)];
        Buf q32 = Up(gpu, qkv), q16 = UpBf16(gpu, qkv);
        Buf cos = rope ? Up(gpu, TestData.Floats(7, t * 64)) : Buf.Empty; // random tables: a mixed-up half index shows
        Buf sin = rope ? Up(gpu, TestData.Floats(8, t * 64)) : Buf.Empty;
        Buf o32 = gpu.Allocate((long)rows * c, "o32"), l32 = gpu.Allocate((long)batch * nh * t, "l32");
        Buf o16 = gpu.Allocate((long)rows * c, "o16"), l16 = gpu.Allocate((long)batch * nh * t, "l16");
        if (rope)
        {
            gpu.RopeAttentionForward(o32, l32, q32, cos, sin, batch, t, nh, 64); // kernel3: rotates q32 in place
            gpu.RopeAttentionForward(o16, l16, q16, cos, sin, batch, t, nh, 64, keepRotated: false); // kernel4 or 6
            Assert.Equal(Bits(Down(gpu, o32)), Bits(Down(gpu, o16)));
            Assert.Equal(Bits(Down(gpu, l32)), Bits(Down(gpu, l16)));
        }
        else
        {
            gpu.AttentionForward(o32, l32, q32, batch, t, nh, 64); // no forward reads a bf16 qkv without RoPE
            (o16, l16) = (o32, l32);
        }
        Buf dout = Up(gpu, TestData.Floats(2, rows * c)), x = Up(gpu, TestData.Floats(4, rows * c));
        Buf w = Up(gpu, TestData.Floats(5, 3 * c * c, 0.1f));
        var runs = new List<(float[] Dqkv, int[] Dinp, int[] Dw)>();
        foreach ((Buf q, Buf o, Buf l, bool half) in new[] { (q32, o32, l32, false), (q16, o16, l16, false),
                     (q16, o16, l16, true), (q32, o32, l32, true) }) // kernel3 and 4, each into fp32 and bf16 dqkv
        {
            Buf dqkv = half ? UpBf16(gpu, TestData.Floats(3, (int)n)) : Up(gpu, TestData.Floats(3, (int)n)); // stale
            long before = gpu.Launches;
            if (rope) gpu.RopeAttentionBackward(dqkv, dout, q, o, l, cos, sin, batch, t, nh, 64);
            else gpu.AttentionBackward(dqkv, dout, q, o, l, batch, t, nh, 64);
            Assert.Equal(1, gpu.Launches - before);
            Buf dinp = gpu.Allocate((long)rows * c, "dinp"), dw = Up(gpu, TestData.Floats(6, 3 * c * c));
            gpu.MatmulBackward(dinp, dw, dqkv, x, w, rows, c, 3 * c); // the bf16 copy, or the bf16 dqkv as it is
            runs.Add((half ? DownBf16(gpu, dqkv) : Down(gpu, dqkv), Bits(Down(gpu, dinp)), Bits(Down(gpu, dw))));
        }
        Assert.Equal(Bits(runs[0].Dqkv), Bits(runs[1].Dqkv));
        Assert.Equal(Bits([.. runs[0].Dqkv.Select(BFloat16.Round)]), Bits(runs[2].Dqkv));
        Assert.Equal(Bits(runs[2].Dqkv), Bits(runs[3].Dqkv));
        for (int i = 1; i < runs.Count; i++)
        {
            Assert.Equal(runs[0].Dinp, runs[i].Dinp);
            Assert.Equal(runs[0].Dw, runs[i].Dw);
        }
        Assert.Equal(qkv, DownBf16(gpu, q16)); // read only
        output.WriteLine($"dqkv, dinp, dW bitwise over {n} / {rows * c} / {3 * c * c} elements");
    }

    [Trait("Category", "Gpu")]
    [Fact]
    public void The_recorded_bf16_qkv_is_offered_and_taken_only_where_the_one_block_backward_runs()
    {
        using CudaBackend gpu = Backend(new CudaBackendOptions());
        Assert.True(gpu.Bf16QkvRecorded(82, 64));
        Assert.False(gpu.Bf16QkvRecorded(129, 64)); // the split backward: no bf16 qkv
        Assert.False(gpu.Bf16QkvRecorded(82, 32));
        using (CudaBackend off = Backend(new CudaBackendOptions { Bf16RecordedQkv = false }))
            Assert.False(off.Bf16QkvRecorded(82, 64));
        using (CudaBackend fp32 = Backend(new CudaBackendOptions { Bf16Intermediates = false }))
            Assert.False(fp32.Bf16QkvRecorded(82, 64));
        const int t = 129, nh = 1;
        long n = 3L * t * 64;
        Buf q16 = AllocBf16(gpu, n), q32 = gpu.Allocate(n, "q"), d32 = gpu.Allocate(n, "d"), d16 = AllocBf16(gpu, n);
        Buf o = gpu.Allocate(t * 64, "o"), l = gpu.Allocate(t, "l"), dout = gpu.Allocate(t * 64, "dout");
        var e = Assert.Throws<ArgumentException>(() => gpu.AttentionBackward(d32, dout, q16, o, l, 1, t, nh, 64));
        Assert.Equal("qkv", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => gpu.AttentionBackward(d16, dout, q32, o, l, 1, t, nh, 64));
        Assert.Equal("dqkv", e.ParamName);
        gpu.OneBlockAttentionBackward = false; // the split kernels at T <= 128 take neither
        Assert.False(gpu.Bf16QkvRecorded(82, 64));
        Buf s16 = AllocBf16(gpu, 3L * 82 * 64), s32 = gpu.Allocate(3L * 82 * 64, "s");
        Buf so = gpu.Allocate(82 * 64, "so"), sl = gpu.Allocate(82, "sl"), sd = gpu.Allocate(82 * 64, "sd");
        Assert.Throws<ArgumentException>(() => gpu.AttentionBackward(s32, sd, s16, so, sl, 1, 82, nh, 64));
        output.WriteLine(e.Message);
    }

    [Trait("Category", "Gpu")]
    [Fact]
    public void Padding_the_backward_s_shared_memory_lowers_its_occupancy_not_its_results()
    {
        using CudaBackend gpu = Backend(new CudaBackendOptions());
        const int batch = 2, t = 82, nh = 2;
        int c = nh * 64, rows = batch * t;
        (int three, int four) = gpu.OneBlockBackwardBlocksPerSm;
        output.WriteLine($"{gpu.DeviceDescription}: blocks per SM: kernel3 {three}, kernel4 {four}");
        Assert.True(three >= 1 && four >= three, $"kernel3 {three}, kernel4 {four} blocks per SM");
        Buf q16 = UpBf16(gpu, TestData.Floats(1, 3 * rows * c, 2f)), dout = Up(gpu, TestData.Floats(2, rows * c));
        Buf o = Up(gpu, TestData.Floats(3, rows * c)), l = Up(gpu, TestData.Floats(4, batch * nh * t, 0.5f));
        Buf cos = Up(gpu, TestData.Floats(7, t * 64)), sin = Up(gpu, TestData.Floats(8, t * 64));
        int[] Run()
        {
            Buf d = AllocBf16(gpu, 3L * rows * c);
            gpu.RopeAttentionBackward(d, dout, q16, o, l, cos, sin, batch, t, nh, 64);
            return Bits(DownBf16(gpu, d));
        }
        int[] plain = Run();
        int padded = Math.Min(CudaBackend.OneBlockBackwardSmemDefault + 65536, gpu.DeviceMaxSharedMemoryPerBlockOptIn);
        gpu.OneBlockBackwardSmem = padded;
        // fewer where it held more than one (the emulator holds 1 of anything), and never more
        int after = gpu.OneBlockBackwardBlocksPerSm.Four;
        Assert.True(four > 1 ? after < four : after <= four, $"kernel4: {four} -> {after} blocks per SM");
        Assert.Equal(plain, Run());
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            gpu.OneBlockBackwardSmem = CudaBackend.OneBlockBackwardSmemDefault - 1);
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            gpu.OneBlockBackwardSmem = gpu.DeviceMaxSharedMemoryPerBlockOptIn + 1);
        Assert.Equal(padded, gpu.OneBlockBackwardSmem);
    }

    private CudaBackend Backend(CudaBackendOptions options) => cuda.Bf16MatmulBackendOrSkip(options);

    private static int[] Bits(float[] v) => [.. v.Select(BitConverter.SingleToInt32Bits)];
}
