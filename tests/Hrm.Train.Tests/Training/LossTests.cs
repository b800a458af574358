using Hrm.Runtime.Loss;
using Hrm.Runtime.Tests.TestUtil;
using Hrm.Train.Training;

namespace Hrm.Train.Tests.Training;

public sealed class LossTests
{
    private const int Ignore = HrmLoss.IgnoreLabel;

    private static double S(double x) => x < 0 ? 1 / (1 - x + 1e-30) : x + 1;

    // The textbook form −(y·log σ(x) + (1 − y)·log(1 − σ(x))), fine for moderate x.
    private static double Bce(double x, double y)
    {
        double p = 1 / (1 + Math.Exp(-x));
        return -(y * Math.Log(p) + (1 - y) * Math.Log(1 - p));
    }

    [Fact]
    public void Stablemax_values_match_a_direct_computation()
    {
        // B = 2, L = 2, V = 3. Row 0: both positions valid, position 1 predicted wrong (argmax 2, label 0).
        // Row 1: position 0 ignored, position 1 right.
        double[] logits = [-1, 0, 2, 0.5, -3, 1, 9, 9, 9, 0.25, -0.5, -2];
        int[] labels = [2, 0, Ignore, 0];
        double[] qHalt = [0.3, -1.2], qCont = [0.7, -0.1], target = [0.25, 0.9];
        var loss = new HrmLoss(2, 2, 3);
        LossParts parts = loss.Compute<double>(logits, labels, qHalt, qCont, target, true, 4, [], []);

        double ce00 = -Math.Log(S(2) / (S(-1) + S(0) + S(2)));      // = log 1.5
        double ce01 = -Math.Log(S(0.5) / (S(0.5) + S(-3) + S(1)));  // = log 2.5
        double ce11 = -Math.Log(S(0.25) / (S(0.25) + S(-0.5) + S(-2)));
        Assert.Equal(Math.Log(1.5), ce00, 15);
        Assert.Equal(Math.Log(2.5), ce01, 15);
        Assert.Equal((ce00 + ce01) / 2 + ce11 / 1, parts.LmLoss, 14);
        Assert.Equal(Bce(0.3, 0) + Bce(-1.2, 1), parts.QHaltLoss, 14);
        Assert.Equal(Bce(0.7, 0.25) + Bce(-0.1, 0.9), parts.QContinueLoss, 14);
        Assert.Equal(parts.LmLoss + 0.5 * (parts.QHaltLoss + parts.QContinueLoss), parts.Total);
        Assert.True(parts.HasQContinue);
        Assert.Equal([2, 1], loss.ValidCounts.ToArray());
        Assert.Equal([1, 1], loss.CorrectCounts.ToArray());
        Assert.Equal([false, true], loss.SeqCorrect.ToArray());
    }

    [Fact]
    public void Softmax_values_match_a_direct_computation()
    {
        double[] logits = [-1, 0, 2, 0.5, -3, 1];
        int[] labels = [2, 0];
        var loss = new HrmLoss(1, 2, 3, LossType.SoftmaxCrossEntropy);
        LossParts parts = loss.Compute<double>(logits, labels, [0.0], [], [], false, 1, [], []);
        double ce0 = Math.Log(Math.Exp(-1) + Math.Exp(0) + Math.Exp(2)) - 2;
        double ce1 = Math.Log(Math.Exp(0.5) + Math.Exp(-3) + Math.Exp(1)) - 0.5;
        Assert.Equal((ce0 + ce1) / 2, parts.LmLoss, 14);
        Assert.Equal(Math.Log(2), parts.QHaltLoss, 15); // BCE(0, 0)
        Assert.Equal(0, parts.QContinueLoss);
        Assert.False(parts.HasQContinue);
    }

    [Theory]
    [InlineData(LossType.StablemaxCrossEntropy)]
    [InlineData(LossType.SoftmaxCrossEntropy)]
    public void Gradients_match_finite_differences_of_total_over_global_batch(LossType type)
    {
        const int b = 4, l = 5, v = 6, globalBatch = 7;
        var rng = new Random(3);
        double[] logits = Rand(rng, b * l * v, 3);
        int[] labels = new int[b * l];
        for (int i = 0; i < labels.Length; i++) labels[i] = rng.Next(4) == 0 ? Ignore : rng.Next(v);
        for (int p = 0; p < l; p++) labels[2 * l + p] = Ignore; // row 2: n_b = 0
        labels[0] = 1;
        double[] qHalt = Rand(rng, b, 2), qCont = Rand(rng, b, 2), target = new double[b];
        for (int i = 0; i < b; i++) target[i] = rng.NextDouble();
        var loss = new HrmLoss(b, l, v, type);
        var dLogits = new double[b * l * v];
        var dQ = new double[2 * b];
        loss.Compute<double>(logits, labels, qHalt, qCont, target, true, globalBatch, dLogits, dQ);

        double Objective()
            => loss.Compute<double>(logits, labels, qHalt, qCont, target, true, globalBatch, [], []).Total
               / globalBatch;
        CheckFd(logits, dLogits, Objective, "dlogits");
        CheckFd(qHalt, Every(dQ, 0), Objective, "dq_halt");
        CheckFd(qCont, Every(dQ, 1), Objective, "dq_continue");

        // Ignored positions have exactly zero gradient and do not change the loss.
        double before = Objective();
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] != Ignore) continue;
            for (int j = 0; j < v; j++)
            {
                Assert.Equal(0.0, dLogits[i * v + j]);
                logits[i * v + j] += 5;
            }
        }
        Assert.Equal(before, Objective(), 15);
    }

    [Fact]
    public void Rows_without_valid_labels_add_no_lm_loss_and_count_as_correct()
    {
        const int l = 3, v = 4, globalBatch = 10;
        double[] logits = Rand(new Random(1), l * v, 2);
        int[] labels = [Ignore, Ignore, Ignore];
        var loss = new HrmLoss(1, l, v);
        var dLogits = new double[l * v];
        Array.Fill(dLogits, 99.0);
        var dQ = new double[2];
        LossParts parts = loss.Compute<double>(logits, labels, [-0.5], [1.0], [0.2], true, globalBatch, dLogits, dQ);
        Assert.Equal(0.0, parts.LmLoss);
        Assert.All(dLogits, g => Assert.Equal(0.0, g));
        Assert.Equal(0, loss.ValidCounts[0]);
        Assert.True(loss.SeqCorrect[0]);
        Assert.Equal(Bce(-0.5, 1), parts.QHaltLoss, 15);
        Assert.Equal(0.5 * (1 / (1 + Math.Exp(0.5)) - 1) / globalBatch, dQ[0], 1e-15);
        Assert.Equal(0.5 * (1 / (1 + Math.Exp(-1.0)) - 0.2) / globalBatch, dQ[1], 1e-15);
    }

    [Fact]
    public void Per_sequence_normalisation_divides_by_the_valid_count()
    {
        // Same two valid positions; the row with two extra ignored positions has the same lm_loss.
        double[] a = [0.5, -1, 2, -0.25, 1, 0];
        var two = new HrmLoss(1, 2, 3);
        double la = two.Compute<double>(a, [1, 2], [0.0], [], [], false, 1, [], []).LmLoss;
        double[] b = [0.5, -1, 2, 7, 7, 7, -0.25, 1, 0, -7, 3, 3];
        var four = new HrmLoss(1, 4, 3);
        double lb = four.Compute<double>(b, [1, Ignore, 2, Ignore], [0.0], [], [], false, 1, [], []).LmLoss;
        Assert.Equal(la, lb, 15);
        double ce0 = -Math.Log(S(-1) / (S(0.5) + S(-1) + S(2))), ce1 = -Math.Log(S(0) / (S(-0.25) + S(1) + S(0)));
        Assert.Equal((ce0 + ce1) / 2, la, 15);
    }

    [Fact]
    public void Q_halt_target_is_argmax_correctness_with_first_index_on_ties()
    {
        // Position logits tie between tokens 0 and 1: argmax is 0. Label 1 → wrong, label 0 → right.
        double[] logits = [1, 1, 0, 1, 1, 0];
        var loss = new HrmLoss(2, 1, 3);
        var dQ = new double[4];
        LossParts parts = loss.Compute<double>(logits, [1, 0], [0.0, 0.0], [], [], false, 2, [], dQ);
        Assert.Equal([false, true], loss.SeqCorrect.ToArray());
        Assert.Equal([0, 1], loss.CorrectCounts.ToArray());
        Assert.Equal(0.5 * (0.5 - 0) / 2, dQ[0], 1e-15);  // target 0
        Assert.Equal(0.5 * (0.5 - 1) / 2, dQ[2], 1e-15);  // target 1
        Assert.Equal(0.0, dQ[1]);                      // evaluation: no continue gradient
        Assert.Equal(2 * Math.Log(2), parts.QHaltLoss, 15);

        // A row is correct only when every valid position is: one wrong position makes the target 0.
        var rows = new HrmLoss(1, 3, 3);
        rows.Compute<double>([0, 5, 0, 3, 0, 0, 0, 0, 2], [1, 0, 0], [0.0], [], [], false, 1, [], []);
        Assert.False(rows.SeqCorrect[0]);
        Assert.Equal(2, rows.CorrectCounts[0]);
        rows.Compute<double>([0, 5, 0, 3, 0, 0, 0, 0, 2], [1, 0, 2], [0.0], [], [], false, 1, [], []);
        Assert.True(rows.SeqCorrect[0]);
    }

    [Fact]
    public void Float_entry_point_matches_double_and_allocates_nothing()
    {
        const int b = 8, l = 81, v = 11, globalBatch = 768;
        var rng = new Random(9);
        float[] logits = new float[b * l * v];
        for (int i = 0; i < logits.Length; i++) logits[i] = (float)(rng.NextDouble() * 10 - 5);
        int[] labels = new int[b * l];
        for (int i = 0; i < labels.Length; i++) labels[i] = rng.Next(5) == 0 ? Ignore : rng.Next(v);
        float[] qh = [-5, 2, 0, 1, -1, 3, -2, 0.5f], qc = [-5, 1, 0, 2, -1, 1, 0, 4];
        float[] tq = [0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f];
        var loss = new HrmLoss(b, l, v);
        float[] g = new float[b * l * v], dq = new float[2 * b];
        LossParts pf = loss.Compute(logits, labels, qh, qc, tq, true, globalBatch, g, dq);
        double[] gd = new double[g.Length], dqd = new double[dq.Length];
        LossParts pd = loss.Compute<double>(ToDouble(logits), labels, ToDouble(qh), ToDouble(qc), ToDouble(tq), true,
            globalBatch, gd, dqd);
        Assert.Equal(pd, pf);
        for (int i = 0; i < g.Length; i++) Assert.Equal((float)gd[i], g[i]);
        for (int i = 0; i < dq.Length; i++) Assert.Equal((float)dqd[i], dq[i]);

        for (int i = 0; i < 3; i++) loss.Compute(logits, labels, qh, qc, tq, true, globalBatch, g, dq);
        ThreadAllocations.AssertNone(() =>
        {
            for (int i = 0; i < 3; i++)
            {
                loss.Compute(logits, labels, qh, qc, tq, true, globalBatch, g, dq);
                loss.Compute(logits, labels, qh, [], [], false, globalBatch, [], []);
            }
        }, "3 warm loss computations");
    }

    [Fact]
    public void Bad_arguments_throw()
    {
        var loss = new HrmLoss(1, 2, 3);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            loss.Compute(new float[6], [0, 3], [0f], [], [], false, 1, [], []));
        Assert.Equal("labels", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            loss.Compute(new float[6], [0, -1], [0f], [], [], false, 1, [], []));
        Assert.Throws<ArgumentException>(() => loss.Compute(new float[5], [0, 1], [0f], [], [], false, 1, [], []));
        Assert.Throws<ArgumentException>(() => loss.Compute(new float[6], [0, 1], [0f], [], [], true, 1, [], []));
        Assert.Throws<ArgumentException>(() =>
            loss.Compute(new float[6], [0, 1], [0f], [], [], false, 1, new float[5], []));
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            loss.Compute(new float[6], [0, 1], [0f], [], [], false, 0, [], []));
    }

    [Fact]
    public void Bce_with_logits_is_stable_for_large_logits()
    {
        Assert.Equal(0.0, StablemaxCeMath.BceWithLogits(800, 1));
        Assert.Equal(800.0, StablemaxCeMath.BceWithLogits(800, 0), 12);
        Assert.Equal(800.0, StablemaxCeMath.BceWithLogits(-800, 1), 12);
        Assert.Equal(Math.Exp(-40), StablemaxCeMath.BceWithLogits(-40, 0), 1e-30);
        Assert.Equal(Bce(1.5, 0.3), StablemaxCeMath.BceWithLogits(1.5, 0.3), 14);
        Assert.Equal(1.0, StablemaxCeMath.Sigmoid(800));
        Assert.Equal(0.0, StablemaxCeMath.Sigmoid(-800));
    }

    private static void CheckFd(double[] x, double[] analytic, Func<double> f, string what)
    {
        const double h = 1e-6;
        for (int i = 0; i < x.Length; i++)
        {
            double keep = x[i];
            x[i] = keep + h;
            double up = f();
            x[i] = keep - h;
            double down = f();
            x[i] = keep;
            double num = (up - down) / (2 * h);
            double err = Math.Abs(num - analytic[i]);
            if (err > 1e-8 + 1e-6 * Math.Abs(num))
                Assert.Fail($"{what}[{i}]: numeric {num:G10} vs analytic {analytic[i]:G10}");
        }
    }

    private static double[] Every(double[] a, int offset)
    {
        var r = new double[a.Length / 2];
        for (int i = 0; i < r.Length; i++) r[i] = a[2 * i + offset];
        return r;
    }

    private static double[] Rand(Random rng, int n, double scale)
    {
        var a = new double[n];
        for (int i = 0; i < n; i++) a[i] = (rng.NextDouble() * 2 - 1) * scale;
        return a;
    }

    private static double[] ToDouble(float[] a) => Array.ConvertAll(a, x => (double)x);
}
