using System.Diagnostics;
using Hrm.Runtime.Loss;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;

namespace Hrm.Runtime.Backends;

// ProfilingBackend's timed heads, loss, optimisers and ACT bookkeeping.
public sealed partial class ProfilingBackend
{
    /// <inheritdoc/>
    public void LmHeadForward(Buf logits, Buf zH, Buf weight, int batch, int t, int p, int c, int v)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.LmHeadForward(logits, zH, weight, batch, t, p, c, v);
        _ticks[22] += Stopwatch.GetTimestamp() - t0;
        _bytes[22] += Bytes(logits, weight) + (long)batch * (t - p) * c * zH.ElemSize; // zH without the prefix
        _flops[22] += 2.0 * batch * (t - p) * c * v;
        _calls[22]++;
    }

    /// <inheritdoc/>
    public void LmHeadBackward(Buf dzH, Buf dweight, Buf dlogits, Buf zH, Buf weight, int batch, int t, int p, int c, int v)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.LmHeadBackward(dzH, dweight, dlogits, zH, weight, batch, t, p, c, v);
        _ticks[23] += Stopwatch.GetTimestamp() - t0;
        _bytes[23] += Bytes(dzH, dweight, dlogits, zH, weight);
        _flops[23] += 4.0 * batch * (t - p) * c * v;
        _calls[23]++;
    }

    /// <inheritdoc/>
    public void QHeadForward(Buf q, Buf zH, Buf weight, Buf bias, int batch, int t, int c)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.QHeadForward(q, zH, weight, bias, batch, t, c);
        _ticks[24] += Stopwatch.GetTimestamp() - t0;
        _bytes[24] += Bytes(q, weight, bias) + (long)batch * c * zH.ElemSize; // zH at position 0 only
        _calls[24]++;
    }

    /// <inheritdoc/>
    public void QHeadBackward(Buf dzH, Buf dweight, Buf dbias, Buf dq, Buf zH, Buf weight, int batch, int t, int c)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.QHeadBackward(dzH, dweight, dbias, dq, zH, weight, batch, t, c);
        _ticks[25] += Stopwatch.GetTimestamp() - t0;
        _bytes[25] += Bytes(dweight, dbias, dq, weight) + 2L * batch * c * zH.ElemSize; // zH, dzH at position 0
        _calls[25]++;
    }

    /// <inheritdoc/>
    public void AdamATan2Step(Buf param, Buf grad, Buf m, Buf v, double lr, double beta1, double beta2, double weightDecay, int stepNumber,
        Buf skip = default)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.AdamATan2Step(param, grad, m, v, lr, beta1, beta2, weightDecay, stepNumber, skip);
        _ticks[26] += Stopwatch.GetTimestamp() - t0;
        _bytes[26] += Bytes(param, grad, m, v) + Bytes(param, m, v); // read all, write back three
        _calls[26]++;
    }

    /// <inheritdoc/>
    public void SignSgdRows(Buf table, Buf rowGrads, Buf ids, int rows, int width, double lr, double weightDecay,
        Buf skip = default)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.SignSgdRows(table, rowGrads, ids, rows, width, lr, weightDecay, skip);
        _ticks[27] += Stopwatch.GetTimestamp() - t0;
        _bytes[27] += Bytes(rowGrads, ids) + 2L * rows * width * table.ElemSize;
        _calls[27]++;
    }

    /// <inheritdoc/>
    public void StablemaxCe(Buf dlogits, Buf dq, Buf rowLoss, Buf rowStats, Buf logits, Buf labels, Buf q, Buf target,
        int batch, int l, int v, LossType lossType, bool training, int globalBatch)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.StablemaxCe(dlogits, dq, rowLoss, rowStats, logits, labels, q, target, batch, l, v, lossType, training,
            globalBatch);
        _ticks[28] += Stopwatch.GetTimestamp() - t0;
        _bytes[28] += Bytes(dlogits, dq, rowLoss, rowStats, logits, labels, q, target);
        _calls[28]++;
    }

    /// <inheritdoc/>
    public void SelectRows(Buf dst, Buf src, Buf mask, int rows, int width)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.SelectRows(dst, src, mask, rows, width);
        _ticks[32] += Stopwatch.GetTimestamp() - t0;
        _bytes[32] += Bytes(dst, src, mask);
        _calls[32]++;
    }

    /// <inheritdoc/>
    public void ActHalt(Buf halted, Buf steps, Buf q, Buf minSteps, int batch, int maxSteps, ActHaltRule rule)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.ActHalt(halted, steps, q, minSteps, batch, maxSteps, rule);
        _ticks[33] += Stopwatch.GetTimestamp() - t0;
        _bytes[33] += Bytes(halted, steps, q, minSteps);
        _calls[33]++;
    }

    /// <inheritdoc/>
    public void ActTarget(Buf target, Buf qNext, Buf steps, int batch, int maxSteps)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.ActTarget(target, qNext, steps, batch, maxSteps);
        _ticks[34] += Stopwatch.GetTimestamp() - t0;
        _bytes[34] += Bytes(target, qNext, steps);
        _calls[34]++;
    }

    /// <inheritdoc/>
    public void ActMetrics(Buf sums, Buf skip, Buf halted, Buf steps, Buf q, Buf rowLoss, Buf rowStats, int batch, int slot)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.ActMetrics(sums, skip, halted, steps, q, rowLoss, rowStats, batch, slot);
        _ticks[35] += Stopwatch.GetTimestamp() - t0;
        _bytes[35] += Bytes(sums, skip, halted, steps, q, rowLoss, rowStats);
        _calls[35]++;
    }
}
