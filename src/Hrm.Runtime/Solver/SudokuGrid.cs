using Hrm.Runtime.Puzzles;

namespace Hrm.Runtime.Solver;

/// <summary>
/// An n x n Sudoku (n = 4, 6 or 9; boxes 2x2, 2x3, 3x3): digits 1..n, 0 for a blank. A parsed grid has no digit
/// twice in a row, column or box. <see cref="ToString"/> prints it with box rules, and that text parses back.
/// </summary>
public sealed class SudokuGrid
{
    private readonly byte[] _cells;   // (n·n) row-major digits, 0 = blank

    private SudokuGrid(byte[] cells)
    {
        _cells = cells;
        Size = SudokuBoard.SizeFromCells(cells.Length);
    }

    /// <summary>The side n: 4, 6 or 9.</summary>
    public int Size { get; }

    /// <summary>Cells that hold a digit.</summary>
    public int GivenCount => SudokuBoard.CountGivens(_cells);

    /// <summary>The digit at (<paramref name="row"/>, <paramref name="column"/>), 0-based; 0 = blank.</summary>
    public int this[int row, int column]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)row, (uint)Size, nameof(row));
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)column, (uint)Size, nameof(column));
            return _cells[row * Size + column];
        }
    }

    /// <summary>
    /// Parses a grid: n*n cells row-major, digits 1..n and '.' or '0' for blanks; spaces, line breaks and the box
    /// rules '|', '-', '+' are ignored. The size comes from the number of cells (16, 36 or 81; fewer than 16 is
    /// read as a short 4x4, up to 36 as 6x6, more as 9x9, and the error says how many were found).
    /// </summary>
    /// <exception cref="PuzzleFormatException">A character that is not a digit of the grid, '.' or '0' (its index,
    /// row and column named), too few or too many cells, or a digit given twice in a row, column or box.</exception>
    public static SudokuGrid Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int cells = 0;
        foreach (char ch in text)
        {
            if (!char.IsWhiteSpace(ch) && ch is not ('|' or '-' or '+')) cells++;
        }
        int n = cells <= 16 ? 4 : cells <= 36 ? 6 : 9;
        if (cells == n * n) return Parse(text, n);
        try
        {
            return Parse(text, n); // fails: too few or too many cells, or a character found first
        }
        catch (PuzzleFormatException e)
        {
            string message = $"{cells} cells, where a Sudoku has 16, 36 or 81 (read as {n}x{n}): {e.Message}";
            throw e.Row is int r && e.Column is int c ? new PuzzleFormatException(message, r, c)
                : new PuzzleFormatException(message, e);
        }
    }

    /// <summary>As <see cref="Parse(string)"/> for a grid of side <paramref name="size"/> (4, 6 or 9).</summary>
    /// <exception cref="PuzzleFormatException">See <see cref="Parse(string)"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is not 4, 6 or 9.</exception>
    public static SudokuGrid Parse(string text, int size) => new(SudokuText.Parse(text, size));

    /// <summary>
    /// A grid from n*n digits (row-major, 0 = blank), checked like <see cref="Parse(string)"/>.
    /// </summary>
    /// <exception cref="PuzzleFormatException">A digit above n (cell named) or a digit twice in a unit.</exception>
    /// <exception cref="ArgumentException">The length is not 16, 36 or 81.</exception>
    public static SudokuGrid FromDigits(ReadOnlySpan<byte> digits)
    {
        int n = SudokuBoard.SizeFromCells(digits.Length);
        for (int i = 0; i < digits.Length; i++)
        {
            if (digits[i] > n)
            {
                throw new PuzzleFormatException(
                    $"cell (row {i / n + 1}, column {i % n + 1}) holds {digits[i]}; digits are 0 (blank) to {n}",
                    i / n + 1, i % n + 1);
            }
        }
        string? conflict = SudokuBoard.FindConflict(digits, SudokuGeometry.For(n));
        return conflict is null ? new(digits.ToArray()) : throw new PuzzleFormatException($"duplicate given: {conflict}");
    }

    /// <summary>The digits, row-major, 0 = blank (a copy).</summary>
    public byte[] ToDigits() => (byte[])_cells.Clone();

    /// <summary>One line of n*n characters: digits and '.' for blanks.</summary>
    public string ToCompactString() => string.Create(_cells.Length, _cells, static (dst, cells) =>
    {
        for (int i = 0; i < cells.Length; i++) dst[i] = cells[i] == 0 ? '.' : (char)('0' + cells[i]);
    });

    /// <summary>The grid with spaces, '|' between boxes and a '-'/'+' rule between bands; one line per row.</summary>
    public override string ToString() => SudokuText.Format(_cells, Size);

    /// <summary>A grid the model wrote: digits 0..n, not checked against the rules.</summary>
    internal static SudokuGrid FromAnswer(byte[] digits) => new(digits);

    /// <summary>The model's input tokens: digit + 1 (1 = blank).</summary>
    internal int[] ToTokens() => Array.ConvertAll(SudokuBoard.ToTokens(_cells), static t => (int)t);

    internal ReadOnlySpan<byte> Cells => _cells;
}
