namespace Hrm.Runtime.Backends.Reference;

public static partial class ReferenceOps
{
    /// <summary>√(1/2) as the reference writes it for the learned-position blend.</summary>
    public const double LearnedPosScale = 0.707106781;

    /// <summary>
    /// x (B,T,C) = scale · [puzzle prefix (P positions, the row zero-padded from Pd to P·C) ; E_tok[tokens]],
    /// and with a learned table (T,C): scale · 0.707106781 · (emb + pos). tokens (B,L) int; puzzleRows (B,Pd).
    /// </summary>
    public static void EmbeddingForward(Span<double> x, ReadOnlySpan<int> tokens, ReadOnlySpan<double> puzzleRows,
        ReadOnlySpan<double> tokTable, ReadOnlySpan<double> posTable, int batch, int l, int p, int pd, int c,
        int v, double scale)
    {
        int t = l + p;
        Check(x, (long)batch * t * c, nameof(x));
        Check(tokens, (long)batch * l, nameof(tokens));
        Check(puzzleRows, (long)batch * pd, nameof(puzzleRows));
        Check(tokTable, (long)v * c, nameof(tokTable));
        if (!posTable.IsEmpty) Check(posTable, (long)t * c, nameof(posTable));
        double f = posTable.IsEmpty ? scale : scale * LearnedPosScale;
        for (int b = 0; b < batch; b++)
        {
            for (int pos = 0; pos < t; pos++)
            {
                Span<double> row = x.Slice((b * t + pos) * c, c);
                for (int i = 0; i < c; i++)
                {
                    double e;
                    if (pos < p)
                    {
                        int idx = pos * c + i;
                        e = idx < pd ? puzzleRows[b * pd + idx] : 0.0;
                    }
                    else
                    {
                        e = tokTable[TokenAt(tokens, b * l + pos - p, v) * c + i];
                    }
                    if (!posTable.IsEmpty) e += posTable[pos * c + i];
                    row[i] = f * e;
                }
            }
        }
    }

    /// <summary>
    /// Backward of <see cref="EmbeddingForward"/>: dTokTable (V,C) +=, dPuzzleRows (B,Pd) =, dPosTable (T,C) +=
    /// (when not empty; its presence also selects the learned scale).
    /// </summary>
    public static void EmbeddingBackward(Span<double> dTokTable, Span<double> dPuzzleRows, Span<double> dPosTable,
        ReadOnlySpan<double> dx, ReadOnlySpan<int> tokens, int batch, int l, int p, int pd, int c, int v,
        double scale)
    {
        int t = l + p;
        Check(dx, (long)batch * t * c, nameof(dx));
        Check(tokens, (long)batch * l, nameof(tokens));
        Check(dPuzzleRows, (long)batch * pd, nameof(dPuzzleRows));
        Check(dTokTable, (long)v * c, nameof(dTokTable));
        if (!dPosTable.IsEmpty) Check(dPosTable, (long)t * c, nameof(dPosTable));
        double f = dPosTable.IsEmpty ? scale : scale * LearnedPosScale;
        dPuzzleRows.Clear();
        for (int b = 0; b < batch; b++)
        {
            for (int pos = 0; pos < t; pos++)
            {
                ReadOnlySpan<double> row = dx.Slice((b * t + pos) * c, c);
                for (int i = 0; i < c; i++)
                {
                    double g = f * row[i];
                    if (pos < p)
                    {
                        int idx = pos * c + i;
                        if (idx < pd) dPuzzleRows[b * pd + idx] = g;
                    }
                    else
                    {
                        dTokTable[TokenAt(tokens, b * l + pos - p, v) * c + i] += g;
                    }
                    if (!dPosTable.IsEmpty) dPosTable[pos * c + i] += g;
                }
            }
        }
    }

    /// <summary>dst (N,W) = table[ids] (R,W); ids out of range throw.</summary>
    public static void GatherRows(Span<double> dst, ReadOnlySpan<double> table, ReadOnlySpan<int> ids, int w)
    {
        Check(dst, (long)ids.Length * w, nameof(dst));
        int rows = w == 0 ? 0 : table.Length / w;
        for (int n = 0; n < ids.Length; n++)
        {
            if ((uint)ids[n] >= (uint)rows)
                throw new ArgumentOutOfRangeException(nameof(ids), $"puzzle identifier {ids[n]} at row {n} is outside [0, {rows})");
            table.Slice(ids[n] * w, w).CopyTo(dst.Slice(n * w, w));
        }
    }

    private static int TokenAt(ReadOnlySpan<int> tokens, int index, int v)
    {
        int id = tokens[index];
        if ((uint)id >= (uint)v)
            throw new ArgumentOutOfRangeException(nameof(tokens), $"token {id} at flat index {index} is outside [0, {v})");
        return id;
    }
}
