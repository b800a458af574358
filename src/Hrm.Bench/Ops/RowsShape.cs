using System.Globalization;

namespace Hrm.Bench.Ops;

/// <summary>A row-wise op over (N, W) (N = B·T rows of width W); printed as <c>NxW</c>.</summary>
public sealed record RowsShape(int N, int W)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{N}x{W}");
}
