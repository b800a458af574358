using System.Globalization;

namespace Hrm.Bench.Ops;

/// <summary>Loss shape: logits (B,L,V), labels (B,L); printed as <c>B,L,V</c>.</summary>
public sealed record LossShape(int B, int L, int V)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{B},{L},{V}");
}
