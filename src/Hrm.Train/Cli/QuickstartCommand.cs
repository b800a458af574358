using System.Diagnostics;
using System.Globalization;
using Hrm.Runtime.Puzzles;
using Hrm.Runtime.Solver;
using Hrm.Train.Data;
using Hrm.Train.Training;

namespace Hrm.Train.Cli;

/// <summary>
/// <c>hrm quickstart</c>: generates Sudoku data, trains the <c>sudoku-quickstart</c> preset on the CPU, evaluates
/// it on held-out puzzles, solves three and prints them, then says where the checkpoint and metrics are.
/// </summary>
internal static class QuickstartCommand
{
    public const string Usage =
        "hrm quickstart [--out DIR] [--threads N] [--set key=value ...] [--profile] " + GemmArgs.PrecisionUsage;

    /// <summary>The band: 9x9 puzzles with this many givens (see README).</summary>
    public const int Givens = 60;
    public const int TrainPuzzles = 6000;
    public const int TestPuzzles = 1000;

    public static int Run(ReadOnlySpan<string> argv, TextWriter o, TextWriter err)
    {
        var args = new CliArgs("quickstart", argv, ["out", "threads"], flags: ["profile", .. GemmArgs.PrecisionFlags],
            repeatable: ["set"]);
        bool bf16Matmul = GemmArgs.Bf16(args, "quickstart");
        IReadOnlyList<string> sets = args.GetAll("set");
        TrainCommand.RefuseDatasetKeys("quickstart", sets);
        string root = args.GetOutDir("out") ?? Path.Combine("runs", "quickstart");
        string data = Path.Combine(root, "data"), runDir = Path.Combine(root, "run");
        // Held throughout: a second quickstart into the same folder would regenerate the data and delete the run
        // under this one.
        using RunLock rootLock = RunLock.Acquire(root, create: true, holder: "hrm quickstart");
        var total = Stopwatch.StartNew();
        o.WriteLine($"1/4 data: {TrainPuzzles} train + {TestPuzzles} held-out 9x9 puzzles with {Givens} givens -> {data}");
        int code = DataCommand.Run(["sudoku", "--generate", TrainPuzzles.ToString(CultureInfo.InvariantCulture),
            "--test", TestPuzzles.ToString(CultureInfo.InvariantCulture), "--min-givens", Givens.ToString(CultureInfo.InvariantCulture),
            "--max-givens", Givens.ToString(CultureInfo.InvariantCulture), "--seed", "1", "--out", data], o, err);
        if (code != 0) return code;

        o.WriteLine($"2/4 training preset sudoku-quickstart -> {runDir}");
        var warnings = new List<string>();
        RunConfig cfg = RunConfigJson.Parse(RunConfigJson.Serialize(RunPresets.Get("sudoku-quickstart") with { DataPath = data }),
            sets, warnings, "preset sudoku-quickstart");
        if (args.Has("threads")) cfg = cfg with { Threads = args.GetThreads() };
        if (Directory.Exists(runDir)) Directory.Delete(runDir, recursive: true);
        bool interactive = !Console.IsOutputRedirected && ReferenceEquals(o, Console.Out);
        using Trainer trainer = Trainer.Create(cfg, runDir, null, "auto", o, interactive, args.Has("profile"), bf16Matmul);
        trainer.Run();
        if (trainer.ProfileReport() is { } report) o.Write(report);
        double trainSecs = total.Elapsed.TotalSeconds;

        int evalSteps = cfg.EvalMaxSteps > 0 ? cfg.EvalMaxSteps : trainer.Model.Config.HaltMaxSteps;
        o.WriteLine($"3/4 evaluation on the held-out puzzles (exactly {evalSteps} segments each)");
        IReadOnlyDictionary<string, double> m = trainer.LastEval ?? trainer.EvaluateKeepingCarry();
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"    exact accuracy {m["eval/exact_accuracy"]:P1} (whole grids right), cell accuracy {m["eval/accuracy"]:P2}"));

        o.WriteLine("4/4 three held-out puzzles:");
        string checkpoint = Path.Combine(trainer.LastCheckpoint ?? throw new InvalidOperationException(
            "training saved no checkpoint (epochs = 0?)"), "model.safetensors");
        var options = new SolverOptions { MaxSteps = evalSteps, Threads = cfg.Threads, BatchSlots = 3, Bf16Matmul = bf16Matmul };
        SolveThree(checkpoint, options, data, o);
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"done in {total.Elapsed.TotalMinutes:F1} min (data + training {trainSecs / 60:F1} min)"));
        o.WriteLine($"checkpoint: {checkpoint}");
        o.WriteLine($"metrics:    {Path.Combine(runDir, "metrics.jsonl")}");
        o.WriteLine($"try:        hrm solve --checkpoint {checkpoint} --puzzle \"<81 chars>\" --max-steps {evalSteps}");
        return 0;
    }

    /// <summary>Solves the first three held-out puzzles with the checkpoint and prints them.</summary>
    private static void SolveThree(string checkpoint, SolverOptions options, string data, TextWriter o)
    {
        using HrmSolver solver = HrmSolver.Load(checkpoint, options);
        using PuzzleDataset test = PuzzleDataset.Open(data, "test");
        var inputs = new int[test.SeqLen];
        var labels = new int[test.SeqLen];
        var puzzles = new SudokuGrid[3];
        for (int k = 0; k < puzzles.Length; k++)
        {
            test.ReadExample(k, inputs, labels);
            puzzles[k] = SudokuGrid.FromDigits([.. inputs.Select(t => (byte)Math.Max(0, t - SudokuBoard.BlankToken))]);
        }
        foreach (SudokuResult r in solver.Solve(puzzles))
        {
            SolveCommand.Print(o, r);
            o.WriteLine();
        }
    }
}
