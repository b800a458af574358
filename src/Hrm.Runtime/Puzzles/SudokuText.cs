using System.Text;
using Hrm.Runtime.Solver;

namespace Hrm.Runtime.Puzzles;

/// <summary>Reads and prints Sudoku grids typed by people.</summary>
internal static class SudokuText
{
    /// <summary>
    /// Parses exactly n*n cells, row-major: digits 1..n, '.' or '0' for a blank. Whitespace and the separators
    /// '|', '-' and '+' are ignored, so the output of <see cref="Format"/> parses back.
    /// </summary>
    /// <param name="s">The text.</param>
    /// <param name="n">The side: 4, 6 or 9.</param>
    /// <returns>n*n digits, 0 = blank.</returns>
    /// <exception cref="PuzzleFormatException">
    /// An unexpected character (named with its index and the cell it would fill), too few or too many cells, or a
    /// digit given twice in a row, column or box (named).
    /// </exception>
    public static byte[] Parse(string s, int n = 9)
    {
        ArgumentNullException.ThrowIfNull(s);
        SudokuGeometry g = SudokuGeometry.For(n);
        byte[] grid = new byte[g.Cells];
        int count = 0;
        for (int i = 0; i < s.Length; i++)
        {
            char ch = s[i];
            if (char.IsWhiteSpace(ch) || ch is '|' or '-' or '+') continue;
            int digit = ch is '.' or '0' ? 0 : ch is >= '1' and <= '9' ? ch - '0' : -1;
            if (count == g.Cells)
            {
                throw new PuzzleFormatException(
                    $"too many cells: {CharText.Quote(ch)} at index {i} would be cell {count + 1}; " +
                    $"a {n}x{n} grid has {g.Cells}");
            }
            if (digit < 0 || digit > n)
            {
                string what = digit < 0 ? "is not a digit, '.' or '0'" : $"is out of range; digits are 1..{n}";
                throw new PuzzleFormatException(
                    $"character {CharText.Quote(ch)} at index {i} {what} " +
                    $"(it would fill {SudokuBoard.Cell(g, count)}); " +
                    "separators ' ', '|', '-', '+' are ignored", count / n + 1, count % n + 1);
            }
            grid[count++] = (byte)digit;
        }
        if (count < g.Cells)
            throw new PuzzleFormatException($"too few cells: found {count}, a {n}x{n} grid has {g.Cells}");
        string? conflict = SudokuBoard.FindConflict(grid, g);
        if (conflict is not null) throw new PuzzleFormatException($"duplicate given: {conflict}");
        return grid;
    }

    /// <summary>
    /// Pretty-prints a grid: digits separated by spaces, '.' for blanks, '|' between boxes and a
    /// '-'/'+' rule between bands; one line per row, lines joined with '\n'.
    /// </summary>
    /// <param name="digits">n*n digits, 0 = blank.</param>
    /// <param name="n">The side, 4, 6 or 9; 0 infers it from the length.</param>
    /// <returns>The text (no trailing newline).</returns>
    public static string Format(ReadOnlySpan<byte> digits, int n = 0)
    {
        SudokuGeometry g = n == 0 ? SudokuGeometry.ForCells(digits.Length, nameof(digits)) : SudokuGeometry.For(n);
        if (digits.Length != g.Cells)
            throw new ArgumentException($"a {g.N}x{g.N} grid has {g.Cells} cells, got {digits.Length}", nameof(digits));
        var sb = new StringBuilder();
        int stacks = g.N / g.BoxCols;
        string rule = string.Join("-+-", Enumerable.Repeat(new string('-', 2 * g.BoxCols - 1), stacks));
        for (int r = 0; r < g.N; r++)
        {
            if (r > 0 && r % g.BoxRows == 0) sb.Append(rule).Append('\n');
            for (int c = 0; c < g.N; c++)
            {
                if (c > 0) sb.Append(c % g.BoxCols == 0 ? " | " : " ");
                int d = digits[r * g.N + c];
                if (d > g.N)
                    throw SudokuBoard.BadDigit(r * g.N + c, d, g.N, nameof(digits));
                sb.Append(d == 0 ? '.' : (char)('0' + d));
            }
            if (r < g.N - 1) sb.Append('\n');
        }
        return sb.ToString();
    }
}
