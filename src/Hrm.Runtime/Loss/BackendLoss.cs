using Hrm.Runtime.Backends;
using Hrm.Runtime.Memory;

namespace Hrm.Runtime.Loss;

/// <summary>
/// The ACT loss of a batch through <see cref="IHrmBackend.StablemaxCe"/>, where the logits and Q logits already
/// live: labels (B,L) are checked on the host (<see cref="StablemaxCeMath.CheckLabels"/>) and uploaded with the
/// Q-continue targets (B); the gradients stay in the backend's buffers; only rowLoss and rowStats (B,3 each) come
/// back (<see cref="Rows"/>). Owns its small buffers (freed by Dispose). Calls allocate nothing.
/// </summary>
public sealed class BackendLoss : IDisposable
{
    private readonly IHrmBackend _backend;
    private readonly Buf _labels;   // (B, L) int
    private readonly Buf _target;   // (B)
    private readonly Buf _rowLoss;  // (B, 3) double, as 6B int32
    private readonly Buf _rowStats; // (B, 3) int
    private bool _disposed;

    /// <summary>A loss for batches of <paramref name="batch"/> rows of <paramref name="seqLen"/> positions.</summary>
    public BackendLoss(IHrmBackend backend, int batch, int seqLen, int vocab, LossType type)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(seqLen);
        ArgumentOutOfRangeException.ThrowIfLessThan(vocab, 1);
        if (!Enum.IsDefined(type)) throw new ArgumentOutOfRangeException(nameof(type), type, "unknown loss type");
        _backend = backend;
        Batch = batch;
        SeqLen = seqLen;
        Vocab = vocab;
        Type = type;
        Rows = new StablemaxCeRows(batch);
        _labels = backend.AllocateInts(Math.Max(1L, (long)batch * seqLen), "loss.labels");
        _target = backend.Allocate(batch, "loss.target");
        _rowLoss = backend.AllocateInts(StablemaxCeRows.RowLossInts(batch), "loss.row_loss");
        _rowStats = backend.AllocateInts(3L * batch, "loss.row_stats");
    }

    /// <summary>B.</summary>
    public int Batch { get; }

    /// <summary>L.</summary>
    public int SeqLen { get; }

    /// <summary>V.</summary>
    public int Vocab { get; }

    /// <summary>The LM loss.</summary>
    public LossType Type { get; }

    /// <summary>The per-row results of the last call.</summary>
    public StablemaxCeRows Rows { get; }

    /// <summary>
    /// The loss of one segment (see <see cref="StablemaxCeMath"/>) from backend buffers.
    /// </summary>
    /// <param name="logits">(B, L, V) backend buffer.</param>
    /// <param name="labels">(B, L) host labels, −100 or a token in [0, V).</param>
    /// <param name="q">(B, 2) backend buffer [halt, continue].</param>
    /// <param name="target">(B) host Q-continue targets, training only (may be empty otherwise).</param>
    /// <param name="training">Whether the continue loss is part of the total.</param>
    /// <param name="globalBatch">The gradients are those of total/globalBatch.</param>
    /// <param name="dlogits">(B, L, V) backend buffer written, or empty.</param>
    /// <param name="dq">(B, 2) backend buffer written, or empty.</param>
    public LossParts Compute(Buf logits, ReadOnlySpan<int> labels, Buf q, ReadOnlySpan<float> target, bool training,
        int globalBatch, Buf dlogits, Buf dq)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        StablemaxCeMath.Check(labels.Length, (long)Batch * SeqLen, nameof(labels));
        StablemaxCeMath.CheckLabels(labels, Vocab);
        if (labels.Length > 0) _backend.UploadInts(labels, _labels);
        if (training)
        {
            StablemaxCeMath.Check(target.Length, Batch, nameof(target));
            _backend.Upload(target, _target);
        }
        _backend.StablemaxCe(dlogits, dq, _rowLoss, _rowStats, logits, LabelsView, q, training ? _target : Buf.Empty,
            Batch, SeqLen, Vocab, Type, training, globalBatch);
        return Rows.Read(_backend, _rowLoss, _rowStats, training);
    }

    /// <summary>
    /// The loss of one segment with everything already in backend buffers: labels (B,L) int (checked when they were
    /// uploaded, e.g. the workspace carry's labels) and, when training, the continue targets (B). Nothing is read back:
    /// the per-row results stay in <see cref="RowLossBuffer"/> and <see cref="RowStatsBuffer"/> (for
    /// <see cref="IHrmBackend.ActMetrics"/>) and the gradients in <paramref name="dlogits"/> and <paramref name="dq"/>.
    /// </summary>
    public void ComputeRows(Buf logits, Buf labels, Buf q, Buf target, bool training, int globalBatch, Buf dlogits, Buf dq)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        labels.Expect((long)Batch * SeqLen, nameof(labels));
        if (training) target.Expect(Batch, nameof(target));
        _backend.StablemaxCe(dlogits, dq, _rowLoss, _rowStats, logits, labels, q, training ? target : Buf.Empty,
            Batch, SeqLen, Vocab, Type, training, globalBatch);
    }

    /// <summary>rowLoss (B,3) double of the last call, as an int32 region of 6·B elements.</summary>
    public Buf RowLossBuffer => _rowLoss;

    /// <summary>rowStats (B,3) int of the last call.</summary>
    public Buf RowStatsBuffer => _rowStats;

    private Buf LabelsView => _labels.Slice(0, (long)Batch * SeqLen);

    /// <summary>Frees the buffers.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _backend.Free(_labels);
        _backend.Free(_target);
        _backend.Free(_rowLoss);
        _backend.Free(_rowStats);
    }
}
