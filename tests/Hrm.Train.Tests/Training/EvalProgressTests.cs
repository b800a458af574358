using Hrm.Train.Training;

namespace Hrm.Train.Tests.Training;

public sealed class EvalProgressTests
{
    [Fact]
    public void A_long_evaluation_says_how_far_it_is_and_a_short_one_says_nothing()
    {
        var log = new StringWriter();
        var p = new EvalProgress(log, 1000, interactive: false, every: TimeSpan.Zero);
        p.Observe(0, 256, default, default);
        p.Observe(256, 256, default, default);
        p.Observe(512, 488, default, default);
        string[] lines = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("eval: 256 of 1,000 examples, ", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("eval: 1,000 of 1,000 examples, ", lines[2], StringComparison.Ordinal);
        Assert.EndsWith("00:00:00 left", lines[2].TrimEnd('\r'), StringComparison.Ordinal);

        var quiet = new StringWriter();
        var q = new EvalProgress(quiet, 1000, interactive: false); // every 10 s: this one ends before the first line
        q.Observe(0, 500, default, default);
        q.Observe(500, 500, default, default);
        Assert.Equal("", quiet.ToString());

        var terminal = new StringWriter();
        var t = new EvalProgress(terminal, 10, interactive: true, every: TimeSpan.Zero);
        t.Observe(0, 5, default, default);
        t.Observe(5, 5, default, default);
        Assert.StartsWith("\reval: 5 of 10 examples", terminal.ToString(), StringComparison.Ordinal);
        Assert.EndsWith("left\n", terminal.ToString(), StringComparison.Ordinal); // the last one ends the line
    }
}
