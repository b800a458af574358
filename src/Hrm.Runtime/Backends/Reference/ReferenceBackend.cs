using Hrm.Runtime.Loss;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;
using R = Hrm.Runtime.Backends.Reference.ReferenceOps;

namespace Hrm.Runtime.Backends.Reference;

/// <summary>
/// The scalar backend: every buffer holds doubles and every op is <see cref="ReferenceOps"/>. Slow; used by
/// tests to run the whole model in double (finite differences) and as the yardstick for the other backends.
/// </summary>
public sealed unsafe class ReferenceBackend : HostBackendBase, IHrmBackend
{
    private WeightReuseScope _reuse; // only counted: nothing derived is kept

    /// <inheritdoc/>
    public string Name => "reference";

    /// <inheritdoc/>
    public override int ElementSize => sizeof(double);

    /// <inheritdoc/>
    public bool SupportsOp(HrmOp op) => true;

    /// <inheritdoc/>
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
    /// <remarks>Nothing is reserved: the scalar yardstick keeps no scratch between ops.</remarks>
    public void ReserveScratch(in ScratchShapes shapes, ReadOnlySpan<Buf> weights)
    {
    }

    /// <inheritdoc/>
    public void Upload(ReadOnlySpan<float> src, Buf dst)
    {
        Span<double> d = D(dst);
        R.Check(src, d.Length, nameof(src));
        for (int i = 0; i < src.Length; i++) d[i] = src[i];
    }

    /// <inheritdoc/>
    public void Download(Buf src, Span<float> dst)
    {
        Span<double> s = D(src);
        R.Check<float>(dst, s.Length, nameof(dst));
        for (int i = 0; i < dst.Length; i++) dst[i] = (float)s[i];
    }

    /// <summary>Reads a buffer at full double precision (tests).</summary>
    public static double[] ReadDoubles(Buf src) => D(src).ToArray();

    /// <summary>Writes a buffer at full double precision (tests).</summary>
    public static void WriteDoubles(ReadOnlySpan<double> src, Buf dst) => src.CopyTo(D(dst));

    /// <inheritdoc/>
    public void UploadInts(ReadOnlySpan<int> src, Buf dst) => src.CopyTo(Ints(dst.Expect(src.Length, nameof(dst))));

    /// <inheritdoc/>
    public void DownloadInts(Buf src, Span<int> dst) => Ints(src.Expect(dst.Length, nameof(src))).CopyTo(dst);

    /// <inheritdoc/>
    public void Fill(Buf dst, float value) => D(dst).Fill(value);

    /// <inheritdoc/>
    public void Copy(Buf dst, Buf src) => D(src).CopyTo(D(dst.Expect(src.Length, nameof(dst))));

    /// <inheritdoc/>
    public void Add(Buf dst, Buf a, Buf b) => R.Add(D(dst), D(a), D(b));

    /// <inheritdoc/>
    public void ResetCarry(Buf z, Buf init, Buf halted, int batch, int t, int c)
        => R.ResetCarry(D(z), D(init), Ints(halted), batch, t, c);

    /// <inheritdoc/>
    public void GatherRows(Buf dst, Buf table, Buf ids, int n, int w)
        => R.GatherRows(D(dst), D(table), Ints(ids)[..n], w);

    /// <inheritdoc/>
    public void EmbeddingForward(Buf x, Buf tokens, Buf puzzleRows, Buf tokTable, Buf posTable,
        int batch, int l, int p, int pd, int c, int v, float scale)
        => R.EmbeddingForward(D(x), Ints(tokens), D(puzzleRows), D(tokTable), D(posTable), batch, l, p, pd, c, v,
            scale);

    /// <inheritdoc/>
    public void EmbeddingBackward(Buf dTokTable, Buf dPuzzleRows, Buf dPosTable, Buf dx, Buf tokens,
        int batch, int l, int p, int pd, int c, int v, float scale)
        => R.EmbeddingBackward(D(dTokTable), D(dPuzzleRows), D(dPosTable), D(dx), Ints(tokens), batch, l, p, pd, c, v,
            scale);

    /// <inheritdoc/>
    public void MatmulForward(Buf output, Buf inp, Buf weight, int m, int k, int n)
        => R.MatmulForward(D(output), D(inp), D(weight), m, k, n);

    /// <inheritdoc/>
    public void MatmulBackward(Buf dinp, Buf dweight, Buf dout, Buf inp, Buf weight, int m, int k, int n,
        bool accumulate = false)
        => R.MatmulBackward(D(dinp), D(dweight), D(dout), D(inp), D(weight), m, k, n, accumulate);

    /// <inheritdoc/>
    public void RopeForward(Buf qkv, Buf cos, Buf sin, int batch, int t, int nh, int hs)
        => R.RopeForward(D(qkv), D(cos), D(sin), batch, t, nh, hs);

    /// <inheritdoc/>
    public void RopeBackward(Buf dqkv, Buf cos, Buf sin, int batch, int t, int nh, int hs)
        => R.RopeBackward(D(dqkv), D(cos), D(sin), batch, t, nh, hs);

    /// <inheritdoc/>
    public void AttentionForward(Buf output, Buf lse, Buf qkv, int batch, int t, int nh, int hs)
        => R.AttentionForward(D(output), D(lse), D(qkv), batch, t, nh, hs);

    /// <inheritdoc/>
    public void BeginWeightReuse() => _reuse.Begin();

    /// <inheritdoc/>
    public void EndWeightReuse() => _reuse.End();

    /// <inheritdoc/>
    public void MatmulSwiGluForward(Buf act, Buf gateUp, Buf inp, Buf weight, int m, int k, int inter,
        bool keepGateUp = false)
    {
        MatmulForward(gateUp, inp, weight, m, k, 2 * inter);
        SwiGluForward(act, gateUp, m, inter);
    }

    /// <inheritdoc/>
    public void MatmulRopeForward(Buf qkv, Buf inp, Buf weight, Buf cos, Buf sin, int batch, int t, int k, int nh,
        int hs)
    {
        MatmulForward(qkv, inp, weight, batch * t, k, 3 * nh * hs);
        RopeForward(qkv, cos, sin, batch, t, nh, hs);
    }

    /// <inheritdoc/>
    public void RopeAttentionForward(Buf output, Buf lse, Buf qkv, Buf cos, Buf sin, int batch, int t, int nh, int hs,
        bool keepRotated = true)
    {
        R.RopeForward(D(qkv), D(cos), D(sin), batch, t, nh, hs);
        R.AttentionForward(D(output), D(lse), D(qkv), batch, t, nh, hs);
    }

    /// <inheritdoc/>
    public void AttentionBackward(Buf dqkv, Buf dout, Buf qkv, Buf output, Buf lse, int batch, int t, int nh, int hs)
        => R.AttentionBackward(D(dqkv), D(dout), D(qkv), D(output), D(lse), batch, t, nh, hs);

    /// <inheritdoc/>
    public void RopeAttentionBackward(Buf dqkv, Buf dout, Buf qkv, Buf output, Buf lse, Buf cos, Buf sin, int batch,
        int t, int nh, int hs)
    {
        R.AttentionBackward(D(dqkv), D(dout), D(qkv), D(output), D(lse), batch, t, nh, hs);
        R.RopeBackward(D(dqkv), D(cos), D(sin), batch, t, nh, hs);
    }

    /// <inheritdoc/>
    public void AddRmsNormForward(Buf output, Buf rstd, Buf a, Buf b, int rows, int c, float eps)
        => R.AddRmsNormForward(D(output), D(rstd), D(a), D(b), rows, c, eps);

    /// <inheritdoc/>
    public void RmsNormBackward(Buf dinp, Buf dout, Buf output, Buf rstd, int rows, int c)
        => R.RmsNormBackward(D(dinp), D(dout), D(output), D(rstd), rows, c);

    /// <inheritdoc/>
    public void SwiGluForward(Buf act, Buf gateUp, int rows, int inter) => R.SwiGluForward(D(act), D(gateUp), rows, inter);

    /// <inheritdoc/>
    public void SwiGluBackward(Buf dgateUp, Buf dact, Buf gateUp, int rows, int inter)
        => R.SwiGluBackward(D(dgateUp), D(dact), D(gateUp), rows, inter);

    /// <inheritdoc/>
    public void LmHeadForward(Buf logits, Buf zH, Buf weight, int batch, int t, int p, int c, int v)
        => R.LmHeadForward(D(logits), D(zH), D(weight), batch, t, p, c, v);

    /// <inheritdoc/>
    public void LmHeadBackward(Buf dzH, Buf dweight, Buf dlogits, Buf zH, Buf weight, int batch, int t, int p, int c, int v)
        => R.LmHeadBackward(D(dzH), D(dweight), D(dlogits), D(zH), D(weight), batch, t, p, c, v);

    /// <inheritdoc/>
    public void QHeadForward(Buf q, Buf zH, Buf weight, Buf bias, int batch, int t, int c)
        => R.QHeadForward(D(q), D(zH), D(weight), D(bias), batch, t, c);

    /// <inheritdoc/>
    public void QHeadBackward(Buf dzH, Buf dweight, Buf dbias, Buf dq, Buf zH, Buf weight, int batch, int t, int c)
        => R.QHeadBackward(D(dzH), D(dweight), D(dbias), D(dq), D(zH), D(weight), batch, t, c);

    /// <inheritdoc/>
    public void StablemaxCe(Buf dlogits, Buf dq, Buf rowLoss, Buf rowStats, Buf logits, Buf labels, Buf q, Buf target,
        int batch, int l, int v, LossType lossType, bool training, int globalBatch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        R.StablemaxCe(D(dlogits), D(dq), RowLossDoubles(rowLoss, batch), Ints(rowStats), D(logits), Ints(labels), D(q),
            D(target), batch, l, v, lossType, training, globalBatch);
    }

    /// <inheritdoc/>
    public void AdamATan2Step(Buf param, Buf grad, Buf m, Buf v, double lr, double beta1, double beta2,
        double weightDecay, int stepNumber, Buf skip = default)
    {
        if (Skipped(skip)) return;
        R.AdamATan2Step(D(param), D(grad), D(m), D(v), lr, beta1, beta2, weightDecay, stepNumber);
    }

    /// <inheritdoc/>
    public void SignSgdRows(Buf table, Buf rowGrads, Buf ids, int rows, int width, double lr, double weightDecay,
        Buf skip = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        if (Skipped(skip)) return;
        R.SignSgdRows(D(table), D(rowGrads.Slice(0, (long)rows * width)), Ints(ids)[..rows], width, lr, weightDecay);
    }

    /// <inheritdoc/>
    public void SelectRows(Buf dst, Buf src, Buf mask, int rows, int width)
        => ActMath.SelectRows(Ints(dst), Ints(src), Ints(mask), rows, width);

    /// <inheritdoc/>
    public void ActHalt(Buf halted, Buf steps, Buf q, Buf minSteps, int batch, int maxSteps, ActHaltRule rule)
        => ActMath.Halt<double>(Ints(halted), Ints(steps), D(q), IntsOrEmpty(minSteps), batch, maxSteps, rule);

    /// <inheritdoc/>
    public void ActTarget(Buf target, Buf qNext, Buf steps, int batch, int maxSteps)
        => ActMath.Target<double>(D(target), D(qNext), Ints(steps), batch, maxSteps);

    /// <inheritdoc/>
    public void ActMetrics(Buf sums, Buf skip, Buf halted, Buf steps, Buf q, Buf rowLoss, Buf rowStats, int batch, int slot)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        ActMath.Metrics<double>(IntRegionDoubles(sums, nameof(sums)), Ints(skip), Ints(halted), Ints(steps), D(q),
            RowLossDoubles(rowLoss, batch), Ints(rowStats), batch, slot);
    }

    private static Span<double> D(Buf b)
    {
        if (b.IsEmpty) return [];
        if (b.ElemSize != sizeof(double)) throw new ArgumentException($"expected a double buffer, got {b.ElemSize}-byte elements");
        return new Span<double>((void*)b.Address, checked((int)b.Length));
    }
}
