namespace Hrm.Runtime.Puzzles;

/// <summary>
/// Precomputed layout of an n x n Sudoku board (n in {4, 6, 9}): box shape, the 3n units (rows, columns,
/// boxes) and every cell's peers. One shared immutable instance per size.
/// </summary>
internal sealed class SudokuGeometry
{
    private static readonly SudokuGeometry Four = new(4, 2, 2);
    private static readonly SudokuGeometry Six = new(6, 2, 3);
    private static readonly SudokuGeometry Nine = new(9, 3, 3);

    private SudokuGeometry(int n, int boxRows, int boxCols)
    {
        N = n;
        BoxRows = boxRows;
        BoxCols = boxCols;
        Cells = n * n;
        AllDigits = (1 << (n + 1)) - 2;
        Units = new int[3 * n * n];
        CellBox = new int[Cells];
        for (int cell = 0; cell < Cells; cell++)
        {
            int r = cell / n, c = cell % n;
            CellBox[cell] = (r / boxRows) * (n / boxCols) + c / boxCols;
        }
        int[] fill = new int[3 * n];
        for (int cell = 0; cell < Cells; cell++)
        {
            int r = cell / n, c = cell % n, b = CellBox[cell];
            Units[r * n + fill[r]++] = cell;
            Units[(n + c) * n + fill[n + c]++] = cell;
            Units[(2 * n + b) * n + fill[2 * n + b]++] = cell;
        }
        AllCells = (UInt128.One << Cells) - 1;
        UnitMasks = new UInt128[3 * n];
        for (int u = 0; u < 3 * n; u++)
        {
            for (int k = 0; k < n; k++) UnitMasks[u] |= UInt128.One << Units[u * n + k];
        }
        PeerCount = 3 * (n - 1) - (boxRows - 1) - (boxCols - 1);
        Peers = new int[Cells * PeerCount];
        PeerMasks = new UInt128[Cells];
        for (int cell = 0; cell < Cells; cell++)
        {
            int k = 0;
            for (int other = 0; other < Cells; other++)
            {
                bool peer = other / n == cell / n || other % n == cell % n || CellBox[other] == CellBox[cell];
                if (other != cell && peer)
                    Peers[cell * PeerCount + k++] = other;
            }
            for (int k2 = 0; k2 < PeerCount; k2++) PeerMasks[cell] |= UInt128.One << Peers[cell * PeerCount + k2];
        }
    }

    /// <summary>Side length.</summary>
    public int N { get; }

    /// <summary>Rows per box.</summary>
    public int BoxRows { get; }

    /// <summary>Columns per box.</summary>
    public int BoxCols { get; }

    /// <summary>n * n.</summary>
    public int Cells { get; }

    /// <summary>Candidate mask with bits 1..n set (bit d = digit d).</summary>
    public int AllDigits { get; }

    /// <summary>3n units of n cells each: rows 0..n-1, columns n..2n-1, boxes 2n..3n-1 (row-major boxes).</summary>
    public int[] Units { get; }

    /// <summary>Bit c set for every cell c.</summary>
    public UInt128 AllCells { get; }

    /// <summary>The cells of each unit as a bit mask (same unit order as <see cref="Units"/>).</summary>
    public UInt128[] UnitMasks { get; }

    /// <summary>The peers of each cell as a bit mask.</summary>
    public UInt128[] PeerMasks { get; }

    /// <summary>The box index of every cell.</summary>
    public int[] CellBox { get; }

    /// <summary>Peers per cell (20 for 9x9).</summary>
    public int PeerCount { get; }

    /// <summary>The peers of cell c are <c>Peers[c * PeerCount .. (c + 1) * PeerCount)</c>.</summary>
    public int[] Peers { get; }

    /// <summary>The geometry for side <paramref name="n"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">n is not 4, 6 or 9.</exception>
    public static SudokuGeometry For(int n) => n switch
    {
        4 => Four,
        6 => Six,
        9 => Nine,
        _ => throw new ArgumentOutOfRangeException(nameof(n), n, "Sudoku size must be 4, 6 or 9"),
    };

    /// <summary>The geometry whose board has <paramref name="cells"/> cells (16, 36 or 81).</summary>
    /// <exception cref="ArgumentException">The length is not 16, 36 or 81.</exception>
    public static SudokuGeometry ForCells(int cells, string paramName) => cells switch
    {
        16 => Four,
        36 => Six,
        81 => Nine,
        _ => throw new ArgumentException(
            $"a Sudoku board has 16, 36 or 81 cells (4x4, 6x6, 9x9), got {cells}", paramName),
    };
}
