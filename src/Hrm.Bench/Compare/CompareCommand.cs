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
/// <c>--only=segment,solve,training,gemm</c> runs only those kinds of case and writes nothing (a partial table); the
/// checkpoints are written only for the cases that need them.
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
        const string usage = "compare [THREADS] [--only=KIND,...] [--no-write] [--render FILE]";
        string[] positional = [.. args.Where(a => !a.StartsWith("--", StringComparison.Ordinal))];
        BenchArgs.AtMost(positional, 2, usage);
        int threads = BenchArgs.Int(positional, 1, Environment.ProcessorCount, "THREADS", min: 1);
        string[] only = Only(args, usage);
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

    /// <summary>The kinds of case <c>--only=</c> names (none: all), each one of <see cref="Kinds"/>; any other option
    /// than those of the usage is refused too.</summary>
    /// <exception cref="FormatException">An unknown option or kind, named.</exception>
    private static string[] Only(string[] args, string usage)
    {
        foreach (string a in args.Skip(1).Where(a => a.StartsWith("--", StringComparison.Ordinal)))
        {
            if (a == "--render")
                throw new FormatException("compare: --render expects a FILE (a JSON this command wrote)");
            if (a != "--no-write" && !a.StartsWith("--only=", StringComparison.Ordinal))
                throw new FormatException($"compare: unknown option '{a}'; usage: hrm-bench {usage}");
        }
        string[] only = [.. args.Where(a => a.StartsWith("--only=", StringComparison.Ordinal))
            .SelectMany(a => a["--only=".Length..].Split(',', StringSplitOptions.RemoveEmptyEntries))];
        foreach (string kind in only.Where(k => !Kinds.Contains(k)))
            throw new FormatException($"compare: unknown kind '{kind}' in --only (kinds: {string.Join(", ", Kinds)})");
        if (args.Any(a => a.StartsWith("--only=", StringComparison.Ordinal)) && only.Length == 0)
            throw new FormatException($"compare: --only= names no kind (kinds: {string.Join(", ", Kinds)})");
        return only;
    }

    /// <summary>The kinds of case, in the table's order.</summary>
    private static readonly string[] Kinds = ["segment", "solve", "training", "gemm"];

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
            // Written only when a case that runs needs them (--only=gemm: neither).
            var sudokuPath = new Lazy<string>(() => Checkpoint(dir, "sudoku-extreme-1k", o));
            var mazePath = new Lazy<string>(() => Checkpoint(dir, "maze-30x30-hard-1k", o));
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
                Add(() => cases.SegmentForward(sudokuPath.Value, "Sudoku", 1, reps: 15, target: null));
                Add(() => cases.SegmentForward(sudokuPath.Value, "Sudoku", 64, reps: 3, target: 1.2));
                Add(() => cases.SegmentForward(mazePath.Value, "Maze/ARC", 4, reps: 3, target: null));
            }
            if (Runs("solve")) Add(() => cases.Solve(sudokuPath.Value, "Sudoku", 1, reps: 9, target: 1.5));
            if (Runs("training")) Add(() => cases.TrainingStep(sudokuPath.Value, "Sudoku", 32, reps: 9, target: 1.3));
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
