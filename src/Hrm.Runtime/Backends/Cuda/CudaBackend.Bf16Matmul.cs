using Hrm.Runtime.Backends.Cuda.Interop;
using Hrm.Runtime.Memory;

namespace Hrm.Runtime.Backends.Cuda;

/// <summary>
/// The bf16 route of the linear layers (<see cref="CudaBackendOptions.Bf16Matmul"/>): cuBLASLt multiplies bf16 copies
/// of both operands with fp32 accumulation into an fp32 output (a bf16 one for the model's bf16 intermediates,
/// <see cref="Bf16Intermediates"/>), while the fp32 weights stay the masters the optimiser updates. An fp32 operand is
/// rounded to bf16 (RNE, <c>f32_to_bf16_kernel1</c>) right before its GEMM, unless its producer already wrote that copy
/// (<see cref="TakeShadow"/>); a bf16 operand is read as it is. Activations go into two scratch buffers, each weight
/// into its own bf16 copy, which inside a <see cref="BeginWeightReuse"/> scope
/// is converted once and reused until the outermost <see cref="EndWeightReuse"/>. Plans (descriptors + the
/// heuristic's algorithm) are made once per shape and output alignment and reused; nothing allocates after warm-up.
/// Same row-major ⇔ column-major rule as the fp32 GEMMs (<see cref="MatmulForward"/>).
/// </summary>
public sealed unsafe partial class CudaBackend
{
    /// <summary>cuBLASLt workspace: NVIDIA's recommendation for Hopper (32 MiB; 4 MiB suffice before it).</summary>
    private const ulong LtWorkspaceBytes = 32UL << 20;

    private readonly Dictionary<LtPlanKey, CublasLtMatmul> _ltPlans = [];
    private readonly Dictionary<WeightKey, WeightBits> _weightBits = [];
    private readonly DeviceScratch<ushort> _opA, _opB;   // bf16 activation operands: (M, K) or (M, N); (M, K)
    private Shadow _shadow;                              // what the last producer also wrote to _opA, if anything
    private CublasLtHandle? _lt;
    private DeviceBuffer<byte>? _ltWorkspace;            // (LtWorkspaceBytes)

    /// <summary>True when the linear layers run in bf16 (<see cref="CudaBackendOptions.Bf16Matmul"/>).</summary>
    public bool UsesBf16Matmul => Options.Bf16Matmul;

    /// <inheritdoc/>
    /// <remarks>With bf16 GEMMs and <see cref="CudaBackendOptions.Bf16Intermediates"/> (the default then).</remarks>
    public bool Bf16Intermediates => Options.Bf16Matmul && Options.Bf16Intermediates;

    /// <inheritdoc/>
    /// <remarks>With bf16 intermediates and bf16 attention (HS 64): <c>attention_forward_rope_kernel4</c> or
    /// <c>_kernel6</c> (T ≤ 128; also the recorded forwards', <see cref="Bf16QkvRecorded"/>) or
    /// <c>attention_rope_rows_kernel1</c> and <c>attention_forward_kernel5</c> (longer T) read the bf16 qkv.</remarks>
    public bool Bf16QkvForward(int t, int hs) => Bf16Intermediates && UsesBf16Attention(hs) && ReadsBf16Qkv(t, hs);

    /// <inheritdoc/>
    /// <remarks>With <see cref="CudaBackendOptions.Bf16Stream"/> where <see cref="Bf16QkvForward"/> holds.</remarks>
    public bool Bf16StreamForward(int t, int hs) => Options.Bf16Stream && Bf16QkvForward(t, hs);

    /// <inheritdoc/>
    /// <remarks>With <see cref="CudaBackendOptions.Bf16RecordedQkv"/> where <see cref="Bf16QkvForward"/> holds, T ≤ 128
    /// and the one-block attention backward runs (<c>attention_backward_kernel4</c>).</remarks>
    public bool Bf16QkvRecorded(int t, int hs) =>
        Options.Bf16RecordedQkv && Bf16QkvForward(t, hs) && RecordsBf16Qkv(t, hs) && OneBlockAttentionBackward;

    /// <summary>The shapes whose recorded qkv may be bf16 (<see cref="Bf16QkvRecorded"/>): head size 64, T ≤ 128 (the
    /// one-block attention backward); hrm info uses it.</summary>
    public static bool RecordsBf16Qkv(int t, int hs) => ReadsBf16Qkv(t, hs) && t <= 128;

    /// <summary>The shapes whose bf16 qkv the RoPE attention reads: head size 64, any T (hrm info uses it).</summary>
    public static bool ReadsBf16Qkv(int t, int hs) => hs == 64 && t >= 1;

    /// <summary>Bytes of the bf16 weight copies and the cuBLASLt workspace (0 with fp32 GEMMs).</summary>
    public long Bf16MatmulBytes
    {
        get
        {
            long bytes = (_ltWorkspace?.Bytes ?? 0) + _opA.Bytes + _opB.Bytes;
            foreach (WeightBits w in _weightBits.Values) bytes += w.Bits.Bytes;
            return bytes;
        }
    }

    /// <summary>Creates the cuBLASLt handle and workspace when bf16 GEMMs are on (constructor).</summary>
    private void CreateBf16Matmul()
    {
        if (!Options.Bf16Matmul) return;
        _lt = CublasLtHandle.Create(_device.Context);
        _ltWorkspace = DeviceBuffer<byte>.Allocate(_device.Context, (long)LtWorkspaceBytes);
    }

    /// <summary>
    /// out (M,N) = bf16(inp) (M,K) · bf16(W)ᵀ (N,K), fp32 accumulation; fp32 output, or rounded to bf16 when output
    /// holds bf16 (<see cref="Bf16Intermediates"/>: the gate/up, o_proj and down_proj products). A bf16 inp (the
    /// SwiGLU output) is read as it is.
    /// </summary>
    private void MatmulForwardBf16(Buf output, Buf inp, Buf weight, int m, int k, int n)
    {
        ulong w = WeightBf16(weight);                                  // (N, K) bf16
        ulong x = OperandBf16(inp, (long)m * k);                       // (M, K) bf16
        // outᵀ (N×M) = Wᵀ · inpᵀ: A = W stored K×N (op T), B = inp stored K×M.
        LtMatmul(n, m, k, transA: true, transB: false, w, x, Ptr(output), beta: 0f,
            IsBf16(output) ? CudaDataType.R16BF : CudaDataType.R32F);
    }

    /// <summary>
    /// inp (count elements) in bf16: itself when it holds bf16, the copy its producer wrote right before this op
    /// (<see cref="TakeShadow"/>), or converted now into the operand scratch.
    /// </summary>
    private ulong OperandBf16(Buf inp, long count)
    {
        if (IsBf16(inp))
        {
            _shadow = default;
            return Ptr(inp);
        }
        ulong x = TakeShadow(inp, count);
        return x != 0 ? x : ToBf16(_opA, inp);
    }

    /// <summary>
    /// dinp (M,K) = bf16(dout) · bf16(W) + beta·dinp (skipped when empty; rounded to bf16 when dinp holds bf16, then
    /// beta is 0); dW (N,K) += bf16(dout)ᵀ · bf16(inp). A bf16 dout or inp is read as it is.
    /// </summary>
    private void MatmulBackwardBf16(Buf dinp, Buf dweight, Buf dout, Buf inp, Buf weight, int m, int k, int n,
        float beta)
    {
        ulong dy = OperandBf16(dout, (long)m * n);                     // (M, N) bf16
        if (!dinp.IsEmpty)
        {
            ulong w = WeightBf16(weight);                              // (N, K) bf16
            // dinpᵀ (K×M) = W stored K×N · doutᵀ stored N×M (bf16 when dinp holds bf16: the SwiGLU output's gradient).
            LtMatmul(k, m, n, transA: false, transB: false, w, dy, Ptr(dinp), beta,
                IsBf16(dinp) ? CudaDataType.R16BF : CudaDataType.R32F);
        }
        ulong x = IsBf16(inp) ? Ptr(inp) : ToBf16(_opB, inp);          // (M, K) bf16
        // dWᵀ (K×N) += inpᵀ stored K×M · dout (doutᵀ stored N×M, op T).
        LtMatmul(k, n, m, transA: false, transB: true, x, dy, Ptr(dweight), beta: 1f);
    }

    /// <summary>Column-major <c>D (m×n) = op(A) · op(B) + beta·D</c>, A and B bf16, D fp32 (default) or bf16.</summary>
    private void LtMatmul(int m, int n, int k, bool transA, bool transB, ulong a, ulong b, ulong d, float beta,
        CudaDataType output = CudaDataType.R32F)
    {
        uint align = (uint)Math.Min(256UL, d & (~d + 1)); // the largest power of two dividing d, at most 256
        var key = new LtPlanKey(m, n, k, transA, transB, align, output);
        if (!_ltPlans.TryGetValue(key, out CublasLtMatmul? plan))
        {
            plan = new CublasLtMatmul(_lt!, m, n, k, transA, transB, output, LtWorkspaceBytes, align);
            _ltPlans.Add(key, plan);
        }
        if (!plan.Tuned && !_stream.Capturing) Tune(plan, a, b, d, beta);
        plan.Execute(_stream, a, b, d, 1f, beta, _ltWorkspace!.Pointer, LtWorkspaceBytes);
        Launches++;
    }

    /// <summary>What timing the GEMM candidates found, one entry per tuned shape (<see cref="CudaBackendOptions.TuneGemms"/>).</summary>
    public IReadOnlyList<GemmTuning> GemmTunings => _gemmTunings;

    private readonly List<GemmTuning> _gemmTunings = [];

    /// <summary>Runs between a GEMM's warm-up and its timing per candidate.</summary>
    private const int TuneRuns = 3;

    /// <summary>A candidate replaces the heuristic's first only when it takes at most this share of its time (timing
    /// noise alone does not switch algorithms).</summary>
    private const double TuneMargin = 0.97;

    /// <summary>
    /// Times every candidate algorithm of <paramref name="plan"/> on this call's operands (one warm-up run, then
    /// <see cref="TuneRuns"/> runs between two events) and chooses the fastest, if it beats the first by
    /// <see cref="TuneMargin"/>. A GEMM that accumulates (beta ≠ 0) writes into a zeroed scratch output instead of
    /// <paramref name="d"/>; one that overwrites D writes D, which the call then writes again. A candidate that cuBLASLt
    /// refuses is skipped; when the scratch cannot be allocated nothing is timed (the first candidate stays). Waits for
    /// the stream: first calls of a shape only, never during a capture. The timing runs are not counted in
    /// <see cref="Launches"/>.
    /// </summary>
    private void Tune(CublasLtMatmul plan, ulong a, ulong b, ulong d, float beta)
    {
        plan.Tuned = true;
        if (!Options.TuneGemms || plan.Candidates < 2) return;
        DeviceBuffer<byte>? scratch = null;
        int elem = plan.Output == CudaDataType.R16BF ? 2 : 4;
        if (beta != 0f)
        {
            try
            {
                scratch = DeviceBuffer<byte>.Allocate(_device.Context, (long)plan.M * plan.N * elem);
            }
            catch (CudaException)
            {
                return; // no room for a scratch output: keep the heuristic's first guess
            }
        }
        try
        {
            scratch?.FillAsync(0, _stream);
            double[] ms = TimeCandidates(plan, a, b, scratch?.Pointer ?? d, beta);
            int best = 0;
            for (int i = 1; i < ms.Length; i++)
            {
                if (ms[i] < ms[best]) best = i;
            }
            if (ms[best] > TuneMargin * ms[0]) best = 0;
            plan.Choose(best);
            _gemmTunings.Add(new GemmTuning(plan.M, plan.N, plan.K, plan.Output == CudaDataType.R16BF, beta != 0f,
                plan.Candidates, best, ms[0], ms[best]));
        }
        finally
        {
            if (scratch != null)
            {
                _stream.Synchronize(); // queued runs may still write it
                scratch.Dispose();
            }
        }
    }

    /// <summary>Milliseconds a call of each candidate of <paramref name="plan"/> takes writing
    /// <paramref name="target"/> (infinity for one that cuBLASLt refuses when queued).</summary>
    private double[] TimeCandidates(CublasLtMatmul plan, ulong a, ulong b, ulong target, float beta)
    {
        using var start = CudaEvent.Create(_device.Context);
        using var end = CudaEvent.Create(_device.Context);
        var ms = new double[plan.Candidates];
        for (int i = 0; i < plan.Candidates; i++)
        {
            try
            {
                plan.ExecuteCandidate(i, _stream, a, b, target, 1f, beta, _ltWorkspace!.Pointer, LtWorkspaceBytes);
                start.Record(_stream);
                for (int r = 0; r < TuneRuns; r++)
                    plan.ExecuteCandidate(i, _stream, a, b, target, 1f, beta, _ltWorkspace.Pointer, LtWorkspaceBytes);
                end.Record(_stream);
            }
            catch (CudaException e) when (e.Kind == CudaErrorKind.Cublas && i > 0)
            {
                ms[i] = double.PositiveInfinity; // refused when queued: not a candidate after all
                continue;
            }
            end.Synchronize(); // a fault while running is real: it propagates
            ms[i] = CudaEvent.ElapsedMilliseconds(start, end) / TuneRuns;
        }
        return ms;
    }

    /// <summary>The bf16 copy of a weight view: converted now, unless a reuse scope already converted it.</summary>
    private ulong WeightBf16(Buf weight)
    {
        WeightBits bits = WeightBitsOf(weight);
        if (!bits.Current)
        {
            Convert(bits.Bits.Pointer, Ptr(weight), weight.Length);
            // Outside a scope the weights may change before the next call; during a capture the conversion is only
            // recorded (it runs when the graph does, and a capture may yet be abandoned).
            bits.Current = _reuse.Open && !_stream.Capturing;
        }
        return bits.Bits.Pointer;
    }

    /// <summary>The bf16 copy of a weight view, allocated the first time the view is seen (not yet converted).</summary>
    private WeightBits WeightBitsOf(Buf weight)
    {
        var key = new WeightKey(weight.Address, weight.Length);
        if (!_weightBits.TryGetValue(key, out WeightBits? bits))
        {
            if (_stream.Capturing) throw new ScratchGrowthException(weight.Length * sizeof(ushort)); // no cuMemAlloc in a capture
            bits = new WeightBits(DeviceBuffer<ushort>.Allocate(_device.Context, weight.Length));
            _weightBits.Add(key, bits);
        }
        return bits;
    }

    /// <summary>
    /// Where a producer of <paramref name="count"/> fp32 elements at <paramref name="output"/> (default: all of it)
    /// also writes them rounded to bf16: the activation-operand scratch, when bf16 GEMMs are on and the scratch holds
    /// them without growing; 0 (write no copy) otherwise. The producer then calls <see cref="Shadowed"/>.
    /// </summary>
    /// <remarks>The producers (Add, AddRmsNormForward, SwiGluForward, the bf16 AttentionForward; RmsNormBackward,
    /// SwiGluBackward and the bf16 (Rope)AttentionBackward) always write the copy when they can: it costs 2 bytes per
    /// element and saves the next GEMM's conversion kernel: the 4 of a block's forward whose input is a GEMM's (q/k/v,
    /// o_proj, gate/up and down projections) and the 4 output gradients of its backward. With bf16 intermediates
    /// SwiGluForward and SwiGluBackward write their bf16 output in place of the fp32 one instead (no copy: the GEMM
    /// reads that buffer as it is).</remarks>
    private ulong ShadowOf(Buf output, long count = -1)
    {
        _shadow = default;
        if (count < 0) count = output.Length;
        if (!Options.Bf16Matmul || count == 0 || count > _opA.Elements) return 0;
        return _opA.Ensure(count, _stream);
    }

    /// <summary>Records that the op now running wrote the bf16 copy <paramref name="shadow"/> (0: none).</summary>
    private void Shadowed(Buf output, ulong shadow, long count = -1)
    {
        if (shadow != 0) _shadow = new Shadow(output.Address, count < 0 ? output.Length : count, _ops);
    }

    /// <summary>
    /// The bf16 copy of the first <paramref name="count"/> elements of <paramref name="inp"/> when the op right before
    /// this one wrote it (so nothing can have changed inp or the scratch since); 0 otherwise.
    /// </summary>
    private ulong TakeShadow(Buf inp, long count)
    {
        Shadow s = _shadow;
        _shadow = default;
        return s.Op == _ops - 1 && s.Address == inp.Address && s.Count >= count ? _opA.Ensure(count, _stream) : 0;
    }

    /// <summary>Rounds the fp32 view <paramref name="src"/> into <paramref name="scratch"/>; returns its pointer.</summary>
    private ulong ToBf16(DeviceScratch<ushort> scratch, Buf src)
    {
        ulong dst = scratch.Ensure(src.Length, _stream);
        Convert(dst, Ptr(src), src.Length);
        return dst;
    }

    private void Convert(ulong dst, ulong src, long n)
    {
        void** args = stackalloc void*[] { &dst, &src, &n };
        Launch(_k.F32ToBf16, "ppl", G1(n), 256, 0, args);
    }

    /// <summary>Opening the outermost weight-reuse scope: every bf16 weight copy is converted now (a scope opened
    /// during a capture leaves them stale: each is then converted where it is used).</summary>
    private void RefreshWeightBits()
    {
        if (_stream.Capturing) return;
        foreach ((WeightKey key, WeightBits bits) in _weightBits)
        {
            Convert(bits.Bits.Pointer, (ulong)key.Address, key.Length);
            bits.Current = true;
        }
    }

    /// <summary>After the outermost weight-reuse scope: every bf16 weight copy is stale.</summary>
    private void ForgetWeightBits()
    {
        foreach (WeightBits w in _weightBits.Values) w.Current = false;
    }

    /// <summary>Drops the bf16 copies of weights inside the freed region [start, start + bytes) (stream idle).</summary>
    private void ForgetWeightBits(nint start, long bytes)
    {
        List<WeightKey>? gone = null;
        foreach (WeightKey key in _weightBits.Keys)
        {
            if (key.Address >= start && key.Address < start + bytes) (gone ??= []).Add(key);
        }
        if (gone == null) return;
        foreach (WeightKey key in gone)
        {
            _weightBits.Remove(key, out WeightBits? bits);
            bits!.Bits.Dispose();
        }
    }

    private void DisposeBf16Matmul()
    {
        foreach (CublasLtMatmul plan in _ltPlans.Values) plan.Dispose();
        _ltPlans.Clear();
        foreach (WeightBits w in _weightBits.Values) w.Bits.Dispose();
        _weightBits.Clear();
        _opA.Dispose();
        _opB.Dispose();
        _ltWorkspace?.Dispose();
        _lt?.Dispose();
    }

    /// <summary>fp32 elements [Address, Address + Count) that op number <see cref="Op"/> also wrote in bf16 to the
    /// activation-operand scratch.</summary>
    private readonly record struct Shadow(nint Address, long Count, long Op);

    private readonly record struct LtPlanKey(int M, int N, int K, bool TransA, bool TransB, uint AlignD,
        CudaDataType Output);

    private readonly record struct WeightKey(nint Address, long Length);

    /// <summary>A weight's bf16 copy (same length) and whether it matches the weight now.</summary>
    private sealed class WeightBits(DeviceBuffer<ushort> bits)
    {
        public DeviceBuffer<ushort> Bits { get; } = bits;

        public bool Current { get; set; }
    }
}
