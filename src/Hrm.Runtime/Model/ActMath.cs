using System.Numerics;
using Hrm.Runtime.Loss;

namespace Hrm.Runtime.Model;

/// <summary>
/// The ACT bookkeeping ops on host spans (spec 1.10, 2.3): what the CPU and reference backends run for
/// <see cref="Backends.IHrmBackend.SelectRows"/>, <c>ActHalt</c>, <c>ActTarget</c> and <c>ActMetrics</c>, and
/// what native/kernels/act.cu mirrors. These are loops over B rows (B ≤ a few thousand): no SIMD or threads, one
/// copy of the logic for float (CPU) and double (reference) elements. Allocates nothing.
/// </summary>
public static class ActMath
{
    /// <summary>Rows r of dst (rows, width) with mask[r] ≠ 0 become the rows of src.</summary>
    public static void SelectRows(Span<int> dst, ReadOnlySpan<int> src, ReadOnlySpan<int> mask, int rows, int width)
    {
        Check(dst.Length, (long)rows * width, nameof(dst));
        Check(src.Length, (long)rows * width, nameof(src));
        Check(mask.Length, rows, nameof(mask));
        for (int r = 0; r < rows; r++)
        {
            if (mask[r] != 0) src.Slice(r * width, width).CopyTo(dst.Slice(r * width, width));
        }
    }

    /// <summary>
    /// After a segment: steps_b = (halted_b ? 0 : steps_b) + 1 (halted holds the rows reset at this call), then
    /// halted_b = steps_b ≥ maxSteps; under a training rule halted_b = (halted_b or says_b) and steps_b ≥
    /// minSteps_b, with says_b = q_halt &gt; q_continue (or q_halt &gt; 0 under <see cref="ActHaltRule.QHaltPositive"/>)
    /// and minSteps_b the exploration minimum (0 = none). q (B,2) [halt, continue].
    /// </summary>
    public static void Halt<T>(Span<int> halted, Span<int> steps, ReadOnlySpan<T> q, ReadOnlySpan<int> minSteps,
        int batch, int maxSteps, ActHaltRule rule) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(halted.Length, batch, nameof(halted));
        Check(steps.Length, batch, nameof(steps));
        Check(q.Length, 2L * batch, nameof(q));
        if (rule != ActHaltRule.MaxSteps) Check(minSteps.Length, batch, nameof(minSteps));
        for (int b = 0; b < batch; b++)
        {
            int s = (halted[b] != 0 ? 0 : steps[b]) + 1;
            bool h = s >= maxSteps;
            if (rule != ActHaltRule.MaxSteps)
            {
                bool says = rule == ActHaltRule.QHaltPositive ? q[2 * b] > T.Zero : q[2 * b] > q[2 * b + 1];
                h = (h || says) && s >= minSteps[b];
            }
            steps[b] = s;
            halted[b] = h ? 1 : 0;
        }
    }

    /// <summary>
    /// The Q-continue bootstrap target from the next segment's Q logits qNext (B,2): target_b = sigmoid(steps_b ≥
    /// maxSteps ? qNext_halt : max(qNext_halt, qNext_continue)), in the element type (1 / (1 + e^−x)).
    /// </summary>
    public static void Target<T>(Span<T> target, ReadOnlySpan<T> qNext, ReadOnlySpan<int> steps, int batch,
        int maxSteps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(target.Length, batch, nameof(target));
        Check(qNext.Length, 2L * batch, nameof(qNext));
        Check(steps.Length, batch, nameof(steps));
        for (int b = 0; b < batch; b++)
        {
            T nh = qNext[2 * b], nc = qNext[2 * b + 1];
            T x = steps[b] >= maxSteps ? nh : T.Max(nh, nc);
            target[b] = T.One / (T.One + T.Exp(-x));
        }
    }

    /// <summary>
    /// Adds one training step to the metric sums (<see cref="ActMetricSums"/>): over rows that halted at this step
    /// with n_b &gt; 0, in row order, count, accuracy (+= correct_b / n_b), exact and q-halt accuracy, steps; then
    /// the column sums of rowLoss (B,3) in row order (the step's <see cref="LossParts"/>) onto the loss sums, and
    /// the step's total lm + 0.5·(q_halt + q_continue) into step slot <paramref name="slot"/>. A total that is not
    /// finite sets skip[0] = 1 (it stays set: the optimisers do nothing once it is).
    /// </summary>
    public static void Metrics<T>(Span<double> sums, Span<int> skip, ReadOnlySpan<int> halted, ReadOnlySpan<int> steps,
        ReadOnlySpan<T> q, ReadOnlySpan<double> rowLoss, ReadOnlySpan<int> rowStats, int batch, int slot)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        if (sums.Length < ActMetricSums.Doubles(slot + 1))
            throw new ArgumentException($"sums: expected at least {ActMetricSums.Doubles(slot + 1)} doubles for slot {slot}, got {sums.Length}", nameof(sums));
        Check(skip.Length, 1, nameof(skip));
        Check(halted.Length, batch, nameof(halted));
        Check(steps.Length, batch, nameof(steps));
        Check(q.Length, 2L * batch, nameof(q));
        Check(rowLoss.Length, 3L * batch, nameof(rowLoss));
        Check(rowStats.Length, 3L * batch, nameof(rowStats));
        for (int b = 0; b < batch; b++)
        {
            int n = rowStats[3 * b];
            if (halted[b] == 0 || n <= 0) continue;
            int correct = rowStats[3 * b + 1];
            bool seqCorrect = correct == n;
            sums[ActMetricSums.Count] += 1;
            sums[ActMetricSums.Accuracy] += (double)correct / n;
            if (seqCorrect) sums[ActMetricSums.ExactAccuracy] += 1;
            if ((q[2 * b] >= T.Zero) == seqCorrect) sums[ActMetricSums.QHaltAccuracy] += 1;
            sums[ActMetricSums.Steps] += steps[b];
        }
        LossParts parts = StablemaxCeMath.Sum(rowLoss, training: true);
        sums[ActMetricSums.LmLoss] += parts.LmLoss;
        sums[ActMetricSums.QHaltLoss] += parts.QHaltLoss;
        sums[ActMetricSums.QContinueLoss] += parts.QContinueLoss;
        double total = parts.Total;
        sums[ActMetricSums.Fixed + slot] = total;
        if (!double.IsFinite(total)) skip[0] = 1;
    }

    private static void Check(int length, long expected, string name)
    {
        if (length != expected)
            throw new ArgumentException($"{name}: expected {expected} elements, got {length}", name);
    }
}
