using Hrm.Runtime.Puzzles;

namespace Hrm.Runtime.Solver;

/// <summary>
/// A square maze as the reference encodes it (30x30 in its data): '#' wall, ' ' open, 'S' start, 'G' goal, and in
/// answers 'o' for the path. A parsed maze has exactly one S and one G and no path cells.
/// </summary>
public sealed class Maze
{
    private readonly byte[] _cells;   // (n·n) row-major tokens 1..5 = "# SGo"

    private Maze(byte[] cells)
    {
        _cells = cells;
        Side = MazeBoard.SideOf(cells.Length);
    }

    /// <summary>The side n.</summary>
    public int Side { get; }

    /// <summary>The cell at (<paramref name="row"/>, <paramref name="column"/>), 0-based: one of "# SGo".</summary>
    public char this[int row, int column]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)row, (uint)Side, nameof(row));
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)column, (uint)Side, nameof(column));
            return MazeBoard.Chars[_cells[row * Side + column] - 1];
        }
    }

    /// <summary>
    /// Parses n lines of n characters from "# SG" ('.' and 'o' are read as open; short lines are padded with open
    /// cells, for editors that trim trailing spaces), or one line of n*n. Blank lines around the maze are skipped.
    /// </summary>
    /// <exception cref="PuzzleFormatException">A character that is not a maze cell (row and column named), a shape
    /// that is not square, or not exactly one S and one G.</exception>
    public static Maze Parse(string text) => new(MazeBoard.ParseText(text));

    /// <summary>n lines of "# SGo" characters joined by '\n' (parses back, with the path read as open).</summary>
    public override string ToString() => MazeBoard.Format(_cells);

    /// <summary>A maze the model wrote (tokens 1..5, path cells included).</summary>
    internal static Maze FromAnswer(byte[] cells) => new(cells);

    internal ReadOnlySpan<byte> Cells => _cells;

    /// <summary>The model's input tokens (1..4).</summary>
    internal int[] ToTokens() => Array.ConvertAll(_cells, static t => (int)t);
}
