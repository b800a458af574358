using System.Numerics;
using Hrm.Runtime.Numerics;

namespace Hrm.Train.Training;

/// <summary>The LM loss of spec 2.1 (<c>loss_type</c>).</summary>
public enum LossType
{
    /// <summary>stablemax_cross_entropy (default): s(x) = 1/(1 − x + 1e-30) for x &lt; 0, x + 1 for x ≥ 0.</summary>
    StablemaxCrossEntropy,

    /// <summary>softmax_cross_entropy (the full Sudoku-Hard run).</summary>
    SoftmaxCrossEntropy,
}

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

/// <summary>
/// ACTLossHead of the reference (spec 2.1, 2.2) on the host, in double: from logits (B,L,V), labels (B,L) with
/// −100 = ignore, the Q logits and the continue targets of one segment, it returns the <see cref="LossParts"/>, keeps
/// the per-row statistics the metrics need (<see cref="ValidCounts"/>, <see cref="CorrectCounts"/>,
/// <see cref="SeqCorrect"/>) and writes the gradients of total/global_batch_size w.r.t. the logits (B,L,V) and the
/// Q logits (B,2) interleaved [halt, continue] (the model's LogitsGrad and QGrad layouts).
/// Correctness: argmax over a position's logits (the first index of the maximum) equals its label;
/// seq_correct_b = every valid position correct (a row without valid positions counts as correct, as in the
/// reference); it is the q_halt target. Calls allocate nothing. Not thread-safe (per-row statistics are state).
/// </summary>
public sealed class HrmLoss
{
    /// <summary>The label that marks a position without loss.</summary>
    public const int IgnoreLabel = -100;

    private const double StablemaxEpsilon = 1e-30;

    private readonly int[] _valid;
    private readonly int[] _correct;
    private readonly bool[] _seqCorrect;

    /// <summary>A loss for batches of <paramref name="batch"/> rows of <paramref name="seqLen"/> positions.</summary>
    public HrmLoss(int batch, int seqLen, int vocab, LossType type = LossType.StablemaxCrossEntropy)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        ArgumentOutOfRangeException.ThrowIfNegative(seqLen);
        ArgumentOutOfRangeException.ThrowIfLessThan(vocab, 1);
        if (!Enum.IsDefined(type)) throw new ArgumentOutOfRangeException(nameof(type), type, "unknown loss type");
        Batch = batch;
        SeqLen = seqLen;
        Vocab = vocab;
        Type = type;
        _valid = new int[batch];
        _correct = new int[batch];
        _seqCorrect = new bool[batch];
    }

    /// <summary>B.</summary>
    public int Batch { get; }

    /// <summary>L.</summary>
    public int SeqLen { get; }

    /// <summary>V.</summary>
    public int Vocab { get; }

    /// <summary>The LM loss.</summary>
    public LossType Type { get; }

    /// <summary>n_b of the last call: positions with a label other than −100 (B).</summary>
    public ReadOnlySpan<int> ValidCounts => _valid;

    /// <summary>Valid positions whose argmax equals the label, per row, of the last call (B).</summary>
    public ReadOnlySpan<int> CorrectCounts => _correct;

    /// <summary>seq_correct_b of the last call (B): CorrectCounts == ValidCounts (true when n_b = 0).</summary>
    public ReadOnlySpan<bool> SeqCorrect => _seqCorrect;

    /// <summary>
    /// Computes the loss of one segment (see the class summary). <paramref name="training"/> adds
    /// q_continue_loss = Σ_b BCE(q_cont_b, target_b); otherwise <paramref name="qContinue"/> and
    /// <paramref name="targetQContinue"/> may be empty and the continue gradient is 0. An empty
    /// <paramref name="logitsGrad"/> or <paramref name="qGrad"/> skips that gradient (evaluation).
    /// </summary>
    /// <param name="logits">(B, L, V).</param>
    /// <param name="labels">(B, L), −100 or a token in [0, V).</param>
    /// <param name="qHalt">Halt logits (B).</param>
    /// <param name="qContinue">Continue logits (B), training only.</param>
    /// <param name="targetQContinue">Bootstrap targets in [0, 1] (B), training only.</param>
    /// <param name="training">Whether the continue loss is part of the total.</param>
    /// <param name="globalBatch">global_batch_size: the gradients are those of total/globalBatch.</param>
    /// <param name="logitsGrad">(B, L, V) written, or empty.</param>
    /// <param name="qGrad">(B, 2) written as [d halt, d continue] per row, or empty.</param>
    public LossParts Compute(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, ReadOnlySpan<float> qHalt,
        ReadOnlySpan<float> qContinue, ReadOnlySpan<float> targetQContinue, bool training, int globalBatch,
        Span<float> logitsGrad, Span<float> qGrad)
        => Compute<float>(logits, labels, qHalt, qContinue, targetQContinue, training, globalBatch, logitsGrad, qGrad);

    /// <summary>
    /// The float <c>Compute</c> for float or double inputs and gradients (the arithmetic is double either way; double in and out lets tests
    /// check the gradients by finite differences).
    /// </summary>
    internal LossParts Compute<T>(ReadOnlySpan<T> logits, ReadOnlySpan<int> labels, ReadOnlySpan<T> qHalt,
        ReadOnlySpan<T> qContinue, ReadOnlySpan<T> targetQContinue, bool training, int globalBatch,
        Span<T> logitsGrad, Span<T> qGrad)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int b = Batch, l = SeqLen, v = Vocab;
        Check(logits.Length, (long)b * l * v, nameof(logits));
        Check(labels.Length, (long)b * l, nameof(labels));
        Check(qHalt.Length, b, nameof(qHalt));
        if (training)
        {
            Check(qContinue.Length, b, nameof(qContinue));
            Check(targetQContinue.Length, b, nameof(targetQContinue));
        }
        bool wantLogitsGrad = !logitsGrad.IsEmpty, wantQGrad = !qGrad.IsEmpty;
        if (wantLogitsGrad) Check(logitsGrad.Length, (long)b * l * v, nameof(logitsGrad));
        if (wantQGrad) Check(qGrad.Length, 2L * b, nameof(qGrad));
        ArgumentOutOfRangeException.ThrowIfLessThan(globalBatch, 1);
        for (int i = 0; i < labels.Length; i++)
        {
            int y = labels[i];
            if (y != IgnoreLabel && (uint)y >= (uint)v)
            {
                throw new ArgumentOutOfRangeException(nameof(labels),
                    $"label {y} at flat index {i} is neither {IgnoreLabel} nor in [0, {v})");
            }
        }

        double invGlobal = 1.0 / globalBatch;
        double lm = 0, qHaltLoss = 0, qContLoss = 0;
        for (int row = 0; row < b; row++)
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
            double rowLoss = 0;
            for (int pos = 0; pos < l; pos++)
            {
                int y = rowLabels[pos];
                long at = ((long)row * l + pos) * v;
                ReadOnlySpan<T> x = logits.Slice((int)at, v);
                Span<T> g = wantLogitsGrad ? logitsGrad.Slice((int)at, v) : [];
                if (y == IgnoreLabel)
                {
                    g.Clear();
                    continue;
                }
                if (ArgMax(x) == y) correct++;
                double ce = Type == LossType.StablemaxCrossEntropy
                    ? StablemaxCrossEntropy(x, y, g, gradScale)
                    : SoftmaxCrossEntropy(x, y, g, gradScale);
                rowLoss += ce / div;
            }
            lm += rowLoss;
            _valid[row] = n;
            _correct[row] = correct;
            bool seqCorrect = correct == n;
            _seqCorrect[row] = seqCorrect;

            double qh = double.CreateTruncating(qHalt[row]);
            double yHalt = seqCorrect ? 1.0 : 0.0;
            qHaltLoss += BceWithLogits(qh, yHalt);
            double dHalt = 0.5 * (Sigmoid(qh) - yHalt) * invGlobal, dCont = 0;
            if (training)
            {
                double qc = double.CreateTruncating(qContinue[row]);
                double target = double.CreateTruncating(targetQContinue[row]);
                qContLoss += BceWithLogits(qc, target);
                dCont = 0.5 * (Sigmoid(qc) - target) * invGlobal;
            }
            if (wantQGrad)
            {
                qGrad[2 * row] = T.CreateTruncating(dHalt);
                qGrad[2 * row + 1] = T.CreateTruncating(dCont);
            }
        }
        return new LossParts(lm, qHaltLoss, qContLoss, training);
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

    /// <summary>First index of the maximum (NaN never wins over an earlier value): <see cref="Logits.ArgMax"/>.</summary>
    internal static int ArgMax<T>(ReadOnlySpan<T> x) where T : unmanaged, IBinaryFloatingPointIeee754<T> => Logits.ArgMax(x);

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

    private static void Check(int length, long expected, string name)
    {
        if (length != expected)
            throw new ArgumentException($"{name}: expected {expected} elements, got {length}", name);
    }
}
