namespace Hrm.Train.Render;

/// <summary>
/// Where the per-segment boards go: <see cref="Columns"/> boards a row, each with a caption line above and one
/// below, left to right then top to bottom, starting at (<see cref="Left"/>, <see cref="Top"/>).
/// </summary>
internal readonly record struct StripLayout(int Count, int Board, int Columns, float Left, float Top)
{
    /// <summary>The most segments a picture draws; more would make an unwieldy image.</summary>
    public const int MaxSegments = 64;

    public const int Gap = 18;
    public const int Caption = 16;

    public int Rows => (Count + Columns - 1) / Columns;

    public float Width => Columns * (Board + Gap) - Gap;

    public float Height => Rows * (Board + 2 * Caption + Gap);

    /// <summary>Top-left corner of board <paramref name="i"/> (below its caption).</summary>
    public (float X, float Y) Corner(int i) =>
        (Left + i % Columns * (Board + Gap), Top + i / Columns * (Board + 2 * Caption + Gap) + Caption);

    /// <summary>As many columns as fit in <paramref name="maxWidth"/> pixels (at least 1, at most the count).</summary>
    public static int ColumnsFor(int count, int board, float maxWidth) =>
        Math.Clamp((int)((maxWidth + Gap) / (board + Gap)), 1, Math.Max(count, 1));
}
