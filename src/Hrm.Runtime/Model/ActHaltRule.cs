namespace Hrm.Runtime.Model;

/// <summary>How <see cref="Backends.IHrmBackend.ActHalt"/> decides that a row halts after a segment (spec 1.10).</summary>
public enum ActHaltRule
{
    /// <summary>Halt exactly at max steps (evaluation, or training with max steps ≤ 1).</summary>
    MaxSteps = 0,

    /// <summary>Training: halt when q_halt &gt; q_continue or at max steps, not before the row's exploration minimum.</summary>
    QHaltOverContinue = 1,

    /// <summary>Training with no_ACT_continue: halt when q_halt &gt; 0 or at max steps, not before the exploration minimum.</summary>
    QHaltPositive = 2,
}
