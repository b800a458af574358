using Hrm.Runtime.Loss;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;

namespace Hrm.Runtime.Backends.Cuda;

/// <summary>ACT bookkeeping on the device (act.cu): nothing here reads device memory back.</summary>
public sealed unsafe partial class CudaBackend
{
    /// <inheritdoc/>
    /// <remarks>
    /// The recorded value range of dst (for the host-side token and id checks) becomes the union of dst's and src's
    /// when both are known, and is forgotten otherwise (the next check then downloads the values once).
    /// </remarks>
    public void SelectRows(Buf dst, Buf src, Buf mask, int rows, int width)
    {
        Enter();
        NonNegative(rows);
        NonNegative(width);
        long n = (long)rows * width;
        NeedInts(dst, n, nameof(dst));
        NeedInts(src, n, nameof(src));
        NeedInts(mask, rows, nameof(mask));
        if (_ints.TryGet(dst.Address, n, out int dMin, out int dMax) && _ints.TryGet(src.Address, n, out int sMin, out int sMax))
            _ints.Record(dst.Address, n, Math.Min(dMin, sMin), Math.Max(dMax, sMax));
        else
            _ints.Forget(dst.Address, n);
        if (n == 0) return;
        ulong pd = Ptr(dst), ps = Ptr(src), pm = Ptr(mask);
        void** a = stackalloc void*[] { &pd, &ps, &pm, &rows, &width };
        Launch(_k.SelectRows, "pppii", (uint)rows, 256, 0, a);
        Done();
    }

    /// <inheritdoc/>
    public void ActHalt(Buf halted, Buf steps, Buf q, Buf minSteps, int batch, int maxSteps, ActHaltRule rule)
    {
        Enter();
        NonNegative(batch);
        if (!Enum.IsDefined(rule)) throw new ArgumentOutOfRangeException(nameof(rule), rule, "unknown halting rule");
        NeedInts(halted, batch, nameof(halted));
        NeedInts(steps, batch, nameof(steps));
        Need(q, 2L * batch, nameof(q));
        if (rule != ActHaltRule.MaxSteps) NeedInts(minSteps, batch, nameof(minSteps));
        if (batch == 0) return;
        _ints.Forget(halted.Address, batch); // written by the kernel: their recorded ranges no longer hold
        _ints.Forget(steps.Address, batch);
        int r = (int)rule;
        ulong ph = Ptr(halted), pst = Ptr(steps), pq = Ptr(q), pm = rule == ActHaltRule.MaxSteps ? 0UL : Ptr(minSteps);
        void** a = stackalloc void*[] { &ph, &pst, &pq, &pm, &batch, &maxSteps, &r };
        Launch(_k.ActHalt, "ppppiii", Cdiv(batch, 256), 256, 0, a);
        Done();
    }

    /// <inheritdoc/>
    public void ActTarget(Buf target, Buf qNext, Buf steps, int batch, int maxSteps)
    {
        Enter();
        NonNegative(batch);
        Need(target, batch, nameof(target));
        Need(qNext, 2L * batch, nameof(qNext));
        NeedInts(steps, batch, nameof(steps));
        if (batch == 0) return;
        ulong pt = Ptr(target), pq = Ptr(qNext), ps = Ptr(steps);
        void** a = stackalloc void*[] { &pt, &pq, &ps, &batch, &maxSteps };
        Launch(_k.ActTarget, "pppii", Cdiv(batch, 256), 256, 0, a);
        Done();
    }

    /// <inheritdoc/>
    public void ActMetrics(Buf sums, Buf skip, Buf halted, Buf steps, Buf q, Buf rowLoss, Buf rowStats, int batch, int slot)
    {
        Enter();
        NonNegative(batch);
        NonNegative(slot);
        IntBuf(sums);
        if (sums.Length < ActMetricSums.Ints(slot + 1) || sums.Length % 2 != 0 || sums.Address % sizeof(double) != 0)
        {
            throw new ArgumentException(
                $"sums: expected an 8-byte aligned int32 region of at least {ActMetricSums.Ints(slot + 1)} elements (even) for slot {slot}, got {sums.Length} at 0x{sums.Address:x}",
                nameof(sums));
        }
        NeedInts(skip, 1, nameof(skip));
        NeedInts(halted, batch, nameof(halted));
        NeedInts(steps, batch, nameof(steps));
        Need(q, 2L * batch, nameof(q));
        NeedInts(rowLoss, StablemaxCeRows.RowLossInts(batch), nameof(rowLoss));
        NeedInts(rowStats, 3L * batch, nameof(rowStats));
        if (rowLoss.Address % sizeof(double) != 0)
            throw new ArgumentException($"rowLoss: expected an 8-byte aligned region, got address 0x{rowLoss.Address:x}", nameof(rowLoss));
        _ints.Forget(sums.Address, sums.Length);
        _ints.Forget(skip.Address, 1);
        ulong ps = Ptr(sums), pk = Ptr(skip), ph = Ptr(halted), pst = Ptr(steps), pq = Ptr(q), pl = Ptr(rowLoss),
            pr = Ptr(rowStats);
        void** a = stackalloc void*[] { &ps, &pk, &ph, &pst, &pq, &pl, &pr, &batch, &slot };
        Launch(_k.ActMetrics, "pppppppii", 1, 256, 0, a);
        Done();
    }
}
