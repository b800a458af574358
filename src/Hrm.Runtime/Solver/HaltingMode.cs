namespace Hrm.Runtime.Solver;

/// <summary>How a <see cref="HrmSolver"/> decides that a puzzle has had enough segments.</summary>
public enum HaltingMode
{
    /// <summary>The reference's evaluation: every puzzle runs exactly <see cref="SolverOptions.MaxSteps"/> segments.</summary>
    Fixed,

    /// <summary>
    /// Each puzzle stops as soon as its Q head says halt (after <see cref="SolverOptions.MinSteps"/> segments), or at
    /// <see cref="SolverOptions.MaxSteps"/>. Finished puzzles leave the batch at once, so they cost nothing more.
    /// </summary>
    Adaptive,
}
