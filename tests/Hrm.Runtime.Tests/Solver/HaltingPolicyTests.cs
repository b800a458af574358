using Hrm.Runtime.Config;
using Hrm.Runtime.Solver;

namespace Hrm.Runtime.Tests.Solver;

public sealed class HaltingPolicyTests
{
    [Fact]
    public void Fixed_halts_exactly_at_max_steps_whatever_the_q_head_says()
    {
        var p = new HaltingPolicy(HaltingMode.Fixed, 4);
        for (int s = 1; s < 4; s++) Assert.False(p.ShouldHalt(10f, -10f, s));
        Assert.True(p.ShouldHalt(-10f, 10f, 4));
    }

    [Fact]
    public void Adaptive_uses_the_reference_rule_after_min_steps_and_a_margin()
    {
        var p = new HaltingPolicy(HaltingMode.Adaptive, 8, minSteps: 2);
        Assert.False(p.ShouldHalt(1f, 0f, 1));
        Assert.True(p.ShouldHalt(1f, 0f, 2));
        Assert.False(p.ShouldHalt(0f, 0f, 3));
        Assert.False(p.ShouldHalt(float.NaN, 0f, 3));
        Assert.True(p.ShouldHalt(-5f, 5f, 8));
        var strict = new HaltingPolicy(HaltingMode.Adaptive, 8, margin: 0.5f);
        Assert.False(strict.ShouldHalt(0.4f, 0f, 3));
        Assert.True(strict.ShouldHalt(0.6f, 0f, 3));
        var never = new HaltingPolicy(HaltingMode.Adaptive, 8, margin: float.PositiveInfinity);
        Assert.False(never.ShouldHalt(float.MaxValue, float.MinValue, 7));
        Assert.False(never.ShouldHalt(float.PositiveInfinity, 0f, 7));
        Assert.True(never.ShouldHalt(0f, 0f, 8));
    }

    [Fact]
    public void A_no_act_continue_model_halts_on_q_halt_alone()
    {
        var p = new HaltingPolicy(HaltingMode.Adaptive, 8, haltLogitOnly: true);
        Assert.True(p.ShouldHalt(0.5f, 3f, 2));    // the reference rule would continue (q_halt < q_continue)
        Assert.False(p.ShouldHalt(-0.5f, -3f, 2)); // the reference rule would halt (q_halt > q_continue)
        var cfg = new HrmConfig { NoActContinue = true };
        HaltingPolicy fromOptions = HaltingPolicy.For(cfg, new SolverOptions { Halting = HaltingMode.Adaptive });
        Assert.True(fromOptions.HaltLogitOnly);
        Assert.False(HaltingPolicy.For(new HrmConfig(), new SolverOptions()).HaltLogitOnly);
    }

    [Fact]
    public void Bad_bounds_are_rejected_and_options_default_to_halt_max_steps()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new HaltingPolicy(HaltingMode.Fixed, 0));
        Assert.Contains("expected 1..4", Assert.Throws<ArgumentOutOfRangeException>(
            () => new HaltingPolicy(HaltingMode.Adaptive, 4, minSteps: 5)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new HaltingPolicy(HaltingMode.Adaptive, 4, margin: float.NaN));
        HrmConfig c = TinyCheckpoint.Sudoku4();
        HaltingPolicy d = HaltingPolicy.For(c, new SolverOptions());
        Assert.Equal((HaltingMode.Fixed, c.HaltMaxSteps, 1, 0f), (d.Mode, d.MaxSteps, d.MinSteps, d.Margin));
        Assert.Equal(16, HaltingPolicy.For(c, new SolverOptions { MaxSteps = 16 }).MaxSteps);
        Assert.Throws<ArgumentOutOfRangeException>(() => HaltingPolicy.For(c, new SolverOptions { MaxSteps = -1 }));
    }
}
