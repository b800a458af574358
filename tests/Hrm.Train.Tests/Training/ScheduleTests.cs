using Hrm.Train.Training;

namespace Hrm.Train.Tests.Training;

public sealed class ScheduleTests
{
    private const double Base = 1e-4;

    [Fact]
    public void Warmup_is_linear_from_step_1()
    {
        Assert.Equal(Base / 2000, LrSchedule.Lr(Base, 1, 2000, 26041, 1.0), 1e-20);
        Assert.Equal(Base * 1000 / 2000, LrSchedule.Lr(Base, 1000, 2000, 26041, 1.0), 1e-20);
        Assert.Equal(Base * 1999 / 2000, LrSchedule.Lr(Base, 1999, 2000, 26041, 0.1), 1e-20);
        Assert.Equal(0.0, LrSchedule.Lr(Base, 0, 2000, 26041, 1.0));
        // Warmup ends at exactly the base rate, whatever the minimum ratio.
        Assert.Equal(Base, LrSchedule.Lr(Base, 2000, 2000, 26041, 0.1), 1e-20);
    }

    [Fact]
    public void Cosine_falls_to_the_minimum_ratio()
    {
        const long w = 10, total = 110;
        const double r = 0.1;
        Assert.Equal(Base, LrSchedule.Lr(Base, w, w, total, r), 1e-18);
        Assert.Equal(Base * (r + (1 - r) * 0.5), LrSchedule.Lr(Base, 60, w, total, r), 1e-18); // midpoint: cos(π/2) = 0
        double quarter = Base * (r + (1 - r) * 0.5 * (1 + Math.Cos(Math.PI * 0.25)));
        Assert.Equal(quarter, LrSchedule.Lr(Base, 35, w, total, r), 1e-18);
        Assert.Equal(Base * r, LrSchedule.Lr(Base, total, w, total, r), 1e-18);
        for (long t = w; t < total; t++)
            Assert.True(LrSchedule.Lr(Base, t + 1, w, total, r) <= LrSchedule.Lr(Base, t, w, total, r));
    }

    [Fact]
    public void Ratio_one_is_constant_after_warmup()
    {
        foreach (long t in new long[] { 2000, 2001, 10_000, 26_041, 26_042, 100_000 })
            Assert.Equal(Base, LrSchedule.Lr(Base, t, 2000, 26_041, 1.0));
    }

    [Fact]
    public void Past_the_total_the_reference_formula_climbs_back()
    {
        // Documented: p = (t − W)/(T − W) > 1 is evaluated as is; at p = 2 the cosine is back at the base rate.
        Assert.Equal(Base, LrSchedule.Lr(Base, 210, 10, 110, 0.1), 1e-18);
        Assert.Equal(Base * (0.1 + 0.9 * 0.5), LrSchedule.Lr(Base, 160, 10, 110, 0.1), 1e-18);
    }

    [Fact]
    public void Degenerate_warmup_and_total_are_guarded_like_the_reference()
    {
        Assert.Equal(Base, LrSchedule.Lr(Base, 0, 0, 100, 0.5)); // W = 0: no warmup
        Assert.Equal(Base, LrSchedule.Lr(Base, 5, 5, 5, 0.5));    // T = W: max(1, T − W)
        Assert.Throws<ArgumentOutOfRangeException>(() => LrSchedule.Lr(Base, -1, 5, 5, 0.5));
    }

    [Fact]
    public void Total_steps_match_the_reference_counts()
    {
        Assert.Equal(26_041, LrSchedule.TotalSteps(20_000, 1000, 1.0, 768));  // Sudoku-1k, 8 GPUs (issue #12)
        Assert.Equal(52_083, LrSchedule.TotalSteps(20_000, 1000, 1.0, 384));  // the 1-GPU demo
        Assert.Equal(462_500, LrSchedule.TotalSteps(100_000, 960, 3.7, 768));
        Assert.Equal(0, LrSchedule.TotalSteps(1, 1, 1.0, 768));
        Assert.Throws<ArgumentOutOfRangeException>(() => LrSchedule.TotalSteps(1, 1, 1.0, 0));
    }
}
