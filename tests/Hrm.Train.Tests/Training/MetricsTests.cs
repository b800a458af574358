using Hrm.Runtime.Loss;
using Hrm.Runtime.Tests.TestUtil;
using Hrm.Train.Training;

namespace Hrm.Train.Tests.Training;

public sealed class MetricsTests
{
    // Five rows: 0 halted, all 4 right, q_halt ≥ 0 (agrees); 1 halted, 2 of 4 right, q_halt < 0 (agrees);
    // 2 not halted (ignored though perfect); 3 halted without valid labels (ignored); 4 halted, 2 of 2 right,
    // q_halt < 0 (disagrees).
    private static readonly bool[] Halted = [true, true, false, true, true];
    private static readonly int[] Steps = [3, 5, 7, 16, 16];
    private static readonly float[] QHalt = [1f, -0.5f, 2f, 0f, -2f];
    private static readonly int[] Valid = [4, 4, 4, 0, 2];
    private static readonly int[] Correct = [4, 2, 4, 0, 2];
    private static readonly LossParts Parts = new(1.5, 0.75, 0.25, true);

    [Fact]
    public void Sums_count_only_halted_rows_with_valid_labels()
    {
        var m = new HrmMetrics();
        m.Add(Halted, Steps, QHalt, Valid, Correct, Parts);
        Assert.Equal(3, m.Count);
        Assert.Equal(2.5, m.Accuracy);
        Assert.Equal(2, m.ExactAccuracy);
        Assert.Equal(2, m.QHaltAccuracy);
        Assert.Equal(3 + 5 + 16, m.Steps);
        // Loss metrics are the call's sums over every row, whatever the halting.
        Assert.Equal(1.5, m.LmLoss);
        Assert.Equal(0.75, m.QHaltLoss);
        Assert.Equal(0.25, m.QContinueLoss);

        m.Add(Halted, Steps, QHalt, Valid, Correct, Parts);
        Assert.Equal(6, m.Count);
        Assert.Equal(5.0, m.Accuracy);
        Assert.Equal(48, m.Steps);
        Assert.Equal(3.0, m.LmLoss);
    }

    [Fact]
    public void Train_report_divides_losses_by_the_global_batch_and_the_rest_by_count()
    {
        var m = new HrmMetrics();
        m.Add(Halted, Steps, QHalt, Valid, Correct, Parts);
        Dictionary<string, double> r = m.Report(train: true, globalBatch: 8, lr: 1e-4);
        var expected = new Dictionary<string, double>
        {
            ["train/accuracy"] = 2.5 / 3,
            ["train/count"] = 1.0,
            ["train/exact_accuracy"] = 2.0 / 3,
            ["train/lm_loss"] = 1.5 / 8,
            ["train/q_continue_loss"] = 0.25 / 8,
            ["train/q_halt_accuracy"] = 2.0 / 3,
            ["train/q_halt_loss"] = 0.75 / 8,
            ["train/steps"] = 8.0,
            ["train/lr"] = 1e-4,
        };
        Assert.Equal(expected.OrderBy(p => p.Key), r.OrderBy(p => p.Key));
        Assert.False(m.Report(true, 8).ContainsKey("train/lr"));
    }

    [Fact]
    public void Eval_report_divides_everything_by_count_and_omits_count_and_the_continue_loss()
    {
        var m = new HrmMetrics();
        m.Add(Halted, Steps, QHalt, Valid, Correct, Parts with { QContinueLoss = 0, HasQContinue = false });
        Dictionary<string, double> r = m.Report(train: false, globalBatch: 8);
        var expected = new Dictionary<string, double>
        {
            ["eval/accuracy"] = 2.5 / 3,
            ["eval/exact_accuracy"] = 2.0 / 3,
            ["eval/lm_loss"] = 1.5 / 3,
            ["eval/q_halt_accuracy"] = 2.0 / 3,
            ["eval/q_halt_loss"] = 0.75 / 3,
            ["eval/steps"] = 8.0,
        };
        Assert.Equal(expected.OrderBy(p => p.Key), r.OrderBy(p => p.Key));
    }

    [Fact]
    public void Reset_clears_and_an_empty_train_report_is_zero()
    {
        var m = new HrmMetrics();
        m.Add(Halted, Steps, QHalt, Valid, Correct, Parts);
        m.Reset();
        Assert.Equal(0, m.Count);
        Assert.False(m.HasQContinue);
        Dictionary<string, double> r = m.Report(true, 768);
        Assert.All(r.Values, v => Assert.Equal(0.0, v));
        Assert.True(double.IsNaN(m.Report(false, 768)["eval/accuracy"])); // 0/0, as the reference
    }

    [Fact]
    public void Metrics_take_the_loss_statistics_end_to_end()
    {
        // Two rows of two positions, V = 3: row 0 fully right, row 1 half right; both halted.
        double[] logits = [0, 0, 5, 5, 0, 0, 1, 0, 0, 0, 1, 0];
        var loss = new HrmLoss(2, 2, 3);
        LossParts parts = loss.Compute(Array.ConvertAll(logits, x => (float)x), [2, 0, 0, 0], [0.5f, 0.5f], [], [],
            false, 2, [], []);
        var m = new HrmMetrics();
        m.Add(loss, parts, [true, true], [4, 6], [0.5f, 0.5f]);
        Assert.Equal(2, m.Count);
        Assert.Equal(1.5, m.Accuracy);
        Assert.Equal(1, m.ExactAccuracy);
        Assert.Equal(1, m.QHaltAccuracy);
        Assert.Equal(10, m.Steps);
        Assert.Equal(parts.LmLoss, m.LmLoss);
        Assert.False(m.Report(true, 2).ContainsKey("train/q_continue_loss"));
    }

    [Fact]
    public void Add_and_reset_allocate_nothing()
    {
        var m = new HrmMetrics();
        m.Add(Halted, Steps, QHalt, Valid, Correct, Parts);
        m.Reset();
        ThreadAllocations.AssertNone(() =>
        {
            for (int i = 0; i < 10; i++)
            {
                m.Add(Halted, Steps, QHalt, Valid, Correct, Parts);
                m.Reset();
            }
        }, "10 warm metric additions");
    }

    [Fact]
    public void Mismatched_lengths_throw()
    {
        var m = new HrmMetrics();
        Assert.Throws<ArgumentException>(() => m.Add(Halted, [1, 2], QHalt, Valid, Correct, Parts));
        Assert.Throws<ArgumentOutOfRangeException>(() => m.Report(true, 0));
    }
}
