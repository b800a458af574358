using System.Globalization;

namespace Hrm.Bench.Ops;

/// <summary>out (M,N) = inp (M,K) · weight (N,K)ᵀ; printed as <c>MxKxN</c> in the results.</summary>
public sealed record MatmulShape(int M, int K, int N)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{M}x{K}x{N}");
}
