namespace Hrm.Runtime.Arc;

/// <summary>
/// ARC grids as 30 x 30 = 900-token sequences (spec 5.4) and back (spec 6.3): PAD 0, EOS 1, colour c as c + 2.
/// A grid sits at a top-left offset; EOS marks the row just below it (across its columns) and the column just
/// right of it (across its rows) where those are inside the 30 x 30 canvas; the corner cell stays PAD.
/// </summary>
public static class ArcEncoding
{
    /// <summary>Canvas side.</summary>
    public const int Side = ArcGrid.MaxSide;

    /// <summary>Tokens per sequence (seq_len).</summary>
    public const int SeqLen = Side * Side;

    /// <summary>PAD token (also the ignored label).</summary>
    public const byte Pad = 0;

    /// <summary>End-of-grid marker.</summary>
    public const byte Eos = 1;

    /// <summary>Token of colour 0; colour c is c + ColorOffset.</summary>
    public const byte ColorOffset = 2;

    /// <summary>vocab_size: PAD, EOS and ten colours.</summary>
    public const int VocabSize = ArcColorMap.Colors + 2;

    /// <summary>Writes the 900 tokens of <paramref name="grid"/> placed at (padRow, padCol).</summary>
    /// <param name="grid">The grid.</param>
    /// <param name="padRow">Top offset; the grid must fit: padRow + rows &lt;= 30.</param>
    /// <param name="padCol">Left offset; padCol + cols &lt;= 30.</param>
    /// <param name="dst">900 tokens.</param>
    /// <exception cref="ArgumentException">The grid does not fit or dst is not 900 long.</exception>
    public static void Encode(ArcGrid grid, int padRow, int padCol, Span<byte> dst)
    {
        ArgumentNullException.ThrowIfNull(grid);
        if (dst.Length != SeqLen) throw new ArgumentException($"dst must hold {SeqLen} tokens; got {dst.Length}",
            nameof(dst));
        if (padRow < 0 || padCol < 0 || padRow + grid.Rows > Side || padCol + grid.Cols > Side)
        {
            throw new ArgumentException(
                $"a {grid.Rows} x {grid.Cols} grid at ({padRow}, {padCol}) does not fit in {Side} x {Side}",
                    nameof(padRow));
        }
        dst.Clear();
        for (int r = 0; r < grid.Rows; r++)
        {
            for (int c = 0; c < grid.Cols; c++)
                dst[(padRow + r) * Side + padCol + c] = (byte)(grid[r, c] + ColorOffset);
        }
        int eosRow = padRow + grid.Rows, eosCol = padCol + grid.Cols;
        if (eosRow < Side) dst.Slice(eosRow * Side + padCol, grid.Cols).Fill(Eos);
        if (eosCol < Side)
        {
            for (int r = padRow; r < eosRow; r++) dst[r * Side + eosCol] = Eos;
        }
    }

    /// <summary>
    /// The reference's crop (spec 6.3): scan rows 1..30 keeping a running width w (initially 30); in row r, w
    /// becomes the number of leading colour tokens (within the first w); keep the (r, w) of largest area r * w
    /// (the first one on ties). Returns that top-left block minus 2. Sequences are expected at offset (0, 0).
    /// </summary>
    /// <param name="tokens">900 tokens (any integers; anything outside [2, 11] ends a row).</param>
    /// <returns>The cropped grid (possibly 0 x 0).</returns>
    /// <exception cref="ArgumentException">Not 900 tokens.</exception>
    public static ArcGrid Crop(ReadOnlySpan<int> tokens)
    {
        if (tokens.Length != SeqLen)
            throw new ArgumentException($"a sequence has {SeqLen} tokens; got {tokens.Length}", nameof(tokens));
        int bestArea = 0, bestRows = 0, bestCols = 0, width = Side;
        for (int r = 1; r <= Side; r++)
        {
            for (int c = 1; c <= width; c++)
            {
                int x = tokens[(r - 1) * Side + c - 1];
                if (x < ColorOffset || x > ColorOffset + 9)
                {
                    width = c - 1;
                    break;
                }
            }
            if (r * width > bestArea)
            {
                bestArea = r * width;
                (bestRows, bestCols) = (r, width);
            }
        }
        byte[] cells = new byte[bestRows * bestCols];
        for (int r = 0; r < bestRows; r++)
        {
            for (int c = 0; c < bestCols; c++) cells[r * bestCols + c] = (byte)(tokens[r * Side + c] - ColorOffset);
        }
        return new ArcGrid(bestRows, bestCols, cells);
    }
}
