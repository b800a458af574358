using System.Diagnostics;
using System.Globalization;
using Hrm.Bench.Torch;
using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Config;
using Hrm.Runtime.Model;
using Hrm.Runtime.Numerics;
using TorchSharp;

namespace Hrm.Bench.Compare;

/// <summary>
/// <c>hrm-bench compare [threads] [--no-write]</c>: our CPU runtime against the TorchSharp twin (libtorch 2.10 CPU),
/// same weights, same thread count, outputs checked before anything is timed; prints a table of medians and
/// speed-ups and writes it into docs/benchmarks.md (with machine, date and threads) and docs/benchmarks-compare.json.
/// <c>compare --render FILE.json</c> rewrites that section from a saved JSON without measuring.
/// <c>--only=segment,solve,training,gemm</c> runs only those kinds of case and writes nothing (a partial table).
/// </summary>
public static class CompareCommand
{
    public static int Run(string[] args, TextWriter o)
    {
        int render = Array.IndexOf(args, "--render");
        if (render >= 0 && render + 1 < args.Length)
        {
            CompareReport.Render(args[render + 1], o);
            return 0;
        }
        string[] positional = [.. args.Where(a => !a.StartsWith("--", StringComparison.Ordinal))];
        BenchArgs.AtMost(positional, 2, "compare [THREADS] [--only=KIND,...] [--no-write] [--render FILE]");
        int threads = BenchArgs.Int(positional, 1, Environment.ProcessorCount, "THREADS", min: 1);
        string[] only = args.Where(a => a.StartsWith("--only=", StringComparison.Ordinal))
            .SelectMany(a => a["--only=".Length..].Split(',', StringSplitOptions.RemoveEmptyEntries)).ToArray();
        bool write = !args.Contains("--no-write") && only.Length == 0;
        if (!TorchNative.TryLoad(out string reason))
        {
            o.WriteLine($"compare: {reason}");
            return 1;
        }
        torch.set_num_threads(threads);
        var info = MachineInfo.Collect(threads);
        o.WriteLine($"compare: {info.Summary}");
        List<CompareResult> results = RunCases(threads, only, o, out TimeSpan elapsed);
        info = info with { LoadAfter = MachineInfo.LoadAverage(), Minutes = elapsed.TotalMinutes };
        o.WriteLine();
        o.WriteLine(CompareReport.Markdown(results, info));
        if (write) CompareReport.Write(results, info, o);
        return 0;
    }

    /// <summary>Measures the cases <paramref name="only"/> names (all when empty), printing each row as it comes, on
    /// freshly initialised checkpoints in a temporary folder.</summary>
    private static List<CompareResult> RunCases(int threads, string[] only, TextWriter o, out TimeSpan elapsed)
    {
        bool Runs(string kind) => only.Length == 0 || only.Contains(kind);
        var total = Stopwatch.StartNew();
        string dir = Path.Combine(Path.GetTempPath(), $"hrm-compare-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        var results = new List<CompareResult>();
        try
        {
            string sudoku = Checkpoint(dir, "sudoku-extreme-1k", o);
            string maze = Checkpoint(dir, "maze-30x30-hard-1k", o);
            var cases = new CompareCases(threads, o);
            void Add(Func<CompareResult> run)
            {
                CompareResult r = run();
                results.Add(r);
                o.WriteLine(CompareReport.Row(r));
            }
            o.WriteLine(CompareReport.Header);
            if (Runs("segment"))
            {
                Add(() => cases.SegmentForward(sudoku, "Sudoku", 1, reps: 15, target: null));
                Add(() => cases.SegmentForward(sudoku, "Sudoku", 64, reps: 3, target: 1.2));
                Add(() => cases.SegmentForward(maze, "Maze/ARC", 4, reps: 3, target: null));
            }
            if (Runs("solve")) Add(() => cases.Solve(sudoku, "Sudoku", 1, reps: 9, target: 1.5));
            if (Runs("training")) Add(() => cases.TrainingStep(sudoku, "Sudoku", 32, reps: 9, target: 1.3));
            if (Runs("gemm"))
            {
                Add(() => cases.Gemm(64 * 82, 512, 1536, reps: 15, target: 0.9));
                Add(() => cases.Gemm(64 * 82, 512, 3072, reps: 15, target: 0.9));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        elapsed = total.Elapsed;
        return results;
    }

    /// <summary>Writes a freshly initialised checkpoint (the reference's init, seed 1) of a preset.</summary>
    private static string Checkpoint(string dir, string preset, TextWriter o)
    {
        string path = Path.Combine(dir, preset + ".safetensors");
        using var model = new HrmModel(HrmPresets.Get(preset), new CpuBackend(1));
        model.Initialize(new HrmRandom(1));
        HrmCheckpoint.Save(model, path);
        o.WriteLine($"  weights: {preset}, {model.Layout.ParameterCount:N0} parameters, {path}");
        return path;
    }
}
