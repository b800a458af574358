namespace Hrm.Runtime.Puzzles;

/// <summary>
/// Helpers for n x n Sudoku boards, n in {4, 6, 9} (boxes 2x2, 2x3, 3x3). A board is n*n row-major digits,
/// 0 = blank, 1..n. Dataset tokens (spec 5.2) are digit + 1: 0 = pad, 1 = blank, 2..n+1 = digits, so the
/// vocabulary has n + 2 tokens (11 for 9x9); labels are the solution's digits + 1.
/// </summary>
internal static class SudokuBoard
{
    /// <summary>The pad token (padded evaluation rows only).</summary>
    public const byte PadToken = 0;

    /// <summary>The token of a blank cell.</summary>
    public const byte BlankToken = 1;

    /// <summary>The box shape of an n x n board: 2x2 for 4, 2x3 (rows x columns) for 6, 3x3 for 9.</summary>
    /// <param name="n">4, 6 or 9.</param>
    /// <returns>Rows and columns per box.</returns>
    public static (int Rows, int Cols) BoxShape(int n)
    {
        SudokuGeometry g = SudokuGeometry.For(n);
        return (g.BoxRows, g.BoxCols);
    }

    /// <summary>The side n of a board of <paramref name="cells"/> cells (16, 36 or 81).</summary>
    /// <param name="cells">The board length.</param>
    /// <returns>4, 6 or 9.</returns>
    public static int SizeFromCells(int cells) => SudokuGeometry.ForCells(cells, nameof(cells)).N;

    /// <summary>The dataset vocabulary size, n + 2.</summary>
    /// <param name="n">4, 6 or 9.</param>
    /// <returns>The number of tokens.</returns>
    public static int VocabSize(int n) => SudokuGeometry.For(n).N + 2;

    /// <summary>Number of non-blank cells.</summary>
    /// <param name="puzzle">Digits, 0 = blank.</param>
    /// <returns>The givens count.</returns>
    public static int CountGivens(ReadOnlySpan<byte> puzzle) => puzzle.Length - puzzle.Count((byte)0);

    /// <summary>Encodes digits (0..n) as dataset tokens (digit + 1).</summary>
    /// <param name="digits">n*n digits.</param>
    /// <param name="tokens">Receives n*n tokens.</param>
    /// <exception cref="ArgumentException">Wrong length or a digit above n.</exception>
    public static void ToTokens(ReadOnlySpan<byte> digits, Span<byte> tokens)
    {
        SudokuGeometry g = SudokuGeometry.ForCells(digits.Length, nameof(digits));
        if (tokens.Length != digits.Length)
            throw new ArgumentException($"tokens needs {digits.Length} cells, got {tokens.Length}", nameof(tokens));
        for (int i = 0; i < digits.Length; i++)
        {
            if (digits[i] > g.N)
                throw BadDigit(i, digits[i], g.N, nameof(digits));
            tokens[i] = (byte)(digits[i] + 1);
        }
    }

    /// <summary>Encodes digits (0..n) as a new array of dataset tokens (digit + 1).</summary>
    /// <param name="digits">n*n digits.</param>
    /// <returns>The tokens.</returns>
    public static byte[] ToTokens(ReadOnlySpan<byte> digits)
    {
        byte[] tokens = new byte[digits.Length];
        ToTokens(digits, tokens);
        return tokens;
    }

    /// <summary>Decodes dataset tokens (1..n+1) to digits (0..n).</summary>
    /// <param name="tokens">n*n tokens, e.g. a row of a dataset or of predictions.</param>
    /// <param name="digits">Receives n*n digits.</param>
    /// <exception cref="ArgumentException">Wrong length, or a token outside 1..n+1 (pad 0 included).</exception>
    public static void FromTokens(ReadOnlySpan<int> tokens, Span<byte> digits)
    {
        SudokuGeometry g = SudokuGeometry.ForCells(tokens.Length, nameof(tokens));
        if (digits.Length != tokens.Length)
            throw new ArgumentException($"digits needs {tokens.Length} cells, got {digits.Length}", nameof(digits));
        for (int i = 0; i < tokens.Length; i++)
        {
            if (tokens[i] < 1 || tokens[i] > g.N + 1)
            {
                throw new ArgumentException(
                    $"token {tokens[i]} at cell {i} is not a Sudoku token (1 = blank, 2..{g.N + 1} = digits)",
                    nameof(tokens));
            }
            digits[i] = (byte)(tokens[i] - 1);
        }
    }

    /// <summary>
    /// Whether <paramref name="solution"/> is a complete board obeying the rules (each digit 1..n once per row,
    /// column and box) that agrees with every given of <paramref name="givens"/> (which may be empty).
    /// </summary>
    /// <param name="solution">n*n digits.</param>
    /// <param name="givens">n*n digits with 0 = blank, or empty to check the rules only.</param>
    /// <returns>True when valid.</returns>
    /// <exception cref="ArgumentException">The lengths are not a board size or differ.</exception>
    public static bool IsValidSolution(ReadOnlySpan<byte> solution, ReadOnlySpan<byte> givens) =>
        FindSolutionError(solution, givens) is null;

    /// <summary>
    /// Why <paramref name="solution"/> is not a valid solution respecting <paramref name="givens"/>, or null.
    /// </summary>
    internal static string? FindSolutionError(ReadOnlySpan<byte> solution, ReadOnlySpan<byte> givens)
    {
        SudokuGeometry g = SudokuGeometry.ForCells(solution.Length, nameof(solution));
        if (!givens.IsEmpty && givens.Length != solution.Length)
        {
            throw new ArgumentException(
                $"givens has {givens.Length} cells, solution {solution.Length}", nameof(givens));
        }
        for (int c = 0; c < solution.Length; c++)
        {
            if (solution[c] < 1 || solution[c] > g.N)
                return $"cell {Cell(g, c)} is {solution[c]}; a solution holds digits 1..{g.N} in every cell";
            if (!givens.IsEmpty && givens[c] != 0 && givens[c] != solution[c])
                return $"cell {Cell(g, c)} is {solution[c]} but the puzzle gives {givens[c]}";
        }
        return FindConflict(solution, g);
    }

    /// <summary>The first unit holding a non-blank digit twice, described by row/column/box, or null.</summary>
    internal static string? FindConflict(ReadOnlySpan<byte> grid, SudokuGeometry g)
    {
        int n = g.N;
        Span<int> seenAt = stackalloc int[n + 1];
        for (int u = 0; u < 3 * n; u++)
        {
            seenAt.Fill(-1);
            for (int k = 0; k < n; k++)
            {
                int cell = g.Units[u * n + k];
                int d = grid[cell];
                if (d == 0) continue;
                if (seenAt[d] >= 0)
                    return $"{UnitName(g, u)} has {d} twice, at {Cell(g, seenAt[d])} and {Cell(g, cell)}";
                seenAt[d] = cell;
            }
        }
        return null;
    }

    /// <summary>The error for a cell holding a value that is not a digit 0..n.</summary>
    internal static ArgumentException BadDigit(int cell, int value, int n, string paramName) =>
        new($"cell {cell} holds {value}; digits are 0 (blank) to {n}", paramName);

    /// <summary>"(row r, column c)", 1-based.</summary>
    internal static string Cell(SudokuGeometry g, int cell) => $"(row {cell / g.N + 1}, column {cell % g.N + 1})";

    private static string UnitName(SudokuGeometry g, int unit)
    {
        int n = g.N;
        if (unit < n) return $"row {unit + 1}";
        if (unit < 2 * n) return $"column {unit - n + 1}";
        int b = unit - 2 * n, stacks = n / g.BoxCols;
        int r0 = b / stacks * g.BoxRows, c0 = b % stacks * g.BoxCols;
        return $"box {b + 1} (rows {r0 + 1}-{r0 + g.BoxRows}, columns {c0 + 1}-{c0 + g.BoxCols})";
    }
}
