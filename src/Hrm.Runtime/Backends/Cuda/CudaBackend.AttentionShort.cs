using Hrm.Runtime.Memory;

namespace Hrm.Runtime.Backends.Cuda;

/// <summary>The short-sequence attention forward (T ≤ 128, head size 64, bf16 tensor cores): RoPE, the pack and the
/// attention of one (batch, head) per block (attention.cu's attention_forward_rope kernels).</summary>
public sealed unsafe partial class CudaBackend
{
    /// <summary>
    /// The bf16-qkv short forward's kernel: 0 (the default) picks attention_forward_rope_kernel6 (4 resident blocks
    /// per SM: one 16-row tile per warp and pass, 128 registers) where the grid (B·NH blocks) is more than kernel4
    /// holds at once (2 per SM: two tiles at once, 231 registers), and kernel4 for smaller grids (the batch-1 solve:
    /// 8 blocks), whose warps finish sooner; 4 or 6 forces that kernel (tests, <c>hrm-bench gpu</c>). Bitwise the same
    /// results either way. kernel4 took 0.297 ms a call at batch 768, T = 82 on an H200 (2026-11-30: 1.2 TB/s,
    /// latency-bound); kernel6 is not yet measured on a GPU.
    /// </summary>
    internal int ShortAttentionKernel { get; set; }

    /// <summary>RoPE, pack and bf16 attention in one kernel (head size 64, T &lt;= 128: one query block per head):
    /// kernel3 on an fp32 qkv; on a bf16 qkv kernel6 or kernel4 (<see cref="ShortAttentionKernel"/>).
    /// </summary>
    private void RopeAttentionForward3(Buf output, Buf lse, Buf qkv, Buf cos, Buf sin, int batch, int t, int nh,
        bool keep)
    {
        Enter();
        CheckAttention(batch, t, nh, 64);
        long c = (long)nh * 64;
        NeedBf16Ok(output, (long)batch * t * c, nameof(output));
        Need(lse, (long)batch * nh * t, nameof(lse));
        NeedBf16Ok(qkv, 3L * batch * t * c, nameof(qkv));
        Need(cos, (long)t * 64, nameof(cos));
        Need(sin, (long)t * 64, nameof(sin));
        _packed = default;
        if ((long)batch * nh == 0 || t == 0) return;
        Aligned(qkv, IsBf16(qkv) ? 8 : 16, nameof(qkv));
        Aligned(cos, 16, nameof(cos));
        Aligned(sin, 16, nameof(sin));
        Aligned(output, IsBf16(output) ? 4 : 8, nameof(output));
        (ulong po, ulong ph) = OutputAndShadow(output, (long)batch * t * c);
        ulong pl = Ptr(lse), pq = Ptr(qkv);
        ulong pc = Ptr(cos), ps = Ptr(sin);
        int k = keep ? 1 : 0;
        var grid = new Dim3(1, (uint)nh, (uint)batch);
        if (IsBf16(qkv))
        {
            void** f4 = stackalloc void*[] { &po, &ph, &pl, &pq, &pc, &ps, &batch, &t, &nh };
            bool six = ShortAttentionKernel == 6 ||
                (ShortAttentionKernel == 0 && (long)batch * nh > 2L * _device.SmCount);
            Launch(six ? _k.AttentionForwardRope6 : _k.AttentionForwardRope4, "ppppppiii", grid, 128, 0, f4);
        }
        else
        {
            void** f = stackalloc void*[] { &po, &ph, &pl, &pq, &pc, &ps, &batch, &t, &nh, &k };
            Launch(_k.AttentionForwardRope3, "ppppppiiii", grid, 128, 0, f);
        }
        if (po != 0) Shadowed(output, ph, (long)batch * t * c);
        Done();
    }
}
