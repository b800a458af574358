using System.Globalization;

namespace Hrm.Bench.Ops;

/// <summary>Attention / RoPE shape: qkv (B,T,3C) with C = NH·HS; printed as <c>B,T,NH,HS</c>.</summary>
public sealed record AttentionShape(int B, int T, int NH, int HS)
{
    /// <summary>C = NH·HS.</summary>
    public int C => NH * HS;

    /// <summary>The model's shapes (Sudoku 8x64 at B = 64, Maze/ARC T = 901 at B = 4, the quickstart's 4x16) and
    /// one odd size.</summary>
    public static IEnumerable<AttentionShape> Model =>
    [
        new(64, 82, 8, 64),
        new(4, 901, 8, 64),
        new(64, 82, 4, 16),
        new(3, 50, 3, 24),
    ];

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{B},{T},{NH},{HS}");
}
