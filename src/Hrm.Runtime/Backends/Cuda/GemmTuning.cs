namespace Hrm.Runtime.Backends.Cuda;

/// <summary>
/// One bf16 GEMM shape whose cuBLASLt candidates the backend timed (<see cref="CudaBackendOptions.TuneGemms"/>):
/// column-major D (M×N) = op(A) · op(B) over K (the row-major product's N, M, K), D in bf16 or fp32, accumulating or
/// not; how many candidates, which one won (0: the heuristic's first guess) and the milliseconds a call of the first
/// and of the winner took.
/// </summary>
public readonly record struct GemmTuning(int M, int N, int K, bool Bf16Output, bool Accumulates, int Candidates,
    int Chosen, double FirstMs, double ChosenMs)
{
    /// <summary>E.g. <c>3072x62976x512 -> bf16: 8 candidates, #3 0.312 ms vs #0 0.366 ms</c>.</summary>
    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"{M}x{N}x{K} -> {(Bf16Output ? "bf16" : "fp32")}{(Accumulates ? " (+=)" : "")}: {Candidates} candidates, " +
        $"#{Chosen} {ChosenMs:F3} ms vs #0 {FirstMs:F3} ms");
}
