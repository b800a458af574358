using System.Globalization;

namespace Hrm.Bench.Ops;

/// <summary>
/// Input embedding shape: tokens (B,L), puzzle rows (B,Pd) padded to P prefix positions of width C, vocabulary V,
/// and whether a learned position table (T,C) is added (T = L + P). Printed as <c>B,L+P,C,V</c> (+<c>,pos</c>).
/// </summary>
public sealed record EmbeddingShape(int B, int L, int P, int Pd, int C, int V, bool LearnedPos)
{
    /// <summary>T = L + P.</summary>
    public int T => L + P;

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{B},{L}+{P},{C},{V}{(LearnedPos ? ",pos" : "")}");
}
