using System.Numerics;
using Hrm.Runtime.Loss;
using Hrm.Runtime.Numerics;

namespace Hrm.Train.Training;

/// <summary>
/// ACTLossHead of the reference (spec 2.1, 2.2) on host spans: from logits (B,L,V), labels (B,L) with −100 =
/// ignore, the Q logits and the continue targets of one segment, it returns the <see cref="LossParts"/>, keeps the
/// per-row statistics the metrics need (<see cref="ValidCounts"/>, <see cref="CorrectCounts"/>,
/// <see cref="SeqCorrect"/>) and writes the gradients of total/global_batch_size w.r.t. the logits (B,L,V) and the
/// Q logits (B,2) interleaved [halt, continue] (the model's LogitsGrad and QGrad layouts). The arithmetic is the
/// runtime's <see cref="StablemaxCeMath"/> (the CPU and reference backends' <c>StablemaxCe</c> op), in double;
/// the trainer and evaluator run that op on the backend through <see cref="BackendLoss"/>, this class serves host
/// arrays (benchmarks, tests). Calls allocate nothing. Not thread-safe (per-row statistics are state).
/// </summary>
public sealed class HrmLoss
{
    /// <summary>The label that marks a position without loss (<see cref="StablemaxCeMath.IgnoreLabel"/>).</summary>
    public const int IgnoreLabel = StablemaxCeMath.IgnoreLabel;

    private readonly StablemaxCeRows _rows;

    /// <summary>A loss for batches of <paramref name="batch"/> rows of <paramref name="seqLen"/> positions.</summary>
    public HrmLoss(int batch, int seqLen, int vocab, LossType type = LossType.StablemaxCrossEntropy)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        ArgumentOutOfRangeException.ThrowIfNegative(seqLen);
        ArgumentOutOfRangeException.ThrowIfLessThan(vocab, 1);
        if (!Enum.IsDefined(type)) throw new ArgumentOutOfRangeException(nameof(type), type, "unknown loss type");
        Batch = batch;
        SeqLen = seqLen;
        Vocab = vocab;
        Type = type;
        _rows = new StablemaxCeRows(batch);
    }

    /// <summary>B.</summary>
    public int Batch { get; }

    /// <summary>L.</summary>
    public int SeqLen { get; }

    /// <summary>V.</summary>
    public int Vocab { get; }

    /// <summary>The LM loss.</summary>
    public LossType Type { get; }

    /// <summary>n_b of the last call: positions with a label other than −100 (B).</summary>
    public ReadOnlySpan<int> ValidCounts => _rows.ValidCounts;

    /// <summary>Valid positions whose argmax equals the label, per row, of the last call (B).</summary>
    public ReadOnlySpan<int> CorrectCounts => _rows.CorrectCounts;

    /// <summary>seq_correct_b of the last call (B): CorrectCounts == ValidCounts (true when n_b = 0).</summary>
    public ReadOnlySpan<bool> SeqCorrect => _rows.SeqCorrect;

    /// <summary>
    /// Computes the loss of one segment (see the class summary). <paramref name="training"/> adds
    /// q_continue_loss = Σ_b BCE(q_cont_b, target_b); otherwise <paramref name="qContinue"/> and
    /// <paramref name="targetQContinue"/> may be empty and the continue gradient is 0. An empty
    /// <paramref name="logitsGrad"/> or <paramref name="qGrad"/> skips that gradient (evaluation).
    /// </summary>
    /// <param name="logits">(B, L, V).</param>
    /// <param name="labels">(B, L), −100 or a token in [0, V).</param>
    /// <param name="qHalt">Halt logits (B).</param>
    /// <param name="qContinue">Continue logits (B), training only.</param>
    /// <param name="targetQContinue">Bootstrap targets in [0, 1] (B), training only.</param>
    /// <param name="training">Whether the continue loss is part of the total.</param>
    /// <param name="globalBatch">global_batch_size: the gradients are those of total/globalBatch.</param>
    /// <param name="logitsGrad">(B, L, V) written, or empty.</param>
    /// <param name="qGrad">(B, 2) written as [d halt, d continue] per row, or empty.</param>
    public LossParts Compute(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, ReadOnlySpan<float> qHalt,
        ReadOnlySpan<float> qContinue, ReadOnlySpan<float> targetQContinue, bool training, int globalBatch,
        Span<float> logitsGrad, Span<float> qGrad)
        => Compute<float>(logits, labels, qHalt, qContinue, targetQContinue, training, globalBatch, logitsGrad, qGrad);

    /// <summary>
    /// The float <c>Compute</c> for float or double inputs and gradients (the arithmetic is double either way; double in and out lets tests
    /// check the gradients by finite differences).
    /// </summary>
    internal LossParts Compute<T>(ReadOnlySpan<T> logits, ReadOnlySpan<int> labels, ReadOnlySpan<T> qHalt,
        ReadOnlySpan<T> qContinue, ReadOnlySpan<T> targetQContinue, bool training, int globalBatch,
        Span<T> logitsGrad, Span<T> qGrad)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int b = Batch, l = SeqLen, v = Vocab;
        StablemaxCeMath.Check(logits.Length, (long)b * l * v, nameof(logits));
        StablemaxCeMath.Check(labels.Length, (long)b * l, nameof(labels));
        StablemaxCeMath.Check(qHalt.Length, b, nameof(qHalt));
        if (training)
        {
            StablemaxCeMath.Check(qContinue.Length, b, nameof(qContinue));
            StablemaxCeMath.Check(targetQContinue.Length, b, nameof(targetQContinue));
        }
        if (!logitsGrad.IsEmpty) StablemaxCeMath.Check(logitsGrad.Length, (long)b * l * v, nameof(logitsGrad));
        if (!qGrad.IsEmpty) StablemaxCeMath.Check(qGrad.Length, 2L * b, nameof(qGrad));
        StablemaxCeMath.Compute(logitsGrad, qGrad, _rows.LossSpan, _rows.StatsSpan, logits, labels, qHalt, qContinue,
            1, targetQContinue, b, l, v, Type, training, globalBatch);
        return _rows.Finish(training);
    }

    /// <summary>First index of the maximum (NaN never wins over an earlier value): <see cref="Logits.ArgMax"/>.</summary>
    internal static int ArgMax<T>(ReadOnlySpan<T> x) where T : unmanaged, IBinaryFloatingPointIeee754<T> => Logits.ArgMax(x);
}
