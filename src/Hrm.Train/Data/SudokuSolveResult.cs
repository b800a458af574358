namespace Hrm.Train.Data;

/// <summary>The outcome of <see cref="SudokuSolver.Solve"/>.</summary>
/// <param name="SolutionCount">Solutions found, capped at the limit passed to the solver (0 = unsolvable).</param>
/// <param name="Rating">
/// The difficulty rating: guesses made before the first solution was found (see <see cref="SudokuSolver"/> for
/// the exact definition). When there is no solution it is the number of guesses spent proving that.
/// </param>
public readonly record struct SudokuSolveResult(int SolutionCount, int Rating)
{
    /// <summary>Whether exactly one solution was found (meaningful when the limit was at least 2).</summary>
    public bool IsUnique => SolutionCount == 1;
}
