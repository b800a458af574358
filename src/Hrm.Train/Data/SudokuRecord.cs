using Hrm.Runtime.Puzzles;

namespace Hrm.Train.Data;

/// <summary>
/// One Sudoku: the puzzle and its solution as row-major digits (0 = blank, 1..n), a difficulty rating and
/// the collection it came from. The side n is the square root of the length (4, 6 or 9). Record equality
/// compares the arrays by reference; compare <see cref="Puzzle"/> and <see cref="Solution"/> element-wise.
/// </summary>
/// <param name="Puzzle">n*n digits, 0 = blank.</param>
/// <param name="Solution">n*n digits 1..n.</param>
/// <param name="Rating">The difficulty rating (the CSV's rating column, or <see cref="SudokuSolver"/>'s).</param>
/// <param name="Source">The collection name (the CSV's first column); may be empty.</param>
public sealed record SudokuRecord(byte[] Puzzle, byte[] Solution, int Rating, string Source = "")
{
    /// <summary>The board side n.</summary>
    public int Size => SudokuGeometry.ForCells(Puzzle.Length, nameof(Puzzle)).N;
}
