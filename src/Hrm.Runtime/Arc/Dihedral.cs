namespace Hrm.Runtime.Arc;

/// <summary>
/// The 8 symmetries of a rectangle with numpy's conventions (spec 5.4, the reference's <c>dihedral_transform</c>):
/// 0 identity, 1 rot90 (counter-clockwise), 2 rot180, 3 rot270, 4 fliplr, 5 flipud, 6 transpose,
/// 7 anti-transpose (fliplr of rot90). An R x C grid becomes C x R under 1, 3, 6 and 7.
/// </summary>
public static class Dihedral
{
    /// <summary>Number of transforms.</summary>
    public const int Count = 8;

    private static readonly int[] InverseTable = [0, 3, 2, 1, 4, 5, 6, 7];

    /// <summary>The transform that undoes <paramref name="tid"/>: [0, 3, 2, 1, 4, 5, 6, 7].</summary>
    /// <param name="tid">A transform id in [0, 8).</param>
    /// <returns>The inverse id.</returns>
    public static int Inverse(int tid) => InverseTable[Check(tid)];

    /// <summary>Whether <paramref name="tid"/> swaps rows and columns.</summary>
    /// <param name="tid">A transform id in [0, 8).</param>
    /// <returns>True for 1, 3, 6 and 7.</returns>
    public static bool SwapsAxes(int tid) => Check(tid) is 1 or 3 or 6 or 7;

    /// <summary>The shape of an R x C grid after <paramref name="tid"/>.</summary>
    /// <param name="tid">A transform id.</param>
    /// <param name="rows">R.</param>
    /// <param name="cols">C.</param>
    /// <returns>(rows, cols) of the result.</returns>
    public static (int Rows, int Cols) Shape(int tid, int rows, int cols) =>
        SwapsAxes(tid) ? (cols, rows) : (rows, cols);

    /// <summary>Writes <c>out = transform(tid, src)</c>, where src is R x C row-major.</summary>
    /// <param name="tid">A transform id in [0, 8).</param>
    /// <param name="src">R * C cells, row-major.</param>
    /// <param name="rows">R.</param>
    /// <param name="cols">C.</param>
    /// <param name="dst">Receives the result (R * C cells, row-major in the shape of <see cref="Shape"/>);
    /// must not overlap <paramref name="src"/>.</param>
    /// <exception cref="ArgumentException">Lengths do not match the shape, or the spans overlap.</exception>
    public static void Apply(int tid, ReadOnlySpan<byte> src, int rows, int cols, Span<byte> dst)
    {
        Check(tid);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        if (src.Length != rows * cols || dst.Length != rows * cols)
        {
            throw new ArgumentException(
                $"src and dst must hold {rows} x {cols} = {rows * cols} cells; got {src.Length} and {dst.Length}",
                nameof(src));
        }
        if (src.Overlaps(dst)) throw new ArgumentException("src and dst overlap", nameof(dst));
        (int outRows, int outCols) = Shape(tid, rows, cols);
        for (int i = 0; i < outRows; i++)
        {
            for (int j = 0; j < outCols; j++)
            {
                (int si, int sj) = tid switch
                {
                    0 => (i, j),
                    1 => (j, cols - 1 - i),
                    2 => (rows - 1 - i, cols - 1 - j),
                    3 => (rows - 1 - j, i),
                    4 => (i, cols - 1 - j),
                    5 => (rows - 1 - i, j),
                    6 => (j, i),
                    _ => (rows - 1 - j, cols - 1 - i),
                };
                dst[i * outCols + j] = src[si * cols + sj];
            }
        }
    }

    private static int Check(int tid)
    {
        if ((uint)tid >= Count)
            throw new ArgumentOutOfRangeException(nameof(tid), tid, "a dihedral transform id is in [0, 8)");
        return tid;
    }
}
