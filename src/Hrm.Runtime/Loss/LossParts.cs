namespace Hrm.Runtime.Loss;

/// <summary>
/// The loss parts of one call as sums over every row of the batch (not divided by the global batch size), the
/// numbers the reference stores in its metrics: lm_loss = Σ_b Σ_t CE_{b,t}/max(n_b, 1), q_halt_loss and
/// q_continue_loss = Σ_b BCE-with-logits. <see cref="HasQContinue"/> is false outside training, where the
/// continue loss is 0 and not logged.
/// </summary>
public readonly record struct LossParts(double LmLoss, double QHaltLoss, double QContinueLoss, bool HasQContinue)
{
    /// <summary>
    /// total = lm_loss + 0.5·(q_halt_loss + q_continue_loss); the gradient is of total/global_batch_size.
    /// </summary>
    public double Total => LmLoss + 0.5 * (QHaltLoss + QContinueLoss);
}
