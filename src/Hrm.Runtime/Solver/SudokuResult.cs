using Hrm.Runtime.Puzzles;

namespace Hrm.Runtime.Solver;

/// <summary>
/// The model's answer to a <see cref="SudokuGrid"/>. Valid means complete (every cell 1..n), every row, column and
/// box holding each digit once, and every given kept.
/// </summary>
public sealed class SudokuResult : SolveResult
{
    private SudokuResult(SudokuGrid puzzle, SudokuGrid answer, TokenPrediction prediction, string? problem)
        : base(prediction, problem)
    {
        Puzzle = puzzle;
        Answer = answer;
    }

    /// <summary>The puzzle that was solved.</summary>
    public SudokuGrid Puzzle { get; }

    /// <summary>The model's grid (0 where it predicted no digit); not necessarily valid, see <see cref="SolveResult.IsValid"/>.</summary>
    public SudokuGrid Answer { get; }

    /// <summary>Decodes and checks a prediction (tokens digit + 1; pad and blank predictions read as 0).</summary>
    internal static SudokuResult From(SudokuGrid puzzle, TokenPrediction prediction)
    {
        var digits = new byte[prediction.Tokens.Length];
        for (int i = 0; i < digits.Length; i++) digits[i] = (byte)Math.Max(0, prediction.Tokens[i] - SudokuBoard.BlankToken);
        string? problem = SudokuBoard.FindSolutionError(digits, puzzle.Cells);
        return new SudokuResult(puzzle, SudokuGrid.FromAnswer(digits), prediction, problem);
    }
}
