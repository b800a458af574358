using Hrm.Runtime.Loss;

namespace Hrm.Runtime.Backends.Cpu;

public static partial class CpuOps
{
    /// <summary>
    /// The ACT loss head on float buffers (<see cref="IHrmBackend.StablemaxCe"/>): <see cref="StablemaxCeMath"/>,
    /// in double, single-threaded (B·L·V is small next to the model). rowLoss (B,3), rowStats (B,3).
    /// </summary>
    public static void StablemaxCe(Span<float> dlogits, Span<float> dq, Span<double> rowLoss, Span<int> rowStats,
        ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, ReadOnlySpan<float> q, ReadOnlySpan<float> target,
        int batch, int l, int v, LossType lossType, bool training, int globalBatch)
        => StablemaxCeMath.Compute(dlogits, dq, rowLoss, rowStats, logits, labels, q, target, batch, l, v, lossType,
            training, globalBatch);
}
