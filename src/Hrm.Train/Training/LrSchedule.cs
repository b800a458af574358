namespace Hrm.Train.Training;

/// <summary>
/// The reference's learning-rate schedule (spec 3.2, <c>cosine_schedule_with_warmup_lr_lambda</c> with
/// num_cycles = 0.5), used by both optimisers with their own base rate, and its total step count.
/// </summary>
public static class LrSchedule
{
    /// <summary>
    /// The learning rate of update <paramref name="step"/> (counted from 1: the reference increments its step counter
    /// before the update, so the first update gets base/W). For t &lt; W: base·t/max(1, W) (linear warmup). Otherwise
    /// base·(r + max(0, (1 − r)·0.5·(1 + cos(π·p)))) with p = (t − W)/max(1, T − W), which falls from base at t = W to
    /// base·r at t = T; r = 1 gives a constant rate after warmup. Past <paramref name="totalSteps"/> the formula is
    /// evaluated unchanged, as the reference would: p &gt; 1 and the cosine climbs back towards base (period 2(T − W)).
    /// The reference never gets there because it stops updating once t &gt; T; callers should stop as well.
    /// </summary>
    /// <param name="baseLr">Base rate (lr or puzzle_emb_lr).</param>
    /// <param name="step">Update number t, from 1.</param>
    /// <param name="warmupSteps">W = lr_warmup_steps.</param>
    /// <param name="totalSteps">T = <see cref="TotalSteps"/>.</param>
    /// <param name="minRatio">r = lr_min_ratio.</param>
    public static double Lr(double baseLr, long step, long warmupSteps, long totalSteps, double minRatio)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        ArgumentOutOfRangeException.ThrowIfNegative(warmupSteps);
        ArgumentOutOfRangeException.ThrowIfNegative(totalSteps);
        if (step < warmupSteps) return baseLr * step / Math.Max(1, warmupSteps);
        double progress = (double)(step - warmupSteps) / Math.Max(1, totalSteps - warmupSteps);
        return baseLr * (minRatio + Math.Max(0.0, (1 - minRatio) * 0.5 * (1.0 + Math.Cos(Math.PI * progress))));
    }

    /// <summary>
    /// T_total = floor(epochs · total_groups · mean_puzzle_examples / global_batch_size), evaluated in double in that
    /// order as the reference does (Sudoku-1k: 20000·1000·1/768 = 26,041).
    /// </summary>
    public static long TotalSteps(long epochs, long totalGroups, double meanPuzzleExamples, int globalBatch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epochs);
        ArgumentOutOfRangeException.ThrowIfNegative(totalGroups);
        ArgumentOutOfRangeException.ThrowIfLessThan(globalBatch, 1);
        if (!(meanPuzzleExamples >= 0) || double.IsInfinity(meanPuzzleExamples))
        {
            throw new ArgumentOutOfRangeException(nameof(meanPuzzleExamples), meanPuzzleExamples,
                "must be finite and >= 0");
        }
        return (long)Math.Floor((double)checked(epochs * totalGroups) * meanPuzzleExamples / globalBatch);
    }
}
