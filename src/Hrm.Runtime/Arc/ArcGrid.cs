namespace Hrm.Runtime.Arc;

/// <summary>
/// An ARC grid: R x C colours 0..9, row-major (R and C in [0, 30]; 0 only for crops of empty predictions).
/// Equality and hashing compare shape and content, so grids can key dictionaries the way the reference keys them
/// by content hash.
/// </summary>
public sealed class ArcGrid : IEquatable<ArcGrid>
{
    /// <summary>The largest side (spec 5.4).</summary>
    public const int MaxSide = 30;

    private readonly byte[] _cells;
    private readonly int _hash;

    /// <summary>Wraps <paramref name="cells"/> (not copied; do not change it afterwards).</summary>
    /// <param name="rows">R.</param>
    /// <param name="cols">C.</param>
    /// <param name="cells">R * C colours.</param>
    /// <exception cref="ArgumentException">A side is outside [0, 30], the length is wrong, or a cell is not 0..9.
    /// </exception>
    public ArcGrid(int rows, int cols, byte[] cells)
    {
        ArgumentNullException.ThrowIfNull(cells);
        if ((uint)rows > MaxSide || (uint)cols > MaxSide)
            throw new ArgumentException($"an ARC grid is at most {MaxSide} x {MaxSide}; got {rows} x {cols}",
                (uint)rows > MaxSide ? nameof(rows) : nameof(cols));
        if (cells.Length != rows * cols)
            throw new ArgumentException($"{rows} x {cols} grid needs {rows * cols} cells; got {cells.Length}",
                nameof(cells));
        int bad = cells.AsSpan().IndexOfAnyInRange((byte)ArcColorMap.Colors, byte.MaxValue);
        if (bad >= 0) throw new ArgumentException($"cell {bad} holds {cells[bad]}, not a colour 0..9", nameof(cells));
        Rows = rows;
        Cols = cols;
        _cells = cells;
        var h = new HashCode();
        h.Add(rows);
        h.Add(cols);
        h.AddBytes(cells);
        _hash = h.ToHashCode();
    }

    /// <summary>R.</summary>
    public int Rows { get; }

    /// <summary>C.</summary>
    public int Cols { get; }

    /// <summary>The colours, row-major.</summary>
    public ReadOnlySpan<byte> Cells => _cells;

    /// <summary>Colour at (r, c).</summary>
    /// <param name="r">Row.</param>
    /// <param name="c">Column.</param>
    /// <exception cref="ArgumentOutOfRangeException">(r, c) is outside the grid.</exception>
    public byte this[int r, int c]
    {
        get
        {
            if ((uint)r >= (uint)Rows || (uint)c >= (uint)Cols)
                throw new ArgumentOutOfRangeException(nameof(r), $"cell ({r}, {c}) is outside the {Rows} x {Cols} grid");
            return _cells[r * Cols + c];
        }
    }

    /// <summary>Builds a grid from rows of colours (tests and literals).</summary>
    /// <param name="rows">Equal-length rows.</param>
    /// <returns>The grid.</returns>
    public static ArcGrid FromRows(params int[][] rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (Array.IndexOf(rows, null) is var missing and >= 0)
            throw new ArgumentException($"row {missing} is null", nameof(rows));
        int cols = rows.Length == 0 ? 0 : rows[0].Length;
        if (rows.Length > MaxSide || cols > MaxSide)
        {
            throw new ArgumentException($"an ARC grid is at most {MaxSide} x {MaxSide}; got {rows.Length} x {cols}",
                nameof(rows));
        }
        byte[] cells = new byte[rows.Length * cols];
        for (int r = 0; r < rows.Length; r++)
        {
            if (rows[r].Length != cols) throw new ArgumentException($"row {r} has {rows[r].Length} cells, row 0 {cols}",
                nameof(rows));
            for (int c = 0; c < cols; c++)
            {
                int v = rows[r][c];
                if ((uint)v >= ArcColorMap.Colors)
                    throw new ArgumentException($"row {r}, column {c} holds {v}, not a colour 0..9", nameof(rows));
                cells[r * cols + c] = (byte)v;
            }
        }
        return new ArcGrid(rows.Length, cols, cells);
    }

    /// <summary><c>dihedral(tid, map[grid])</c>, the reference's augmentation of one grid.</summary>
    /// <param name="tid">Dihedral id.</param>
    /// <param name="map">Colour map.</param>
    /// <returns>A new grid.</returns>
    public ArcGrid Transform(int tid, ArcColorMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        byte[] dst = new byte[_cells.Length];
        Dihedral.Apply(tid, _cells, Rows, Cols, dst);
        map.ApplyInPlace(dst);
        (int r, int c) = Dihedral.Shape(tid, Rows, Cols);
        return new ArcGrid(r, c, dst);
    }

    /// <summary>Undoes <see cref="Transform"/>: the inverse dihedral, then the inverse colour map (spec 6.3).</summary>
    /// <param name="tid">The dihedral id that was applied.</param>
    /// <param name="map">The colour map that was applied.</param>
    /// <returns>A new grid.</returns>
    public ArcGrid Untransform(int tid, ArcColorMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        return Transform(Dihedral.Inverse(tid), map.Inverse());
    }

    /// <summary>The grid as JSON-style nested rows.</summary>
    /// <returns>R lists of C colours.</returns>
    public int[][] ToRows()
    {
        int[][] rows = new int[Rows][];
        for (int r = 0; r < Rows; r++)
        {
            rows[r] = new int[Cols];
            for (int c = 0; c < Cols; c++) rows[r][c] = this[r, c];
        }
        return rows;
    }

    /// <inheritdoc/>
    public bool Equals(ArcGrid? other) =>
        other is not null && (ReferenceEquals(this, other) ||
            (_hash == other._hash && Rows == other.Rows && Cols == other.Cols && Cells.SequenceEqual(other.Cells)));

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as ArcGrid);

    /// <inheritdoc/>
    public override int GetHashCode() => _hash;

    /// <summary>Rows of digits separated by '/', e.g. "12/34".</summary>
    /// <returns>The compact text form.</returns>
    public override string ToString() =>
        string.Join('/', Enumerable.Range(0, Rows)
            .Select(r => string.Concat(_cells.AsSpan(r * Cols, Cols).ToArray().Select(b => (char)('0' + b)))));
}
