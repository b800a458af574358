namespace Hrm.Runtime.Loss;

/// <summary>
/// The layout of the metric sums <see cref="Backends.IHrmBackend.ActMetrics"/> accumulates where the training step
/// runs, read by the host once per logging interval: doubles [count, accuracy, exact_accuracy, q_halt_accuracy,
/// steps, lm_loss, q_halt_loss, q_continue_loss] (the sums of <c>HrmMetrics</c>), then one total loss per step slot.
/// The region is an int32 region of <see cref="Ints"/> elements, 8-byte aligned, holding the doubles bit for bit
/// (as the loss's rowLoss).
/// </summary>
public static class ActMetricSums
{
    /// <summary>Valid halted rows.</summary>
    public const int Count = 0;

    /// <summary>Σ correct_b / n_b over valid halted rows.</summary>
    public const int Accuracy = 1;

    /// <summary>Valid halted rows with every valid position correct.</summary>
    public const int ExactAccuracy = 2;

    /// <summary>Valid halted rows where (q_halt ≥ 0) == seq_correct.</summary>
    public const int QHaltAccuracy = 3;

    /// <summary>Σ steps over valid halted rows.</summary>
    public const int Steps = 4;

    /// <summary>Σ over steps of Σ_b lm_b.</summary>
    public const int LmLoss = 5;

    /// <summary>Σ over steps of Σ_b qhalt_b.</summary>
    public const int QHaltLoss = 6;

    /// <summary>Σ over steps of Σ_b qcont_b.</summary>
    public const int QContinueLoss = 7;

    /// <summary>Doubles before the per-step totals.</summary>
    public const int Fixed = 8;

    /// <summary>Doubles of a region with <paramref name="slots"/> step totals.</summary>
    public static int Doubles(int slots) => Fixed + slots;

    /// <summary>Int32 elements of a region with <paramref name="slots"/> step totals.</summary>
    public static long Ints(int slots) => 2L * Doubles(slots);
}
