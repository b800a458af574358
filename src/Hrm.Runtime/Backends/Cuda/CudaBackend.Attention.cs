using Hrm.Runtime.Memory;

namespace Hrm.Runtime.Backends.Cuda;

/// <summary>
/// Attention (attention.cu, attention_backward.cu, attention_f32.cu). The version is picked here, in one place:
/// kernel2 (bf16 tensor cores) when HS = 64 and <see cref="CudaBackendOptions.Bf16Attention"/> is set, kernel1 (fp32,
/// HS ≤ 128) otherwise; the forward and the backward of a call always use the same one.
/// </summary>
public sealed unsafe partial class CudaBackend
{
    private bool _packRequired;   // RopeAttentionForward(keepRotated: false): the attention must take the pack

    private const int AttentionF32MaxHeadSize = 128;
    private WeightReuseScope _reuse;
    private long _ops;            // ops entered so far (Enter): tells whether anything ran between two ops
    private PackedQkv _packed;    // the qkv that the last op rotated and packed into the qkvh scratch, if any

    /// <summary>True when attention with head size <paramref name="hs"/> runs the bf16 tensor-core kernels.</summary>
    public bool UsesBf16Attention(int hs) => hs == 64 && Options.Bf16Attention;

    /// <inheritdoc/>
    /// <remarks>Inside a scope the bf16 copy of each weight (<see cref="CudaBackendOptions.Bf16Matmul"/>) is made once;
    /// the fp32 GEMMs read the weights as they are. Opening the outermost scope converts every bf16 copy the backend
    /// holds right away, so the recordings made in an earlier scope (they skip converting the weights) replay on
    /// fresh copies: a solver's or <c>Evaluate</c>'s graph is captured once, not once per scope.</remarks>
    public void BeginWeightReuse()
    {
        bool outermost = !_reuse.Open;
        _reuse.Begin();
        if (outermost && Options.Bf16Matmul)
        {
            Enter();
            RefreshWeightBits();
        }
    }

    /// <inheritdoc/>
    /// <remarks>After the outermost scope the bf16 weight copies are stale; recordings made in a scope replay only
    /// in a scope (<see cref="MemoryEpoch"/>).</remarks>
    public void EndWeightReuse()
    {
        if (!_reuse.End()) return;
        ForgetWeightBits();
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The GEMM, then RoPE. On the bf16 attention path RoPE runs fused into the attention's pack
    /// (<c>attention_pack_rope_kernel2</c>: Q and K rotated in place, bitwise as the RoPE kernel, and Q, K, V packed
    /// to bf16), so an <see cref="AttentionForward"/> on the same qkv as the very next op skips its own pack; any
    /// other op in between and it packs again. Otherwise the GEMM, then the RoPE kernel.
    /// </remarks>
    public void MatmulRopeForward(Buf qkv, Buf inp, Buf weight, Buf cos, Buf sin, int batch, int t, int k, int nh,
        int hs)
    {
        MatmulForward(qkv, inp, weight, batch * t, k, 3 * nh * hs);
        if (UsesBf16Attention(hs)) PackRopeQkv(qkv, cos, sin, batch, t, nh);
        else RopeForward(qkv, cos, sin, batch, t, nh, hs);
    }

    /// <inheritdoc/>
    /// <remarks>bf16 path, T &lt;= 128: one kernel (<c>attention_forward_rope_kernel3</c>: RoPE in place, the pack into
    /// shared memory, the attention; bitwise the two kernels below); bf16 path, longer T: RoPE fused into the pack
    /// (see <see cref="MatmulRopeForward"/>), then the attention kernel; fp32 path: the RoPE kernel, then the attention
    /// kernel. Without <paramref name="keepRotated"/> the bf16 paths rotate only what they pack (qkv is read, not
    /// written: two thirds of its bytes fewer to write per call). A bf16 qkv (<see cref="Bf16QkvForward"/>, keepRotated
    /// false only) goes to <c>attention_forward_rope_kernel4</c> or <c>_kernel6</c> (kernel3 reading bf16; see
    /// <see cref="ShortAttentionKernel"/>) or, for longer T, to
    /// <c>attention_rope_rows_kernel1</c> (Q and K rotated into the scratch in qkv's own layout, V not copied) and
    /// <c>attention_forward_kernel5</c> (reading those rows and V where they lie).</remarks>
    public void RopeAttentionForward(Buf output, Buf lse, Buf qkv, Buf cos, Buf sin, int batch, int t, int nh, int hs,
        bool keepRotated = true)
    {
        if (IsBf16(qkv))
        {
            if (keepRotated || !Bf16QkvForward(t, hs))
                throw new ArgumentException("qkv: a bf16 qkv is read only (keepRotated false) and only where " +
                    $"Bf16QkvForward(T, HS) holds (bf16 intermediates and attention, HS 64); got T = {t}, HS = {hs}, " +
                    $"keepRotated {keepRotated}", nameof(qkv));
            if (t <= 128)
            {
                RopeAttentionForward3(output, lse, qkv, cos, sin, batch, t, nh, keep: false);
                return;
            }
        }
        if (UsesBf16Attention(hs) && t <= 128)
        {
            RopeAttentionForward3(output, lse, qkv, cos, sin, batch, t, nh, keepRotated);
            return;
        }
        if (UsesBf16Attention(hs)) PackRopeQkv(qkv, cos, sin, batch, t, nh, keepRotated);
        else RopeForward(qkv, cos, sin, batch, t, nh, hs);
        // Without keepRotated only the pack holds the rotated Q and K: the attention must take it, not pack qkv again.
        _packRequired = !keepRotated && UsesBf16Attention(hs);
        try
        {
            AttentionForward(output, lse, qkv, batch, t, nh, hs);
        }
        finally
        {
            _packRequired = false;
        }
    }

    /// <summary>
    /// The attention kernels' (out, outh) for <paramref name="output"/>: an fp32 output and its bf16 copy for the next
    /// GEMM (<see cref="ShadowOf"/>), or, for a bf16 output (the no-grad forwards' bf16 attention output,
    /// <see cref="Bf16StreamForward"/>), no fp32 values and the output itself.
    /// </summary>
    private (ulong Out, ulong Outh) OutputAndShadow(Buf output, long count)
    {
        if (!IsBf16(output)) return (Ptr(output), ShadowOf(output, count));
        _shadow = default;
        return (0, Ptr(output));
    }

    /// <summary>
    /// RoPE on Q and K of qkv (B,T,3C) (in place when <paramref name="keep"/>) and qkv packed into the qkvh scratch
    /// (3,B,NH,T,64) bf16, in one pass; remembered so that an attention forward on this qkv right after it reuses the
    /// pack. A bf16 qkv (read only) gets its rotated Q and K written into the scratch in its own layout (B,T,3C)
    /// instead, V not copied (<c>attention_rope_rows_kernel1</c>): the attention reads V from qkv itself.
    /// </summary>
    private void PackRopeQkv(Buf qkv, Buf cos, Buf sin, int batch, int t, int nh, bool keep = true)
    {
        Enter();
        CheckAttention(batch, t, nh, 64);
        NeedBf16Ok(qkv, 3L * batch * t * nh * 64, nameof(qkv));
        if (IsBf16(qkv) && keep)
            throw new ArgumentException("qkv: a bf16 qkv is read only; it cannot hold the rotated Q and K", nameof(qkv));
        Need(cos, (long)t * 64, nameof(cos));
        Need(sin, (long)t * 64, nameof(sin));
        _packed = default;
        if ((long)batch * t * nh == 0) return;
        Aligned(qkv, 16, nameof(qkv)); // fp32: float4 loads; bf16: the attention reads V in place with 16-byte copies
        ulong qkvh = _qkvh.Ensure(3L * batch * t * nh * 64, _stream), pq = Ptr(qkv), pc = Ptr(cos), ps = Ptr(sin);
        int k = keep ? 1 : 0;
        uint grid = checked((uint)((long)batch * t));
        if (IsBf16(qkv)) // read only: keep does not apply
        {
            void** a3 = stackalloc void*[] { &qkvh, &pq, &pc, &ps, &batch, &t, &nh };
            Launch(_k.AttentionRopeRows1, "ppppiii", grid, 256, 0, a3);
        }
        else
        {
            void** a = stackalloc void*[] { &qkvh, &pq, &pc, &ps, &batch, &t, &nh, &k };
            Launch(_k.AttentionPackRope2, "ppppiiii", grid, 256, 0, a);
        }
        Done();
        _packed = new PackedQkv(qkv.Address, qkv.Length, IsBf16(qkv), batch, t, nh, _ops);
    }

    /// <summary>True when the op just before this one packed exactly this qkv (nothing can have changed it since).</summary>
    private bool TakePacked(Buf qkv, int batch, int t, int nh)
    {
        PackedQkv p = _packed;
        _packed = default;
        return p.Op == _ops - 1 && p.Qkv == qkv.Address && p.Length == qkv.Length && p.Bf16 == IsBf16(qkv) &&
            p.Batch == batch && p.T == t && p.NH == nh;
    }

    /// <inheritdoc/>
    /// <remarks>bf16 path (HS 64): an fp32 qkv is packed per head into the qkvh scratch (unless the op just before
    /// packed it: <see cref="PackRopeQkv"/>), then <c>attention_forward_kernel2</c>; a bf16 qkv is read where it lies
    /// by <c>attention_forward_kernel5</c>, no pack (Q and K from the scratch when <see cref="PackRopeQkv"/> rotated
    /// them just before). fp32 path: <c>attention_forward_kernel1</c>; it takes no bf16 qkv.</remarks>
    public void AttentionForward(Buf output, Buf lse, Buf qkv, int batch, int t, int nh, int hs)
    {
        Enter();
        CheckAttention(batch, t, nh, hs);
        long c = (long)nh * hs;
        NeedBf16Ok(output, (long)batch * t * c, nameof(output));
        Need(lse, (long)batch * nh * t, nameof(lse));
        NeedBf16Ok(qkv, 3L * batch * t * c, nameof(qkv));
        if (IsBf16(qkv) && !UsesBf16Attention(hs))
            throw new ArgumentException("qkv: a bf16 qkv needs the bf16 attention (head size 64)", nameof(qkv));
        if (IsBf16(output) && !UsesBf16Attention(hs))
            throw new ArgumentException("output: a bf16 output needs the bf16 attention (head size 64)", nameof(output));
        if ((long)batch * nh == 0 || t == 0 || hs == 0) return;
        ulong po = Ptr(output), pl = Ptr(lse), pq = Ptr(qkv);
        if (UsesBf16Attention(hs))
        {
            Aligned(qkv, 16, nameof(qkv));
            Aligned(output, IsBf16(output) ? 4 : 8, nameof(output));
            bool packed = TakePacked(qkv, batch, t, nh);
            if (!packed && _packRequired)
                throw new InvalidOperationException("RopeAttentionForward without keepRotated: the rotated pack was not " +
                    "the attention's input (an op ran in between); qkv itself is not rotated");
            (po, ulong ph) = OutputAndShadow(output, (long)batch * t * c);
            var grid = new Dim3(Cdiv(t, 128), (uint)nh, (uint)batch);
            if (IsBf16(qkv))
            {
                // (B, T, 3C) rows: Q at 0, K at C, V at 2C of each; Q and K rotated in the scratch when packed.
                ulong rows = packed ? _qkvh.Ensure(3L * batch * t * c, _stream) : pq;
                ulong q = rows, k = rows + (ulong)(2 * c), v = pq + (ulong)(4 * c);
                long ld = 3 * c;
                void** f5 = stackalloc void*[] { &po, &ph, &pl, &q, &k, &v, &ld, &batch, &t, &nh };
                Launch(_k.AttentionForward5, "ppppppliii", grid, 128, 0, f5);
            }
            else
            {
                ulong qkvh = packed ? _qkvh.Ensure(3L * batch * t * nh * 64, _stream) : PackQkv(pq, batch, t, nh);
                void** f = stackalloc void*[] { &po, &ph, &pl, &qkvh, &batch, &t, &nh };
                Launch(_k.AttentionForward2, "ppppiii", grid, 128, 0, f);
            }
            if (po != 0) Shadowed(output, ph, (long)batch * t * c);
        }
        else
        {
            void** f = stackalloc void*[] { &po, &pl, &pq, &batch, &t, &nh, &hs };
            Launch(_k.AttentionForward1, "pppiiii", new Dim3(Cdiv(t, 16), (uint)nh, (uint)batch), 128,
                (uint)AttentionF32Smem(hs, backwardDkDv: false, forward: true), f);
        }
        Done();
    }

    /// <inheritdoc/>
    /// <remarks>On the bf16 path the dQ and dK/dV kernels also write dqkv in bf16 for the q/k/v projection's backward
    /// GEMM (see <see cref="ShadowOf"/>).</remarks>
    public void AttentionBackward(Buf dqkv, Buf dout, Buf qkv, Buf output, Buf lse, int batch, int t, int nh, int hs) =>
        AttentionBackward(dqkv, dout, qkv, output, lse, Buf.Empty, Buf.Empty, batch, t, nh, hs);

    /// <inheritdoc/>
    /// <remarks>bf16 path: RoPE's backward runs in the dQ and dK kernels' stores (bitwise the RoPE kernel after them,
    /// one pass over dqkv fewer), and dqkv is also written in bf16 for the next GEMM; fp32 path: the attention
    /// backward, then the RoPE kernel. A bf16 qkv (<see cref="Bf16QkvRecorded"/>: the recorded forward's product,
    /// never rotated in memory) is rotated again in the kernel; a bf16 dqkv gets the gradient in bf16 only.</remarks>
    public void RopeAttentionBackward(Buf dqkv, Buf dout, Buf qkv, Buf output, Buf lse, Buf cos, Buf sin, int batch,
        int t, int nh, int hs)
    {
        if (UsesBf16Attention(hs))
        {
            Need(cos, (long)t * hs, nameof(cos));
            Need(sin, (long)t * hs, nameof(sin));
            AttentionBackward(dqkv, dout, qkv, output, lse, cos, sin, batch, t, nh, hs);
            return;
        }
        AttentionBackward(dqkv, dout, qkv, output, lse, batch, t, nh, hs);
        RopeBackward(dqkv, cos, sin, batch, t, nh, hs);
    }

    /// <summary>The attention backward; with <paramref name="cos"/> not empty (bf16 path only) RoPE's backward too. bf16
    /// path, T ≤ 128: one block per head (<see cref="OneBlockAttentionBackward"/>: <c>attention_backward_kernel3</c>,
    /// or <c>_kernel4</c> on a bf16 qkv, the only path that takes a bf16 qkv or dqkv); longer T: the pack, the dot
    /// pre-pass, the dQ and the dK/dV kernels.</summary>
    private void AttentionBackward(Buf dqkv, Buf dout, Buf qkv, Buf output, Buf lse, Buf cos, Buf sin, int batch,
        int t, int nh, int hs)
    {
        Enter();
        CheckAttention(batch, t, nh, hs);
        long c = (long)nh * hs;
        NeedBf16Ok(dqkv, 3L * batch * t * c, nameof(dqkv));
        Need(dout, (long)batch * t * c, nameof(dout));
        NeedBf16Ok(qkv, 3L * batch * t * c, nameof(qkv));
        Need(output, (long)batch * t * c, nameof(output));
        Need(lse, (long)batch * nh * t, nameof(lse));
        bool bf16 = UsesBf16Attention(hs), oneBlock = bf16 && t <= 128 && _attentionBackward3;
        if ((IsBf16(qkv) || IsBf16(dqkv)) && !oneBlock)
        {
            throw new ArgumentException("qkv, dqkv: bf16 ones take the one-block bf16 attention backward only (head " +
                $"size 64, bf16 attention, T <= 128: Bf16QkvRecorded); got T = {t}, HS = {hs}, bf16 attention " +
                $"{bf16}, one-block backward {_attentionBackward3}", IsBf16(qkv) ? nameof(qkv) : nameof(dqkv));
        }
        if ((long)batch * nh == 0 || t == 0 || hs == 0)
        {
            if (IsBf16(dqkv)) FillBf16Zero(dqkv);
            else Fill(dqkv, 0f);
            return;
        }
        if (bf16)
        {
            Aligned(qkv, 16, nameof(qkv));
            Aligned(dqkv, 8, nameof(dqkv));
        }
        if (oneBlock)
        {
            OneBlockBackward(dqkv, dout, qkv, output, lse, cos, sin, batch, t, nh);
            return;
        }
        ulong pdq = Ptr(dqkv), pdo = Ptr(dout), pq = Ptr(qkv), po = Ptr(output), pl = Ptr(lse);
        ulong dd = _dd.Ensure((long)batch * nh * t, _stream);
        // The recorded qkv is packed again: qkvh has been overwritten by every forward since.
        ulong qkvh = bf16 ? PackQkv(pq, batch, t, nh) : 0;
        ulong doh = bf16 ? _doh.Ensure((long)batch * t * c, _stream) : 0;
        void** dot = stackalloc void*[] { &dd, &doh, &pdo, &po, &batch, &t, &nh, &hs };
        Launch(_k.AttentionBackwardDot1, "ppppiiii", Cdiv((long)batch * t * nh, 8), 256, 0, dot);
        if (bf16)
        {
            ulong ph = ShadowOf(dqkv, 3L * batch * t * c), pc = cos.IsEmpty ? 0 : Ptr(cos), ps = sin.IsEmpty ? 0 : Ptr(sin);
            void** a = stackalloc void*[] { &pdq, &ph, &pc, &ps, &qkvh, &doh, &pl, &dd, &batch, &t, &nh };
            var grid = new Dim3(Cdiv(t, 64), (uint)nh, (uint)batch);
            Launch(_k.AttentionBackwardDq2, "ppppppppiii", grid, 128, 0, a);
            Launch(_k.AttentionBackwardDkDv2, "ppppppppiii", grid, 128, 0, a);
            Shadowed(dqkv, ph, 3L * batch * t * c);
        }
        else
        {
            void** a = stackalloc void*[] { &pdq, &pdo, &pq, &pl, &dd, &batch, &t, &nh, &hs };
            var grid = new Dim3(Cdiv(t, 16), (uint)nh, (uint)batch);
            Launch(_k.AttentionBackwardDq1, "pppppiiii", grid, 128, (uint)AttentionF32Smem(hs, backwardDkDv: false), a);
            Launch(_k.AttentionBackwardDkDv1, "pppppiiii", grid, 128, (uint)AttentionF32Smem(hs, backwardDkDv: true), a);
        }
        Done();
    }

    /// <summary>Dynamic shared memory of <c>attention_backward_kernel3</c> (ATT_BWD3_SMEM): Q, K, V, dO of 128 rows as
    /// bf16 with a 72-element row stride, then lse and D of the 128 rows.</summary>
    private const int AttentionBackward3Smem = 4 * 128 * 72 * 2 + 2 * 128 * 4;

    private bool _attentionBackward3Allowed; // the device allows AttentionBackward3Smem (ConfigureSharedMemory)
    private bool _attentionBackward3;        // and it is on

    /// <summary>Whether the bf16 attention backward at T ≤ 128 runs as one block per head
    /// (<c>attention_backward_kernel3</c>; on wherever the device allows its 74,752 bytes of shared memory) rather than
    /// the pack, the dot pre-pass and the two split kernels. Tests turn it off to compare the two.</summary>
    internal bool OneBlockAttentionBackward
    {
        get => _attentionBackward3;
        set => _attentionBackward3 = value && _attentionBackward3Allowed;
    }

    /// <summary>
    /// Dynamic shared memory of the fp32 kernels (KS = HS | 1): forward 4·(16·HS + 32·KS + 32·HS), dq
    /// 4·(32·HS + 64·KS), dkdv 4·(32·HS + 64·KS + 64).
    /// </summary>
    private static int AttentionF32Smem(int hs, bool backwardDkDv, bool forward = false)
    {
        int ks = hs | 1;
        if (forward) return 4 * (16 * hs + 32 * ks + 32 * hs);
        return backwardDkDv ? 4 * (32 * hs + 64 * ks + 64) : 4 * (32 * hs + 64 * ks);
    }

    /// <summary>qkvh (3,B,NH,T,64) bf16 = qkv (B,T,3C) packed per head; returns the scratch pointer.</summary>
    private ulong PackQkv(ulong qkv, int batch, int t, int nh)
    {
        ulong qkvh = _qkvh.Ensure(3L * batch * t * nh * 64, _stream);
        int parts = 3;
        void** a = stackalloc void*[] { &qkvh, &qkv, &batch, &t, &nh, &parts };
        Launch(_k.AttentionPack2, "ppiiii", checked((uint)((long)batch * t)), 256, 0, a);
        return qkvh;
    }

    /// <summary>The tensor-core path loads qkv as float4 and stores out/dqkv as float2 (kernels README).</summary>
    private static void Aligned(Buf b, int bytes, string name)
    {
        if (b.Address % bytes != 0)
        {
            throw new ArgumentException($"{name}: the bf16 attention kernels need {bytes}-byte alignment; the view " +
                $"starts at 0x{b.Address:x} (allocations and ActivationPlan views are 64-byte aligned)", name);
        }
    }

    private void CheckAttention(int batch, int t, int nh, int hs)
    {
        NonNegative(batch);
        NonNegative(t);
        NonNegative(nh);
        NonNegative(hs);
        GridYZ(batch, "batch (attention grid z)");
        GridYZ(nh, "heads (attention grid y)");
        if (!UsesBf16Attention(hs) && hs > AttentionF32MaxHeadSize)
        {
            throw new ArgumentException($"attention: head size {hs} is not supported on CUDA (the fp32 kernels " +
                $"take HS <= {AttentionF32MaxHeadSize}, the bf16 kernels HS = 64)", nameof(hs));
        }
        if (!UsesBf16Attention(hs))
        {
            int smem = AttentionF32Smem(hs, backwardDkDv: true);
            int limit = smem > _device.MaxSharedMemoryPerBlock ? _device.MaxSharedMemoryPerBlockOptIn
                : _device.MaxSharedMemoryPerBlock;
            if (smem > limit)
            {
                throw new ArgumentException($"attention: head size {hs} needs {smem} bytes of shared memory; the " +
                    $"device allows {limit}", nameof(hs));
            }
        }
    }

    /// <summary>A qkv buffer packed (after RoPE) into the qkvh scratch by the op numbered <c>Op</c>; a bf16 one
    /// (<c>Bf16</c>) as rotated Q and K rows in its own layout.</summary>
    private readonly record struct PackedQkv(nint Qkv, long Length, bool Bf16, int Batch, int T, int NH, long Op);
}
