using Hrm.Runtime.Memory;

namespace Hrm.Runtime.Backends.Cuda;

/// <summary>The short-sequence attention (T ≤ 128, head size 64, bf16 tensor cores): the forward's RoPE, pack and
/// attention of one (batch, head) per block (attention.cu's attention_forward_rope kernels), and the whole backward of
/// one (batch, head) per block (attention_backward_short.cu).</summary>
public sealed unsafe partial class CudaBackend
{
    private int _shortKernel;
    private int _oneBlockBackwardSmem = AttentionBackward3Smem;
    private (int Four, int Six) _shortBlocksPerSm = (-1, -1);

    /// <summary>
    /// The bf16-qkv short forward's kernel: 0 (the default) picks attention_forward_rope_kernel6 (one 16-row tile per
    /// warp and pass: 128 registers, 4 resident blocks per SM where shared memory allows) over kernel4 (two tiles at
    /// once: 231 registers, 2 blocks per SM) where the occupancy calculator gives kernel6 more blocks per SM and the
    /// grid (B·NH blocks) is more than kernel4 holds at once (<see cref="ShortKernelFor"/>): batch 768 on an H200,
    /// not the batch-1 solve's 8 blocks, whose warps finish sooner with kernel4; 4 or 6 forces that kernel (tests,
    /// <c>hrm-bench gpu</c>). Bitwise the same results either way. A captured CUDA graph keeps the kernel it captured.
    /// The RopeAttentionForward op (kernel4 and the recorded forwards' kernel3 together) averaged 0.297 ms a call at
    /// batch 768, T = 82 on an H200 (2026-11-30: 1.2 TB/s, latency-bound); kernel6 is not yet measured on a GPU.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not 0, 4 or 6.</exception>
    internal int ShortAttentionKernel
    {
        get => _shortKernel;
        set => _shortKernel = value is 0 or 4 or 6 ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "ShortAttentionKernel: 0 (the rule), 4 or 6");
    }

    /// <summary>4 or 6: the kernel <see cref="ShortAttentionKernel"/> runs for a grid of batch × nh blocks.</summary>
    internal int ShortKernelFor(int batch, int nh)
    {
        if (_shortKernel != 0) return _shortKernel;
        (int four, int six) = ShortAttentionBlocksPerSm;
        return six > four && (long)batch * nh > (long)four * _device.SmCount ? 6 : 4;
    }

    /// <summary>Resident blocks per SM of kernel4 and kernel6 (the occupancy calculator, asked once).</summary>
    internal (int Four, int Six) ShortAttentionBlocksPerSm
    {
        get
        {
            if (_shortBlocksPerSm.Four < 0)
            {
                _shortBlocksPerSm = (_k.AttentionForwardRope4.Function.MaxActiveBlocksPerSm(128, 0),
                    _k.AttentionForwardRope6.Function.MaxActiveBlocksPerSm(128, 0));
            }
            return _shortBlocksPerSm;
        }
    }

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
            Kernel kernel = ShortKernelFor(batch, nh) == 6 ? _k.AttentionForwardRope6 : _k.AttentionForwardRope4;
            Launch(kernel, "ppppppiii", grid, 128, 0, f4);
        }
        else
        {
            void** f = stackalloc void*[] { &po, &ph, &pl, &pq, &pc, &ps, &batch, &t, &nh, &k };
            Launch(_k.AttentionForwardRope3, "ppppppiiii", grid, 128, 0, f);
        }
        if (po != 0) Shadowed(output, ph, (long)batch * t * c);
        Done(nameof(RopeAttentionForward));
    }

    /// <summary>
    /// The one-block backward (checked by the caller: bf16 attention, T ≤ 128, sizes, alignment): kernel3 on the fp32,
    /// post-RoPE qkv of <c>attention_forward_rope_kernel3</c>; kernel4 on a bf16, pre-RoPE qkv
    /// (<see cref="Bf16QkvRecorded"/>), rotated again in the kernel with <paramref name="cos"/>, <paramref name="sin"/>
    /// (empty: no RoPE). A bf16 <paramref name="dqkv"/> gets the gradient in bf16 only; an fp32 one gets it in fp32 and
    /// the bf16 copy for the q/k/v projection's backward GEMM (<see cref="ShadowOf"/>).
    /// </summary>
    private void OneBlockBackward(Buf dqkv, Buf dout, Buf qkv, Buf output, Buf lse, Buf cos, Buf sin, int batch,
        int t, int nh)
    {
        long n = 3L * batch * t * nh * 64;
        bool halfGrad = IsBf16(dqkv);
        ulong pdq = halfGrad ? 0 : Ptr(dqkv), ph = halfGrad ? Ptr(dqkv) : ShadowOf(dqkv, n);
        if (halfGrad) _shadow = default;
        ulong pdo = Ptr(dout), pq = Ptr(qkv), po = Ptr(output), pl = Ptr(lse);
        ulong pc = cos.IsEmpty ? 0 : Ptr(cos), ps = sin.IsEmpty ? 0 : Ptr(sin);
        void** a = stackalloc void*[] { &pdq, &ph, &pc, &ps, &pq, &pdo, &po, &pl, &batch, &t, &nh };
        Launch(IsBf16(qkv) ? _k.AttentionBackward4 : _k.AttentionBackward3, "ppppppppiii",
            new Dim3(1, (uint)nh, (uint)batch), 128, (uint)_oneBlockBackwardSmem, a);
        if (!halfGrad) Shadowed(dqkv, ph, n);
        Done(nameof(AttentionBackward));
    }

    /// <summary>
    /// The dynamic shared memory the one-block backwards launch with: <see cref="AttentionBackward3Smem"/> (what they
    /// use), or more, which only lowers how many of their blocks an SM holds (<c>hrm-bench gpu</c> times kernel4 at
    /// kernel3's occupancy this way). At most the device's opt-in limit; where the one-block backward is not allowed,
    /// not settable.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Below <see cref="AttentionBackward3Smem"/> or above the device's
    /// limit.</exception>
    /// <exception cref="InvalidOperationException">The device does not allow the one-block backward.</exception>
    internal int OneBlockBackwardSmem
    {
        get => _oneBlockBackwardSmem;
        set
        {
            if (!_attentionBackward3Allowed)
                throw new InvalidOperationException("the one-block attention backward is not allowed on this device");
            ArgumentOutOfRangeException.ThrowIfLessThan(value, AttentionBackward3Smem);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, _device.MaxSharedMemoryPerBlockOptIn);
            _k.AttentionBackward3.Function.SetMaxDynamicSharedMemory(value);
            _k.AttentionBackward4.Function.SetMaxDynamicSharedMemory(value);
            _oneBlockBackwardSmem = value;
        }
    }

    /// <summary>What <see cref="OneBlockBackwardSmem"/> starts at: the bytes the kernels use.</summary>
    internal const int OneBlockBackwardSmemDefault = AttentionBackward3Smem;

    /// <summary>The device's opt-in limit of dynamic shared memory per block.</summary>
    internal int DeviceMaxSharedMemoryPerBlockOptIn => _device.MaxSharedMemoryPerBlockOptIn;

    /// <summary>Resident blocks per SM of the one-block backward's kernel3 (fp32 qkv, 236 registers) and kernel4 (bf16
    /// qkv, 168) at <see cref="OneBlockBackwardSmem"/> (the occupancy calculator).</summary>
    internal (int Three, int Four) OneBlockBackwardBlocksPerSm =>
        (_k.AttentionBackward3.Function.MaxActiveBlocksPerSm(128, _oneBlockBackwardSmem),
            _k.AttentionBackward4.Function.MaxActiveBlocksPerSm(128, _oneBlockBackwardSmem));
}
