using Hrm.Runtime.Loss;

namespace Hrm.Runtime.Backends.Reference;

public static partial class ReferenceOps
{
    /// <summary>
    /// The ACT loss head on double buffers (<see cref="IHrmBackend.StablemaxCe"/>). The arithmetic is the CPU
    /// backend's <see cref="StablemaxCeMath"/>, which already works in double for any element type, so there is
    /// no second copy of the math: only the element type differs. rowLoss (B,3), rowStats (B,3).
    /// </summary>
    public static void StablemaxCe(Span<double> dlogits, Span<double> dq, Span<double> rowLoss, Span<int> rowStats,
        ReadOnlySpan<double> logits, ReadOnlySpan<int> labels, ReadOnlySpan<double> q, ReadOnlySpan<double> target,
        int batch, int l, int v, LossType lossType, bool training, int globalBatch)
        => StablemaxCeMath.Compute(dlogits, dq, rowLoss, rowStats, logits, labels, q, target, batch, l, v, lossType,
            training, globalBatch);
}
