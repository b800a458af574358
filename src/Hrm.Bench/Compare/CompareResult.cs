namespace Hrm.Bench.Compare;

/// <summary>
/// One row of the comparison: medians of ours and of the TorchSharp twin, the speed-up (TorchSharp ms / our ms,
/// above 1 = ours faster), the target for it (null: none), and how closely the outputs agreed beforehand.
/// </summary>
public sealed record CompareResult(string Case, string Shape, int Reps, double OursMs, double TorchMs, double? Target,
    string Agreement)
{
    public double Speedup => TorchMs / OursMs;

    /// <summary>"met", "missed" or "" (no target).</summary>
    public string Verdict => Target is null ? "" : Speedup >= Target ? "met" : "missed";
}
