using Hrm.Runtime.Loss;

namespace Hrm.Train.Training;

/// <summary>
/// The reference's ACT metrics (spec 2.3), summed over calls until <see cref="Reset"/>. The per-row metrics count
/// only rows that halted at the call and have at least one valid label ("valid" rows): count, accuracy
/// (Σ correct_b/n_b), exact_accuracy (# seq_correct), q_halt_accuracy (# ((q_halt ≥ 0) == seq_correct)) and steps
/// (Σ steps). The loss metrics lm_loss, q_halt_loss and q_continue_loss are the <see cref="LossParts"/> of the
/// call, which the reference sums over <b>every</b> row of the batch (halted or not, valid or not), not over the
/// valid rows; this class does the same. Sums are kept in double (the reference uses float32 tensors).
/// Add and Reset allocate nothing.
/// </summary>
public sealed class HrmMetrics
{
    /// <summary>Valid rows added.</summary>
    public long Count { get; private set; }

    /// <summary>Σ over valid rows of correct tokens / n_b.</summary>
    public double Accuracy { get; private set; }

    /// <summary>Valid rows with every valid position correct.</summary>
    public long ExactAccuracy { get; private set; }

    /// <summary>Valid rows where (q_halt ≥ 0) == seq_correct.</summary>
    public long QHaltAccuracy { get; private set; }

    /// <summary>Σ over valid rows of the steps taken.</summary>
    public long Steps { get; private set; }

    /// <summary>Σ over calls of lm_loss (each a sum over all rows).</summary>
    public double LmLoss { get; private set; }

    /// <summary>Σ over calls of q_halt_loss (each a sum over all rows).</summary>
    public double QHaltLoss { get; private set; }

    /// <summary>Σ over calls of q_continue_loss (training calls only).</summary>
    public double QContinueLoss { get; private set; }

    /// <summary>True once a call with a continue loss (training) was added: q_continue_loss is then reported.</summary>
    public bool HasQContinue { get; private set; }

    /// <summary>Adds one call, with the per-row statistics <paramref name="loss"/> kept from its last Compute.</summary>
    /// <param name="loss">The loss that computed <paramref name="parts"/>.</param>
    /// <param name="parts">What that Compute returned.</param>
    /// <param name="halted">Rows that halted at this call (B), e.g. ActState.Halted after the step.</param>
    /// <param name="steps">Steps of each row after the call (B), e.g. ActState.Steps.</param>
    /// <param name="qHalt">Halt logits of the call (B).</param>
    public void Add(HrmLoss loss, LossParts parts, ReadOnlySpan<bool> halted, ReadOnlySpan<int> steps,
        ReadOnlySpan<float> qHalt)
        => Add(halted, steps, qHalt, loss.ValidCounts, loss.CorrectCounts, parts);

    /// <summary>Adds one call from explicit per-row statistics (all spans of length B).</summary>
    /// <param name="halted">Rows that halted at this call.</param>
    /// <param name="steps">Steps of each row after the call.</param>
    /// <param name="qHalt">Halt logits.</param>
    /// <param name="validCounts">n_b: labels other than −100.</param>
    /// <param name="correctCounts">Valid positions whose argmax equals the label.</param>
    /// <param name="parts">The call's loss sums.</param>
    public void Add(ReadOnlySpan<bool> halted, ReadOnlySpan<int> steps, ReadOnlySpan<float> qHalt,
        ReadOnlySpan<int> validCounts, ReadOnlySpan<int> correctCounts, LossParts parts)
    {
        int b = halted.Length;
        Check(steps.Length, b, nameof(steps));
        Check(qHalt.Length, b, nameof(qHalt));
        Check(validCounts.Length, b, nameof(validCounts));
        Check(correctCounts.Length, b, nameof(correctCounts));
        for (int row = 0; row < b; row++)
        {
            int n = validCounts[row];
            if (!halted[row] || n <= 0) continue;
            int correct = correctCounts[row];
            bool seqCorrect = correct == n;
            Count++;
            Accuracy += (double)correct / n;
            if (seqCorrect) ExactAccuracy++;
            if ((qHalt[row] >= 0) == seqCorrect) QHaltAccuracy++;
            Steps += steps[row];
        }
        LmLoss += parts.LmLoss;
        QHaltLoss += parts.QHaltLoss;
        if (parts.HasQContinue)
        {
            QContinueLoss += parts.QContinueLoss;
            HasQContinue = true;
        }
    }

    /// <summary>
    /// Adds sums accumulated where the training step runs (<see cref="ActMetricSums"/> layout, at least its
    /// <see cref="ActMetricSums.Fixed"/> doubles): the same sums <see cref="Add(ReadOnlySpan{bool}, ReadOnlySpan{int},
    /// ReadOnlySpan{float}, ReadOnlySpan{int}, ReadOnlySpan{int}, LossParts)"/> keeps, so a reset object given one
    /// interval's sums reports exactly what adding its steps one by one would. q_continue_loss counts only when
    /// <paramref name="hasQContinue"/>.
    /// </summary>
    public void AddSums(ReadOnlySpan<double> sums, bool hasQContinue)
    {
        if (sums.Length < ActMetricSums.Fixed)
            throw new ArgumentException($"sums: expected at least {ActMetricSums.Fixed} values, got {sums.Length}", nameof(sums));
        Count += (long)sums[ActMetricSums.Count];
        Accuracy += sums[ActMetricSums.Accuracy];
        ExactAccuracy += (long)sums[ActMetricSums.ExactAccuracy];
        QHaltAccuracy += (long)sums[ActMetricSums.QHaltAccuracy];
        Steps += (long)sums[ActMetricSums.Steps];
        LmLoss += sums[ActMetricSums.LmLoss];
        QHaltLoss += sums[ActMetricSums.QHaltLoss];
        if (!hasQContinue) return;
        QContinueLoss += sums[ActMetricSums.QContinueLoss];
        HasQContinue = true;
    }

    /// <summary>Clears every sum.</summary>
    public void Reset()
    {
        Count = 0;
        Accuracy = 0;
        ExactAccuracy = 0;
        QHaltAccuracy = 0;
        Steps = 0;
        LmLoss = 0;
        QHaltLoss = 0;
        QContinueLoss = 0;
        HasQContinue = false;
    }

    /// <summary>
    /// The logged values under the reference's names. Training (<c>train/</c>): the losses (lm_loss, q_halt_loss,
    /// q_continue_loss when present) ÷ <paramref name="globalBatch"/>, every other metric ÷ max(count, 1) — count
    /// included, as the reference does, so <c>train/count</c> is 1 (or 0 when no row was valid) — plus
    /// <c>train/lr</c> when <paramref name="lr"/> is given. Evaluation (<c>eval/</c>): count is not logged and every
    /// other metric, losses included, is ÷ count (NaN or ∞ when count = 0, as in the reference).
    /// </summary>
    public Dictionary<string, double> Report(bool train, int globalBatch, double? lr = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(globalBatch, 1);
        var r = new Dictionary<string, double>(StringComparer.Ordinal);
        if (train)
        {
            double count = Math.Max(Count, 1);
            r["train/accuracy"] = Accuracy / count;
            r["train/count"] = Count / count;
            r["train/exact_accuracy"] = ExactAccuracy / count;
            r["train/lm_loss"] = LmLoss / globalBatch;
            if (HasQContinue) r["train/q_continue_loss"] = QContinueLoss / globalBatch;
            r["train/q_halt_accuracy"] = QHaltAccuracy / count;
            r["train/q_halt_loss"] = QHaltLoss / globalBatch;
            r["train/steps"] = Steps / count;
            if (lr is double rate) r["train/lr"] = rate;
        }
        else
        {
            double count = Count;
            r["eval/accuracy"] = Accuracy / count;
            r["eval/exact_accuracy"] = ExactAccuracy / count;
            r["eval/lm_loss"] = LmLoss / count;
            if (HasQContinue) r["eval/q_continue_loss"] = QContinueLoss / count;
            r["eval/q_halt_accuracy"] = QHaltAccuracy / count;
            r["eval/q_halt_loss"] = QHaltLoss / count;
            r["eval/steps"] = Steps / count;
        }
        return r;
    }

    private static void Check(int length, int expected, string name)
    {
        if (length != expected)
            throw new ArgumentException($"{name}: expected {expected} elements, got {length}", name);
    }
}
