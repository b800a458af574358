using Hrm.Runtime.Loss;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;
using Hrm.Runtime.Threading;
using C = Hrm.Runtime.Backends.Cpu.CpuOps;

namespace Hrm.Runtime.Backends.Cpu;

/// <summary>
/// The fp32 CPU backend: 64-byte-aligned native buffers, SIMD ops (<see cref="CpuOps"/>) dispatched on a
/// fixed <see cref="WorkerPool"/> with static partitioning, so results are deterministic for a thread count.
/// No op allocates managed memory.
/// </summary>
public sealed unsafe class CpuBackend : HostBackendBase, IHrmBackend
{
    private readonly WorkerPool _pool;
    private readonly Dictionary<(nint Weight, int K, int N, bool Split), PackedPanels> _kept = [];
    private WeightReuseScope _reuse;

    /// <summary>Creates the backend with <paramref name="threads"/> threads (0 = one per core).</summary>
    public CpuBackend(int threads = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        _pool = new WorkerPool(threads == 0 ? WorkerPool.DefaultThreads : threads);
    }

    /// <inheritdoc/>
    public string Name => "cpu";

    /// <summary>Threads used by every op.</summary>
    public int Threads => _pool.ThreadCount;

    /// <summary>The threads and the SIMD width the ops run at, in words (e.g. "2 threads, 256-bit vectors: AVX2 +
    /// FMA"), then, where the CPU has wider vectors than this code uses (a NativeAOT build for an older x64), which and
    /// how to use them (<see cref="CpuFeatures.Advice"/>).</summary>
    public string Description => $"{Threads} thread{(Threads == 1 ? "" : "s")}, {SimdMath.Description}" +
        (CpuFeatures.Advice is { } advice ? $"; {advice}" : "");

    /// <inheritdoc/>
    public override int ElementSize => sizeof(float);

    /// <inheritdoc/>
    public bool SupportsOp(HrmOp op) => true;

    /// <inheritdoc/>
    /// <remarks>False: RoPE runs in the GEMM's tiles (<see cref="MatmulRopeForward"/>).</remarks>
    public bool PrefersRopeInAttention => false;

    /// <inheritdoc/>
    public bool Bf16Intermediates => false;

    /// <inheritdoc/>
    public bool Bf16QkvForward(int t, int hs) => false;

    /// <inheritdoc/>
    public bool Bf16StreamForward(int t, int hs) => false;

    /// <inheritdoc/>
    public bool Bf16QkvRecorded(int t, int hs) => false;

    /// <inheritdoc/>
    public int BlockChunkRows(int rows, int t, int hs, bool record) => 0;

    /// <inheritdoc/>
    /// <remarks>False: no fused module here (the model runs the ops).</remarks>
    public bool TryFusedModuleForward(Buf z, Buf inj, ReadOnlySpan<Buf> weights, Buf cos, Buf sin, int batch, int t,
        int nh, int hs, int inter, float eps) => false;

    /// <inheritdoc/>
    /// <remarks>Nothing is reserved ahead: the CPU ops' scratch (GEMM packing, per-thread buffers) is host memory
    /// that grows during the first step and never after.</remarks>
    public void ReserveScratch(in ScratchShapes shapes, ReadOnlySpan<Buf> weights)
    {
    }

    /// <inheritdoc/>
    public void Upload(ReadOnlySpan<float> src, Buf dst) => src.CopyTo(F(dst.Expect(src.Length, nameof(dst))));

    /// <inheritdoc/>
    public void Download(Buf src, Span<float> dst) => F(src.Expect(dst.Length, nameof(src))).CopyTo(dst);

    /// <inheritdoc/>
    public void UploadInts(ReadOnlySpan<int> src, Buf dst) => src.CopyTo(Ints(dst.Expect(src.Length, nameof(dst))));

    /// <inheritdoc/>
    public void DownloadInts(Buf src, Span<int> dst) => Ints(src.Expect(dst.Length, nameof(src))).CopyTo(dst);

    /// <inheritdoc/>
    public void Fill(Buf dst, float value) => C.Fill(F(dst), value, _pool);

    /// <inheritdoc/>
    public void Copy(Buf dst, Buf src) => C.Copy(F(dst), F(src), _pool);

    /// <inheritdoc/>
    public void Add(Buf dst, Buf a, Buf b) => C.Add(F(dst), F(a), F(b), _pool);

    /// <inheritdoc/>
    public void ResetCarry(Buf z, Buf init, Buf halted, int batch, int t, int c)
        => C.ResetCarry(F(z), F(init), Ints(halted), batch, t, c, _pool);

    /// <inheritdoc/>
    public void GatherRows(Buf dst, Buf table, Buf ids, int n, int w)
        => C.GatherRows(F(dst), F(table), Ints(ids)[..n], w, _pool);

    /// <inheritdoc/>
    public void EmbeddingForward(Buf x, Buf tokens, Buf puzzleRows, Buf tokTable, Buf posTable,
        int batch, int l, int p, int pd, int c, int v, float scale)
        => C.EmbeddingForward(F(x), Ints(tokens), F(puzzleRows), F(tokTable), F(posTable), batch, l, p, pd, c, v, scale, _pool);

    /// <inheritdoc/>
    public void EmbeddingBackward(Buf dTokTable, Buf dPuzzleRows, Buf dPosTable, Buf dx, Buf tokens,
        int batch, int l, int p, int pd, int c, int v, float scale)
        => C.EmbeddingBackward(F(dTokTable), F(dPuzzleRows), F(dPosTable), F(dx), Ints(tokens),
            batch, l, p, pd, c, v, scale, _pool);

    /// <inheritdoc/>
    public void MatmulForward(Buf output, Buf inp, Buf weight, int m, int k, int n)
        => C.MatmulForwardKept(F(output), F(inp), F(weight), m, k, n, _pool, Kept(weight, m, k, n, swiGlu: false));

    /// <inheritdoc/>
    /// <remarks>Fused for few rows, and in the general GEMM for K &lt;= 512 (CpuOps.MatmulSwiGluForward).</remarks>
    public void MatmulSwiGluForward(Buf act, Buf gateUp, Buf inp, Buf weight, int m, int k, int inter,
        bool keepGateUp = false)
        => C.MatmulSwiGluForwardKept(F(act), F(gateUp), F(inp), F(weight), m, k, inter, _pool,
            Kept(weight, m, k, inter, swiGlu: true), keepGateUp);

    /// <inheritdoc/>
    /// <remarks>Fused in the general GEMM: its tiles rotate the heads they have just computed (CpuOps.MatmulRopeForward).</remarks>
    public void MatmulRopeForward(Buf qkv, Buf inp, Buf weight, Buf cos, Buf sin, int batch, int t, int k, int nh,
        int hs)
        => C.MatmulRopeForwardKept(F(qkv), F(inp), F(weight), F(cos), F(sin), batch, t, k, nh, hs, _pool,
            Kept(weight, batch * t, k, 3 * nh * hs, swiGlu: false));

    /// <inheritdoc/>
    /// <remarks>
    /// Inside the scope the forward GEMMs keep each weight's packed (transposed) panels after their first use and
    /// read them on later calls. The kept copies take as much memory as the weights they come from; they are
    /// allocated on first use and reused by every later scope.
    /// </remarks>
    public void BeginWeightReuse() => _reuse.Begin();

    /// <inheritdoc/>
    public void EndWeightReuse()
    {
        if (!_reuse.End()) return;
        foreach (PackedPanels p in _kept.Values) p.Valid = false; // the weights may change from now on
    }

    /// <summary>The kept panels of <paramref name="weight"/> for this product, or null outside a reuse scope.</summary>
    /// <remarks>
    /// A SwiGLU weight (2I,K) whose I is a multiple of the panel width has the same panels as the plain product's, so
    /// the two share one copy (training runs the gate/up weights both ways in one step).
    /// </remarks>
    private PackedPanels? Kept(Buf weight, int m, int k, int n, bool swiGlu)
    {
        if (!_reuse.Open || Gemm.Best == GemmPath.Scalar || m == 0 || k == 0 || n == 0) return null;
        bool split = swiGlu && n % Gemm.PanelWidth(Gemm.Best) != 0;
        var key = (weight.Address, k, swiGlu && !split ? 2 * n : n, split);
        if (!_kept.TryGetValue(key, out PackedPanels? p))
        {
            long floats = Gemm.PackedPanelFloats(k, key.Item3, split, Gemm.Best);
            Buf b = Allocate(floats, "kept GEMM panels");
            p = new PackedPanels((float*)b.Address, floats);
            _kept.Add(key, p);
        }
        return p;
    }

    /// <inheritdoc/>
    public void MatmulBackward(Buf dinp, Buf dweight, Buf dout, Buf inp, Buf weight, int m, int k, int n,
        bool accumulate = false)
        => C.MatmulBackward(F(dinp), F(dweight), F(dout), F(inp), F(weight), m, k, n, _pool, accumulate);

    /// <inheritdoc/>
    public void RopeForward(Buf qkv, Buf cos, Buf sin, int batch, int t, int nh, int hs)
        => C.RopeForward(F(qkv), F(cos), F(sin), batch, t, nh, hs, _pool);

    /// <inheritdoc/>
    public void RopeBackward(Buf dqkv, Buf cos, Buf sin, int batch, int t, int nh, int hs)
        => C.RopeBackward(F(dqkv), F(cos), F(sin), batch, t, nh, hs, _pool);

    /// <inheritdoc/>
    public void AttentionForward(Buf output, Buf lse, Buf qkv, int batch, int t, int nh, int hs)
        => C.AttentionForward(F(output), F(lse), F(qkv), batch, t, nh, hs, _pool);

    /// <inheritdoc/>
    /// <remarks>Two passes: rotating inside the attention tasks was slower (CpuOps.RopeAttentionForward).</remarks>
    public void RopeAttentionForward(Buf output, Buf lse, Buf qkv, Buf cos, Buf sin, int batch, int t, int nh, int hs,
        bool keepRotated = true)
        => C.RopeAttentionForward(F(output), F(lse), F(qkv), F(cos), F(sin), batch, t, nh, hs, _pool);

    /// <inheritdoc/>
    public void AttentionBackward(Buf dqkv, Buf dout, Buf qkv, Buf output, Buf lse, int batch, int t, int nh, int hs)
        => C.AttentionBackward(F(dqkv), F(dout), F(qkv), F(output), F(lse), batch, t, nh, hs, _pool);

    /// <inheritdoc/>
    public void RopeAttentionBackward(Buf dqkv, Buf dout, Buf qkv, Buf output, Buf lse, Buf cos, Buf sin, int batch,
        int t, int nh, int hs)
        => C.RopeAttentionBackward(F(dqkv), F(dout), F(qkv), F(output), F(lse), F(cos), F(sin), batch, t, nh, hs,
            _pool);

    /// <inheritdoc/>
    public void AddRmsNormForward(Buf output, Buf rstd, Buf a, Buf b, int rows, int c, float eps)
        => C.AddRmsNormForward(F(output), F(rstd), F(a), F(b), rows, c, eps, _pool);

    /// <inheritdoc/>
    public void RmsNormBackward(Buf dinp, Buf dout, Buf output, Buf rstd, int rows, int c)
        => C.RmsNormBackward(F(dinp), F(dout), F(output), F(rstd), rows, c, _pool);

    /// <inheritdoc/>
    public void SwiGluForward(Buf act, Buf gateUp, int rows, int inter) => C.SwiGluForward(F(act), F(gateUp), rows, inter, _pool);

    /// <inheritdoc/>
    public void SwiGluBackward(Buf dgateUp, Buf dact, Buf gateUp, int rows, int inter)
        => C.SwiGluBackward(F(dgateUp), F(dact), F(gateUp), rows, inter, _pool);

    /// <inheritdoc/>
    public void LmHeadForward(Buf logits, Buf zH, Buf weight, int batch, int t, int p, int c, int v)
        => C.LmHeadForward(F(logits), F(zH), F(weight), batch, t, p, c, v, _pool);

    /// <inheritdoc/>
    public void LmHeadBackward(Buf dzH, Buf dweight, Buf dlogits, Buf zH, Buf weight, int batch, int t, int p, int c, int v)
        => C.LmHeadBackward(F(dzH), F(dweight), F(dlogits), F(zH), F(weight), batch, t, p, c, v, _pool);

    /// <inheritdoc/>
    public void QHeadForward(Buf q, Buf zH, Buf weight, Buf bias, int batch, int t, int c)
        => C.QHeadForward(F(q), F(zH), F(weight), F(bias), batch, t, c, _pool);

    /// <inheritdoc/>
    public void QHeadBackward(Buf dzH, Buf dweight, Buf dbias, Buf dq, Buf zH, Buf weight, int batch, int t, int c)
        => C.QHeadBackward(F(dzH), F(dweight), F(dbias), F(dq), F(zH), F(weight), batch, t, c, _pool);

    /// <inheritdoc/>
    public void StablemaxCe(Buf dlogits, Buf dq, Buf rowLoss, Buf rowStats, Buf logits, Buf labels, Buf q, Buf target,
        int batch, int l, int v, LossType lossType, bool training, int globalBatch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        C.StablemaxCe(F(dlogits), F(dq), RowLossDoubles(rowLoss, batch), Ints(rowStats), F(logits), Ints(labels), F(q),
            F(target), batch, l, v, lossType, training, globalBatch);
    }

    /// <inheritdoc/>
    public void AdamATan2Step(Buf param, Buf grad, Buf m, Buf v, double lr, double beta1, double beta2,
        double weightDecay, int stepNumber, Buf skip = default)
    {
        if (Skipped(skip)) return;
        C.AdamATan2Step(F(param), F(grad), F(m), F(v), lr, beta1, beta2, weightDecay, stepNumber, _pool);
    }

    /// <inheritdoc/>
    public void SignSgdRows(Buf table, Buf rowGrads, Buf ids, int rows, int width, double lr, double weightDecay,
        Buf skip = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        if (Skipped(skip)) return;
        C.SignSgdRows(F(table), F(rowGrads.Slice(0, (long)rows * width)), Ints(ids)[..rows], width, lr, weightDecay,
            _pool);
    }

    /// <inheritdoc/>
    public void SelectRows(Buf dst, Buf src, Buf mask, int rows, int width)
        => ActMath.SelectRows(Ints(dst), Ints(src), Ints(mask), rows, width);

    /// <inheritdoc/>
    public void ActHalt(Buf halted, Buf steps, Buf q, Buf minSteps, int batch, int maxSteps, ActHaltRule rule)
        => ActMath.Halt<float>(Ints(halted), Ints(steps), F(q), IntsOrEmpty(minSteps), batch, maxSteps, rule);

    /// <inheritdoc/>
    public void ActTarget(Buf target, Buf qNext, Buf steps, int batch, int maxSteps)
        => ActMath.Target<float>(F(target), F(qNext), Ints(steps), batch, maxSteps);

    /// <inheritdoc/>
    public void ActMetrics(Buf sums, Buf skip, Buf halted, Buf steps, Buf q, Buf rowLoss, Buf rowStats, int batch, int slot)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        ActMath.Metrics<float>(IntRegionDoubles(sums, nameof(sums)), Ints(skip), Ints(halted), Ints(steps), F(q),
            RowLossDoubles(rowLoss, batch), Ints(rowStats), batch, slot);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        _pool.Dispose();
        base.Dispose(disposing);
    }

    private static Span<float> F(Buf b)
    {
        if (b.IsEmpty) return [];
        if (b.ElemSize != sizeof(float)) throw new ArgumentException($"expected a float buffer, got {b.ElemSize}-byte elements");
        return new Span<float>((void*)b.Address, checked((int)b.Length));
    }
}
