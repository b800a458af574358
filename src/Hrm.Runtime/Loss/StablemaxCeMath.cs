using System.Numerics;
using Hrm.Runtime.Numerics;

namespace Hrm.Runtime.Loss;

/// <summary>
/// The arithmetic of the ACT loss head (spec 2.1, 2.2; <c>IHrmBackend.StablemaxCe</c>, native/kernels/stablemax_ce.cu)
/// on host spans, in double whatever the element type: the CPU backend runs it on floats, the reference backend on
/// doubles, Hrm.Train's HrmLoss on either. Per row b, with n_b = #(labels ≠ −100), div_b = max(n_b, 1):
/// rowLoss (B,3) = [Σ_t CE_t/div_b, BCE(q_halt, seq_correct), training ? BCE(q_continue, target) : 0] and rowStats
/// (B,3) = [n_b, correct_b, seq_correct_b]; the gradients are those of total/globalBatch (total = lm +
/// 0.5·(q_halt + q_continue)). Correctness: argmax over a position's logits (first index of the maximum) equals the
/// label; seq_correct = correct_b == n_b (true when n_b = 0) is the q_halt target. Single-threaded, allocates nothing.
/// </summary>
public static class StablemaxCeMath
{
    /// <summary>The label that marks a position without loss.</summary>
    public const int IgnoreLabel = -100;

    private const double StablemaxEpsilon = 1e-30;

    /// <summary>
    /// The op on host spans (see the class summary): logits (B,L,V), labels (B,L), q (B,2) [halt, continue],
    /// target (B, training only; may be empty otherwise); dlogits (B,L,V) and dq (B,2) written unless empty.
    /// </summary>
    public static void Compute<T>(Span<T> dlogits, Span<T> dq, Span<double> rowLoss, Span<int> rowStats,
        ReadOnlySpan<T> logits, ReadOnlySpan<int> labels, ReadOnlySpan<T> q, ReadOnlySpan<T> target,
        int batch, int l, int v, LossType lossType, bool training, int globalBatch)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        Check(q.Length, 2L * batch, nameof(q));
        if (training) Check(target.Length, batch, nameof(target));
        Compute(dlogits, dq, rowLoss, rowStats, logits, labels, q, batch == 0 ? q : q[1..], 2, target,
            batch, l, v, lossType, training, globalBatch);
    }

    /// <summary>
    /// As the public overload with the Q logits as two strided views: row b reads qHalt[b·qStride] and (training)
    /// qContinue[b·qStride]. The caller checks their lengths.
    /// </summary>
    internal static void Compute<T>(Span<T> dlogits, Span<T> dq, Span<double> rowLoss, Span<int> rowStats,
        ReadOnlySpan<T> logits, ReadOnlySpan<int> labels, ReadOnlySpan<T> qHalt, ReadOnlySpan<T> qContinue,
        int qStride, ReadOnlySpan<T> target, int batch, int l, int v, LossType lossType, bool training,
        int globalBatch)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        ArgumentOutOfRangeException.ThrowIfNegative(l);
        ArgumentOutOfRangeException.ThrowIfLessThan(v, 1);
        if (!Enum.IsDefined(lossType)) throw new ArgumentOutOfRangeException(nameof(lossType), lossType, "unknown loss type");
        Check(logits.Length, (long)batch * l * v, nameof(logits));
        Check(labels.Length, (long)batch * l, nameof(labels));
        Check(rowLoss.Length, 3L * batch, nameof(rowLoss));
        Check(rowStats.Length, 3L * batch, nameof(rowStats));
        bool wantLogitsGrad = !dlogits.IsEmpty, wantQGrad = !dq.IsEmpty;
        if (wantLogitsGrad) Check(dlogits.Length, (long)batch * l * v, nameof(dlogits));
        if (wantQGrad) Check(dq.Length, 2L * batch, nameof(dq));
        ArgumentOutOfRangeException.ThrowIfLessThan(globalBatch, 1);
        CheckLabels(labels, v);

        double invGlobal = 1.0 / globalBatch;
        for (int row = 0; row < batch; row++)
        {
            ReadOnlySpan<int> rowLabels = labels.Slice(row * l, l);
            int n = 0;
            foreach (int y in rowLabels)
            {
                if (y != IgnoreLabel) n++;
            }
            double div = Math.Max(n, 1);
            double gradScale = invGlobal / div;
            int correct = 0;
            double lm = 0;
            for (int pos = 0; pos < l; pos++)
            {
                int y = rowLabels[pos];
                long at = ((long)row * l + pos) * v;
                ReadOnlySpan<T> x = logits.Slice((int)at, v);
                Span<T> g = wantLogitsGrad ? dlogits.Slice((int)at, v) : [];
                if (y == IgnoreLabel)
                {
                    g.Clear();
                    continue;
                }
                if (Logits.ArgMax(x) == y) correct++;
                double ce = lossType == LossType.StablemaxCrossEntropy
                    ? StablemaxCrossEntropy(x, y, g, gradScale)
                    : SoftmaxCrossEntropy(x, y, g, gradScale);
                lm += ce / div;
            }
            bool seqCorrect = correct == n;
            double qh = double.CreateTruncating(qHalt[row * qStride]);
            double yHalt = seqCorrect ? 1.0 : 0.0;
            double qHaltLoss = BceWithLogits(qh, yHalt), qContLoss = 0;
            double dHalt = 0.5 * (Sigmoid(qh) - yHalt) * invGlobal, dCont = 0;
            if (training)
            {
                double qc = double.CreateTruncating(qContinue[row * qStride]);
                double t = double.CreateTruncating(target[row]);
                qContLoss = BceWithLogits(qc, t);
                dCont = 0.5 * (Sigmoid(qc) - t) * invGlobal;
            }
            if (wantQGrad)
            {
                dq[2 * row] = T.CreateTruncating(dHalt);
                dq[2 * row + 1] = T.CreateTruncating(dCont);
            }
            rowLoss[3 * row] = lm;
            rowLoss[3 * row + 1] = qHaltLoss;
            rowLoss[3 * row + 2] = qContLoss;
            rowStats[3 * row] = n;
            rowStats[3 * row + 1] = correct;
            rowStats[3 * row + 2] = seqCorrect ? 1 : 0;
        }
    }

    /// <summary>
    /// Throws <see cref="ArgumentOutOfRangeException"/> (parameter "labels", naming the flat index) at the first
    /// label that is neither −100 nor in [0, V).
    /// </summary>
    public static void CheckLabels(ReadOnlySpan<int> labels, int v)
    {
        for (int i = 0; i < labels.Length; i++)
        {
            int y = labels[i];
            if (y != IgnoreLabel && (uint)y >= (uint)v)
            {
                throw new ArgumentOutOfRangeException(nameof(labels),
                    $"label {y} at flat index {i} is neither {IgnoreLabel} nor in [0, {v})");
            }
        }
    }

    /// <summary>
    /// The <see cref="LossParts"/> of per-row losses (B,3): the three column sums in row order (double).
    /// </summary>
    public static LossParts Sum(ReadOnlySpan<double> rowLoss, bool training)
    {
        if (rowLoss.Length % 3 != 0)
            throw new ArgumentException($"rowLoss: expected a multiple of 3 elements (B,3), got {rowLoss.Length}", nameof(rowLoss));
        double lm = 0, qHalt = 0, qCont = 0;
        for (int i = 0; i < rowLoss.Length; i += 3)
        {
            lm += rowLoss[i];
            qHalt += rowLoss[i + 1];
            qCont += rowLoss[i + 2];
        }
        return new LossParts(lm, qHalt, qCont, training);
    }

    /// <summary>BCEWithLogits(x, y) = max(x, 0) − x·y + log1p(exp(−|x|)) (stable for any x).</summary>
    public static double BceWithLogits(double x, double y)
        => Math.Max(x, 0) - x * y + LogOnePlus(Math.Exp(-Math.Abs(x)));

    /// <summary>1/(1 + e^−x), without overflow for either sign.</summary>
    public static double Sigmoid(double x)
    {
        if (x >= 0) return 1.0 / (1.0 + Math.Exp(-x));
        double e = Math.Exp(x);
        return e / (1.0 + e);
    }

    /// <summary>The stablemax transform s(x) of spec 2.1.</summary>
    public static double Stablemax(double x) => x < 0 ? 1.0 / (1.0 - x + StablemaxEpsilon) : x + 1.0;

    /// <summary>
    /// −log(s(x_y)/S), S = Σ_j s(x_j); when <paramref name="g"/> is not empty,
    /// g_j = scale·(s'(x_j)/S − [j = y]·s'(x_y)/s(x_y)) with s'(x) = s(x)² for x &lt; 0 and 1 for x ≥ 0.
    /// </summary>
    private static double StablemaxCrossEntropy<T>(ReadOnlySpan<T> x, int y, Span<T> g, double scale)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        double sum = 0;
        for (int j = 0; j < x.Length; j++) sum += Stablemax(double.CreateTruncating(x[j]));
        double xy = double.CreateTruncating(x[y]);
        double sy = Stablemax(xy);
        double ce = -Math.Log(sy / sum);
        if (!g.IsEmpty)
        {
            for (int j = 0; j < x.Length; j++)
            {
                double xj = double.CreateTruncating(x[j]);
                double sj = Stablemax(xj);
                double dj = (xj < 0 ? sj * sj : 1.0) / sum;
                if (j == y) dj -= xy < 0 ? sy : 1.0 / sy;
                g[j] = T.CreateTruncating(scale * dj);
            }
        }
        return ce;
    }

    /// <summary>
    /// logsumexp(x) − x_y; when <paramref name="g"/> is not empty, g_j = scale·(softmax(x)_j − [j = y]).
    /// </summary>
    private static double SoftmaxCrossEntropy<T>(ReadOnlySpan<T> x, int y, Span<T> g, double scale)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        double max = double.NegativeInfinity;
        for (int j = 0; j < x.Length; j++) max = Math.Max(max, double.CreateTruncating(x[j]));
        double z = 0;
        for (int j = 0; j < x.Length; j++) z += Math.Exp(double.CreateTruncating(x[j]) - max);
        double ce = max + Math.Log(z) - double.CreateTruncating(x[y]);
        if (!g.IsEmpty)
        {
            for (int j = 0; j < x.Length; j++)
            {
                double p = Math.Exp(double.CreateTruncating(x[j]) - max) / z;
                g[j] = T.CreateTruncating(scale * (j == y ? p - 1.0 : p));
            }
        }
        return ce;
    }

    /// <summary>log(1 + x) for x ≥ 0 to a few ulp (Goldberg: 1 + x's rounding cancels in log(u)·x/(u − 1)).</summary>
    private static double LogOnePlus(double x)
    {
        double u = 1.0 + x;
        return u == 1.0 ? x : Math.Log(u) * x / (u - 1.0);
    }

    internal static void Check(int length, long expected, string name)
    {
        if (length != expected)
            throw new ArgumentException($"{name}: expected {expected} elements, got {length}", name);
    }
}
