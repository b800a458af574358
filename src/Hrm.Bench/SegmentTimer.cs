using System.Diagnostics;
using System.Globalization;
using Hrm.Bench.E2E;
using Hrm.Runtime.Config;

namespace Hrm.Bench;

/// <summary>
/// <c>hrm-bench quick</c>: Stopwatch medians of the end-to-end figures in one process, side by side,
/// with the managed bytes allocated per call after warm-up. BenchmarkDotNet suites give the careful numbers.
/// </summary>
public static class SegmentTimer
{
    public static void Run(TextWriter o, int threads)
    {
        HrmConfig sudoku = HrmPresets.Get("sudoku-extreme-1k");
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| case | batch | median ms | GFLOP/s | managed bytes/call |"));
        o.WriteLine("|---|---:|---:|---:|---:|");
        Case(o, "segment forward, Sudoku (T=82)", sudoku, 1, training: false, reps: 9, threads);
        Case(o, "segment forward, Sudoku (T=82)", sudoku, 64, training: false, reps: 3, threads);
        Case(o, "forward + 1-step backward, Sudoku (T=82)", sudoku, 32, training: true, reps: 3, threads);
    }

    private static void Case(TextWriter o, string name, HrmConfig cfg, int batch, bool training, int reps, int threads)
    {
        using var m = new BenchModel(cfg, batch, training, threads);
        Action run = training ? m.ForwardBackward : m.Forward;
        (double ms, long bytes) = MedianTimer.Time(run, reps);
        // Spec 4.2: F_blk(S) = 2·S·3,407,872 + 4·S²·512 per sample; forward = 24 block apps, +16 for the backward.
        int s = cfg.TotalSeqLen;
        double blk = 2.0 * s * 3_407_872 + 4.0 * s * s * 512;
        double flops = batch * blk * (training ? 24 + 16 : 24);
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {batch} | {ms:F1} | {flops / ms / 1e6:F0} | {bytes} |"));
    }
}
