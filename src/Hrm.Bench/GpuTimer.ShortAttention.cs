using Hrm.Runtime.Backends.Cuda;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Numerics;

namespace Hrm.Bench;

public static partial class GpuTimer
{
    /// <summary>
    /// The Sudoku config's attention (T = 82, NH = 8, HS = 64) at batch <paramref name="b"/>, the op by op profile's
    /// largest gap to bandwidth: the no-grad RoPE + attention forward on a bf16 qkv by kernel4 (2 blocks per SM) and by
    /// kernel6 (4 blocks per SM; bitwise the same), side by side; the recorded forward (kernel3, fp32 qkv, rotated in
    /// place) and its backward (attention_backward_kernel3), then the backward of a recorded bf16 qkv
    /// (<see cref="CudaBackendOptions.Bf16RecordedQkv"/>: attention_backward_kernel4, dqkv in bf16 only; its forward is
    /// the kernel4/6 rows').
    /// </summary>
    private static void ShortAttention(TextWriter o, CudaBackendOptions options, int b)
    {
        const int t = 82, nh = 8, hs = 64;
        using CudaBackend backend = CudaBackend.Create(options with { Bf16Matmul = true, Bf16Intermediates = true });
        if (!backend.Bf16QkvForward(t, hs))
        {
            Notes.Add("T=82 attention rows: not run (they need the bf16 attention: no --fp32-attention)");
            return;
        }
        (int four, int six) = backend.ShortAttentionBlocksPerSm;
        long c = (long)nh * hs, n = (long)b * t * c;
        Buf qkv = backend.Allocate(3 * n, "qkv"), output = backend.Allocate(n, "out");     // (B, T, 3C), (B, T, C)
        Buf lse = backend.Allocate((long)b * nh * t, "lse"), dout = backend.Allocate(n, "dout");
        Buf dqkv = backend.Allocate(3 * n, "dqkv"), words = backend.Allocate((3 * n + 1) / 2, "qkv16");
        Buf qkv16 = new(words.Address, 3 * n, sizeof(ushort));                            // (B, T, 3C) bf16
        Buf dwords = backend.Allocate((3 * n + 1) / 2, "dqkv16");
        Buf dqkv16 = new(dwords.Address, 3 * n, sizeof(ushort));                          // (B, T, 3C) bf16
        Buf cos = backend.Allocate(t * hs, "cos"), sin = backend.Allocate(t * hs, "sin"); // (T, 64)
        var rng = new Random(1);
        float[] v = new float[3 * n], pairs = new float[(3 * n + 1) / 2]; // host copies: 0.6 GB at batch 768
        for (int i = 0; i < v.Length; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        for (int i = 0; i < pairs.Length; i++)
        {
            uint lo = BFloat16.FromFloat(v[2 * i]), hi = 2 * i + 1 < v.Length ? BFloat16.FromFloat(v[2 * i + 1]) : 0u;
            pairs[i] = BitConverter.UInt32BitsToSingle(lo | (hi << 16));
        }
        backend.Upload(v, qkv);
        backend.Upload(v.AsSpan(0, (int)n), dout);
        backend.Upload(pairs, words);
        backend.Upload(v.AsSpan(0, t * hs), cos);
        backend.Upload(v.AsSpan(t * hs, t * hs), sin);
        double flop = 4.0 * b * nh * (double)t * t * hs;
        foreach (int kernel in new[] { 4, 6 })
        {
            backend.ShortAttentionKernel = kernel;
            double ms = Time(backend, () => backend.RopeAttentionForward(output, lse, qkv16, cos, sin, b, t, nh, hs,
                keepRotated: false), 11, out _);
            Row(o, $"RoPE + attention forward (bf16), T={t}, NH={nh}, HS={hs}, bf16 qkv, no-grad, kernel{kernel} " +
                $"({(kernel == 4 ? four : six)} blocks per SM)", b, ms, flop);
        }
        backend.ShortAttentionKernel = 0;
        // The recorded forward rotates qkv in place: upload it again before each run would time the upload too, and
        // rotating rotated values changes nothing the timing depends on.
        double rec = Time(backend, () => backend.RopeAttentionForward(output, lse, qkv, cos, sin, b, t, nh, hs), 11,
            out _);
        Row(o, $"RoPE + attention forward (bf16), T={t}, NH={nh}, HS={hs}, fp32 qkv rotated in place (kernel3)", b, rec,
            flop);
        (int three, int fourBlocks) = backend.OneBlockBackwardBlocksPerSm;
        double bwd = Time(backend, () => backend.RopeAttentionBackward(dqkv, dout, qkv, output, lse, cos, sin, b, t,
            nh, hs), 11, out _);
        Row(o, $"RoPE + attention backward (bf16), T={t}, NH={nh}, HS={hs} (attention_backward_kernel3, {three} " +
            "blocks per SM)", b, bwd, 2 * flop);
        ShortBackward16(o, backend, () => backend.RopeAttentionBackward(dqkv16, dout, qkv16, output, lse, cos, sin, b,
            t, nh, hs), $"T={t}, NH={nh}, HS={hs}", b, 2 * flop, fourBlocks, three);
    }

    /// <summary>
    /// The backward of a recorded bf16 qkv (attention_backward_kernel4: bf16 qkv and dqkv) at its own occupancy, then,
    /// where that is above kernel3's, at kernel3's (its shared memory padded until the occupancy calculator says so):
    /// the bytes' share and the occupancy's share of the difference to kernel3, apart.
    /// </summary>
    private static void ShortBackward16(TextWriter o, CudaBackend backend, Action run, string shape, int b,
        double flop, int blocks, int kernel3Blocks)
    {
        double ms = Time(backend, run, 11, out _);
        Row(o, $"RoPE + attention backward (bf16), {shape}, bf16 qkv and dqkv (attention_backward_kernel4, " +
            $"Bf16RecordedQkv, {blocks} blocks per SM)", b, ms, flop);
        if (blocks <= kernel3Blocks) return;
        int smem = backend.OneBlockBackwardSmem, limit = backend.DeviceMaxSharedMemoryPerBlockOptIn;
        while (backend.OneBlockBackwardBlocksPerSm.Four > kernel3Blocks && smem + 1024 <= limit)
            backend.OneBlockBackwardSmem = smem += 1024;
        int padded = backend.OneBlockBackwardBlocksPerSm.Four;
        double slow = Time(backend, run, 11, out _);
        Row(o, $"RoPE + attention backward (bf16), {shape}, bf16 qkv and dqkv (attention_backward_kernel4, " +
            $"{padded} blocks per SM: {smem} bytes of shared memory)", b, slow, flop);
        backend.OneBlockBackwardSmem = CudaBackend.OneBlockBackwardSmemDefault;
    }
}
