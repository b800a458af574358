using Hrm.Runtime.Loss;
using Hrm.Runtime.Memory;

namespace Hrm.Runtime.Backends.Cuda;

/// <summary>The ACT loss head (stablemax_ce.cu).</summary>
public sealed unsafe partial class CudaBackend
{
    /// <inheritdoc/>
    /// <remarks>
    /// One launch of <c>stablemax_ce_kernel1</c> (grid B, block 256); the batch sums are left to the host
    /// (<see cref="StablemaxCeRows.Read"/>). Labels are not validated here: a bad label gives its row a NaN loss
    /// (<see cref="BackendLoss"/> checks them on the host before uploading).
    /// </remarks>
    public void StablemaxCe(Buf dlogits, Buf dq, Buf rowLoss, Buf rowStats, Buf logits, Buf labels, Buf q, Buf target,
        int batch, int l, int v, LossType lossType, bool training, int globalBatch)
    {
        Enter();
        NonNegative(batch);
        NonNegative(l);
        ArgumentOutOfRangeException.ThrowIfLessThan(v, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(globalBatch, 1);
        if (!Enum.IsDefined(lossType)) throw new ArgumentOutOfRangeException(nameof(lossType), lossType, "unknown loss type");
        long cells = (long)batch * l * v;
        Need(logits, cells, nameof(logits));
        NeedInts(labels, (long)batch * l, nameof(labels));
        Need(q, 2L * batch, nameof(q));
        if (training) Need(target, batch, nameof(target));
        if (!dlogits.IsEmpty) Need(dlogits, cells, nameof(dlogits));
        if (!dq.IsEmpty) Need(dq, 2L * batch, nameof(dq));
        NeedInts(rowLoss, StablemaxCeRows.RowLossInts(batch), nameof(rowLoss));
        NeedInts(rowStats, 3L * batch, nameof(rowStats));
        if (rowLoss.Address % sizeof(double) != 0)
            throw new ArgumentException($"rowLoss: expected an 8-byte aligned region, got address 0x{rowLoss.Address:x}", nameof(rowLoss));
        if (batch == 0) return;
        _ints.Forget(rowLoss.Address, StablemaxCeRows.RowLossInts(batch)); // written by the kernel
        _ints.Forget(rowStats.Address, 3L * batch);
        ulong pg = Ptr(dlogits), pdq = Ptr(dq), pl = Ptr(rowLoss), ps = Ptr(rowStats), px = Ptr(logits),
            py = Ptr(labels), pq = Ptr(q), pt = training ? Ptr(target) : 0UL;
        int train = training ? 1 : 0, type = (int)lossType;
        void** a = stackalloc void*[] { &pg, &pdq, &pl, &ps, &px, &py, &pq, &pt, &batch, &l, &v, &globalBatch, &train, &type };
        Launch(_k.StablemaxCe, "ppppppppiiiiii", (uint)batch, 256, 0, a);
        Done();
    }
}
