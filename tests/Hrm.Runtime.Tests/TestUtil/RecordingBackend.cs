using Hrm.Runtime.Backends;
using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Loss;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;

namespace Hrm.Runtime.Tests.TestUtil;

/// <summary>
/// A CPU backend that records <see cref="IHrmBackend.RunRecorded"/> sequences the way the CUDA backend captures a
/// graph, through the same <see cref="RecordedSequences{TRecording}"/> bookkeeping: while recording, every op is
/// appended to a list and not run; a replay runs the list. So the model's recorded sequences are checked on the CPU
/// for what a graph needs: the ops alone produce the result (nothing on the host in between) and no host copy sits
/// inside (one fails the recording, like a capture the driver refuses, and the sequence then runs op by op).
/// </summary>
internal sealed class RecordingBackend(int threads) : IHrmBackend
{
    private readonly CpuBackend _inner = new(threads);
    private List<Action>? _recording;
    private RecordedSequences<OpList>? _sequences;

    /// <summary>The bookkeeping (counts, replays, fallbacks).</summary>
    public RecordedSequences<OpList> Sequences => _sequences ??= new RecordedSequences<OpList>(Record,
        list => list.Replay(), () => Epoch);

    /// <summary>Bumped by every Free (a recording would hold freed addresses).</summary>
    public long Epoch { get; private set; }

    public string Name => "cpu-recording";

    public int ElementSize => _inner.ElementSize;

    public long AllocatedBytes => _inner.AllocatedBytes;

    public bool SupportsOp(HrmOp op) => _inner.SupportsOp(op);

    public bool PrefersRopeInAttention => _inner.PrefersRopeInAttention;

    /// <inheritdoc/>
    public bool Bf16Intermediates => _inner.Bf16Intermediates;

    /// <inheritdoc/>
    public bool Bf16QkvForward(int t, int hs) => _inner.Bf16QkvForward(t, hs);

    public bool Bf16StreamForward(int t, int hs) => _inner.Bf16StreamForward(t, hs);

    /// <summary>What <see cref="BlockChunkRows"/> answers for every block, recorded or not (0, the CPU's answer,
    /// unless a test sets it).</summary>
    public int ChunkRows { get; set; }

    /// <inheritdoc/>
    public int BlockChunkRows(int rows, int t, int hs, bool record) =>
        ChunkRows > 0 && rows > ChunkRows ? ChunkRows : 0;

    /// <inheritdoc/>
    public bool Bf16QkvRecorded(int t, int hs) => _inner.Bf16QkvRecorded(t, hs);

    /// <inheritdoc/>
    public bool TryFusedModuleForward(Buf z, Buf inj, ReadOnlySpan<Buf> weights, Buf cos, Buf sin, int batch, int t,
        int nh, int hs, int inter, float eps) => false; // as the CPU backend: the model runs the ops (recorded)

    public Buf Allocate(long elements, string name) => _inner.Allocate(elements, name);

    public Buf AllocateInts(long count, string name) => _inner.AllocateInts(count, name);

    public void Free(Buf region)
    {
        NoHostWork(nameof(Free));
        Epoch++;
        _inner.Free(region);
    }

    public void Upload(ReadOnlySpan<float> src, Buf dst)
    {
        NoHostWork(nameof(Upload));
        _inner.Upload(src, dst);
    }

    public void Download(Buf src, Span<float> dst)
    {
        NoHostWork(nameof(Download));
        _inner.Download(src, dst);
    }

    public void UploadInts(ReadOnlySpan<int> src, Buf dst)
    {
        NoHostWork(nameof(UploadInts));
        _inner.UploadInts(src, dst);
    }

    public void DownloadInts(Buf src, Span<int> dst)
    {
        NoHostWork(nameof(DownloadInts));
        _inner.DownloadInts(src, dst);
    }

    public void RunRecorded(Action ops)
    {
        ArgumentNullException.ThrowIfNull(ops);
        if (_recording != null) ops();
        else Sequences.Run(ops);
    }

    public void BeginWeightReuse() => _inner.BeginWeightReuse();

    public void EndWeightReuse() => _inner.EndWeightReuse();

    public void Fill(Buf dst, float value) => Op(() => _inner.Fill(dst, value));

    public void Copy(Buf dst, Buf src) => Op(() => _inner.Copy(dst, src));

    public void Add(Buf dst, Buf a, Buf b) => Op(() => _inner.Add(dst, a, b));

    public void ResetCarry(Buf z, Buf init, Buf halted, int batch, int t, int c) =>
        Op(() => _inner.ResetCarry(z, init, halted, batch, t, c));

    public void GatherRows(Buf dst, Buf table, Buf ids, int n, int w) =>
        Op(() => _inner.GatherRows(dst, table, ids, n, w));

    public void EmbeddingForward(Buf x, Buf tokens, Buf puzzleRows, Buf tokTable, Buf posTable, int batch, int l,
        int p, int pd, int c, int v, float scale) =>
        Op(() => _inner.EmbeddingForward(x, tokens, puzzleRows, tokTable, posTable, batch, l, p, pd, c, v, scale));

    public void EmbeddingBackward(Buf dTokTable, Buf dPuzzleRows, Buf dPosTable, Buf dx, Buf tokens, int batch, int l,
        int p, int pd, int c, int v, float scale) =>
        Op(() => _inner.EmbeddingBackward(dTokTable, dPuzzleRows, dPosTable, dx, tokens, batch, l, p, pd, c, v,
            scale));

    public void MatmulForward(Buf output, Buf inp, Buf weight, int m, int k, int n) =>
        Op(() => _inner.MatmulForward(output, inp, weight, m, k, n));

    public void MatmulSwiGluForward(Buf act, Buf gateUp, Buf inp, Buf weight, int m, int k, int inter,
        bool keepGateUp = false) =>
        Op(() => _inner.MatmulSwiGluForward(act, gateUp, inp, weight, m, k, inter, keepGateUp));

    public void MatmulRopeForward(Buf qkv, Buf inp, Buf weight, Buf cos, Buf sin, int batch, int t, int k, int nh,
        int hs) =>
        Op(() => _inner.MatmulRopeForward(qkv, inp, weight, cos, sin, batch, t, k, nh, hs));

    public void MatmulBackward(Buf dinp, Buf dweight, Buf dout, Buf inp, Buf weight, int m, int k, int n,
        bool accumulate = false) =>
        Op(() => _inner.MatmulBackward(dinp, dweight, dout, inp, weight, m, k, n, accumulate));

    public void RopeForward(Buf qkv, Buf cos, Buf sin, int batch, int t, int nh, int hs) =>
        Op(() => _inner.RopeForward(qkv, cos, sin, batch, t, nh, hs));

    public void RopeBackward(Buf dqkv, Buf cos, Buf sin, int batch, int t, int nh, int hs) =>
        Op(() => _inner.RopeBackward(dqkv, cos, sin, batch, t, nh, hs));

    public void AttentionForward(Buf output, Buf lse, Buf qkv, int batch, int t, int nh, int hs) =>
        Op(() => _inner.AttentionForward(output, lse, qkv, batch, t, nh, hs));

    public void RopeAttentionForward(Buf output, Buf lse, Buf qkv, Buf cos, Buf sin, int batch, int t, int nh,
        int hs, bool keepRotated = true) =>
        Op(() => _inner.RopeAttentionForward(output, lse, qkv, cos, sin, batch, t, nh, hs, keepRotated));

    public void AttentionBackward(Buf dqkv, Buf dout, Buf qkv, Buf output, Buf lse, int batch, int t, int nh,
        int hs) =>
        Op(() => _inner.AttentionBackward(dqkv, dout, qkv, output, lse, batch, t, nh, hs));

    public void RopeAttentionBackward(Buf dqkv, Buf dout, Buf qkv, Buf output, Buf lse, Buf cos, Buf sin, int batch,
        int t, int nh, int hs) =>
        Op(() => _inner.RopeAttentionBackward(dqkv, dout, qkv, output, lse, cos, sin, batch, t, nh, hs));

    public void AddRmsNormForward(Buf output, Buf rstd, Buf a, Buf b, int rows, int c, float eps) =>
        Op(() => _inner.AddRmsNormForward(output, rstd, a, b, rows, c, eps));

    public void RmsNormBackward(Buf dinp, Buf dout, Buf output, Buf rstd, int rows, int c) =>
        Op(() => _inner.RmsNormBackward(dinp, dout, output, rstd, rows, c));

    public void SwiGluForward(Buf act, Buf gateUp, int rows, int inter) =>
        Op(() => _inner.SwiGluForward(act, gateUp, rows, inter));

    public void SwiGluBackward(Buf dgateUp, Buf dact, Buf gateUp, int rows, int inter) =>
        Op(() => _inner.SwiGluBackward(dgateUp, dact, gateUp, rows, inter));

    public void LmHeadForward(Buf logits, Buf zH, Buf weight, int batch, int t, int p, int c, int v) =>
        Op(() => _inner.LmHeadForward(logits, zH, weight, batch, t, p, c, v));

    public void LmHeadBackward(Buf dzH, Buf dweight, Buf dlogits, Buf zH, Buf weight, int batch, int t, int p, int c,
        int v) =>
        Op(() => _inner.LmHeadBackward(dzH, dweight, dlogits, zH, weight, batch, t, p, c, v));

    public void QHeadForward(Buf q, Buf zH, Buf weight, Buf bias, int batch, int t, int c) =>
        Op(() => _inner.QHeadForward(q, zH, weight, bias, batch, t, c));

    public void QHeadBackward(Buf dzH, Buf dweight, Buf dbias, Buf dq, Buf zH, Buf weight, int batch, int t, int c) =>
        Op(() => _inner.QHeadBackward(dzH, dweight, dbias, dq, zH, weight, batch, t, c));

    public void StablemaxCe(Buf dlogits, Buf dq, Buf rowLoss, Buf rowStats, Buf logits, Buf labels, Buf q, Buf target,
        int batch, int l, int v, LossType lossType, bool training, int globalBatch) =>
        Op(() => _inner.StablemaxCe(dlogits, dq, rowLoss, rowStats, logits, labels, q, target, batch, l, v, lossType,
            training, globalBatch));

    public void AdamATan2Step(Buf param, Buf grad, Buf m, Buf v, double lr, double beta1, double beta2,
        double weightDecay, int stepNumber, Buf skip = default) =>
        Op(() => _inner.AdamATan2Step(param, grad, m, v, lr, beta1, beta2, weightDecay, stepNumber, skip));

    public void SignSgdRows(Buf table, Buf rowGrads, Buf ids, int rows, int width, double lr, double weightDecay,
        Buf skip = default) =>
        Op(() => _inner.SignSgdRows(table, rowGrads, ids, rows, width, lr, weightDecay, skip));

    /// <summary>Every <see cref="ReserveScratch"/> call, in order.</summary>
    public List<ScratchShapes> Reserved { get; } = [];

    /// <summary>The weights of the last <see cref="ReserveScratch"/> call.</summary>
    public Buf[] ReservedWeights { get; private set; } = [];

    public void ReserveScratch(in ScratchShapes shapes, ReadOnlySpan<Buf> weights)
    {
        Reserved.Add(shapes);
        ReservedWeights = weights.ToArray();
        _inner.ReserveScratch(shapes, weights);
    }

    public void SelectRows(Buf dst, Buf src, Buf mask, int rows, int width) =>
        Op(() => _inner.SelectRows(dst, src, mask, rows, width));

    public void ActHalt(Buf halted, Buf steps, Buf q, Buf minSteps, int batch, int maxSteps, ActHaltRule rule) =>
        Op(() => _inner.ActHalt(halted, steps, q, minSteps, batch, maxSteps, rule));

    public void ActTarget(Buf target, Buf qNext, Buf steps, int batch, int maxSteps) =>
        Op(() => _inner.ActTarget(target, qNext, steps, batch, maxSteps));

    public void ActMetrics(Buf sums, Buf skip, Buf halted, Buf steps, Buf q, Buf rowLoss, Buf rowStats, int batch,
        int slot) =>
        Op(() => _inner.ActMetrics(sums, skip, halted, steps, q, rowLoss, rowStats, batch, slot));

    public void Dispose()
    {
        _sequences?.Dispose();
        _inner.Dispose();
    }

    private OpList Record(Action ops)
    {
        _recording = [];
        try
        {
            ops();
            return new OpList([.. _recording]);
        }
        finally
        {
            _recording = null;
        }
    }

    private void Op(Action op)
    {
        if (_recording != null) _recording.Add(op);
        else op();
    }

    private void NoHostWork(string call)
    {
        if (_recording != null) throw new RecordingFailedException($"{call} inside a recorded sequence");
    }

    /// <summary>A recording: the ops in order.</summary>
    internal sealed class OpList(Action[] ops) : IDisposable
    {
        public int Count => ops.Length;

        public void Replay()
        {
            foreach (Action op in ops) op();
        }

        public void Dispose()
        {
        }
    }
}
