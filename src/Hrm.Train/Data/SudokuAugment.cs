using Hrm.Runtime.Numerics;
using Hrm.Runtime.Puzzles;

namespace Hrm.Train.Data;

/// <summary>
/// The reference's Sudoku augmentation (spec 5.2, <c>shuffle_sudoku</c>), generalised to n in {4, 6, 9}.
/// Draws, in this order: a permutation of the digits 1..n (blank stays blank); a transpose with probability
/// 0.5 (only when boxes are square, so never for 6x6, where no coin is drawn); a permutation of the bands
/// (groups of box-height rows) and then, band by band in the new order, of the rows inside each band; the
/// same for stacks and columns. Then <c>new[r][c] = digit_map[old'[row_perm[r]][col_perm[c]]]</c>, where
/// <c>old'</c> is the board after the optional transpose. Puzzle and solution get the same transform.
/// </summary>
public static class SudokuAugment
{
    /// <summary>Applies one random transform to a puzzle and its solution.</summary>
    /// <param name="puzzle">n*n digits, 0 = blank.</param>
    /// <param name="solution">n*n digits.</param>
    /// <param name="puzzleOut">Receives the transformed puzzle (may be <paramref name="puzzle"/> itself).</param>
    /// <param name="solutionOut">Receives the transformed solution (may be <paramref name="solution"/> itself).</param>
    /// <param name="rng">The randomness.</param>
    /// <exception cref="ArgumentException">The lengths are not a board size or differ.</exception>
    public static void Apply(ReadOnlySpan<byte> puzzle, ReadOnlySpan<byte> solution, Span<byte> puzzleOut,
        Span<byte> solutionOut, HrmRandom rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        SudokuGeometry g = SudokuGeometry.ForCells(puzzle.Length, nameof(puzzle));
        int cells = g.Cells;
        if (solution.Length != cells || puzzleOut.Length != cells || solutionOut.Length != cells)
        {
            throw new ArgumentException(
                $"puzzle, solution and both outputs must have {cells} cells; got {solution.Length}, " +
                $"{puzzleOut.Length}, {solutionOut.Length}", nameof(solution));
        }
        int n = g.N;
        Span<byte> digitMap = stackalloc byte[n + 1];
        Span<int> perm = stackalloc int[n];
        for (int i = 0; i < n; i++) perm[i] = i + 1;
        SudokuGenerator.Shuffle(perm, rng);
        digitMap[0] = 0;
        for (int i = 0; i < n; i++) digitMap[i + 1] = (byte)perm[i];
        bool transpose = g.BoxRows == g.BoxCols && rng.NextDouble() < 0.5;
        Span<int> rowPerm = stackalloc int[n];
        Span<int> colPerm = stackalloc int[n];
        LinePermutation(rowPerm, g.BoxRows, rng);
        LinePermutation(colPerm, g.BoxCols, rng);
        Span<byte> temp = stackalloc byte[cells];
        Transform(puzzle, temp, transpose, rowPerm, colPerm, digitMap);
        temp.CopyTo(puzzleOut);
        Transform(solution, temp, transpose, rowPerm, colPerm, digitMap);
        temp.CopyTo(solutionOut);
    }

    /// <summary>Applies one random transform to a record (rating and source are kept).</summary>
    /// <param name="record">The puzzle and solution.</param>
    /// <param name="rng">The randomness.</param>
    /// <returns>A new record.</returns>
    public static SudokuRecord Apply(SudokuRecord record, HrmRandom rng)
    {
        ArgumentNullException.ThrowIfNull(record);
        byte[] puzzle = new byte[record.Puzzle.Length];
        byte[] solution = new byte[record.Solution.Length];
        Apply(record.Puzzle, record.Solution, puzzle, solution, rng);
        return record with { Puzzle = puzzle, Solution = solution };
    }

    /// <summary>Bands (groups of <paramref name="width"/> lines) shuffled, then the lines inside each band.</summary>
    private static void LinePermutation(Span<int> perm, int width, HrmRandom rng)
    {
        int groups = perm.Length / width;
        Span<int> groupOrder = stackalloc int[groups];
        for (int i = 0; i < groups; i++) groupOrder[i] = i;
        SudokuGenerator.Shuffle(groupOrder, rng);
        Span<int> inner = stackalloc int[width];
        for (int k = 0; k < groups; k++)
        {
            for (int i = 0; i < width; i++) inner[i] = i;
            SudokuGenerator.Shuffle(inner, rng);
            for (int i = 0; i < width; i++) perm[k * width + i] = groupOrder[k] * width + inner[i];
        }
    }

    private static void Transform(ReadOnlySpan<byte> src, Span<byte> dst, bool transpose, ReadOnlySpan<int> rowPerm,
        ReadOnlySpan<int> colPerm, ReadOnlySpan<byte> digitMap)
    {
        int n = rowPerm.Length;
        for (int r = 0; r < n; r++)
        {
            for (int c = 0; c < n; c++)
            {
                int i = rowPerm[r], j = colPerm[c];
                byte d = transpose ? src[j * n + i] : src[i * n + j];
                if (d >= digitMap.Length)
                    throw SudokuBoard.BadDigit(i * n + j, d, n, nameof(src));
                dst[r * n + c] = digitMap[d];
            }
        }
    }
}
