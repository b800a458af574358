using System.Globalization;
using Hrm.Runtime.Arc;
using Hrm.Runtime.Backends;
using Hrm.Runtime.Config;
using Hrm.Runtime.Formats;
using Hrm.Runtime.Loss;
using Hrm.Runtime.Model;
using Hrm.Runtime.Solver;
using Hrm.Train.Data;
using Hrm.Train.Training;

namespace Hrm.Train.Cli;

/// <summary>
/// <c>hrm eval</c>: the reference's evaluation on a dataset's test split, with optional output dump. On an ARC dataset
/// it also votes over the views and reports pass@k per task (spec 6.3), and can write a submission file.
/// </summary>
internal static class EvalCommand
{
    public const string Usage =
        "hrm eval --checkpoint FILE --data DIR [--split test] [--config FILE | --preset NAME] [--max-steps N[,N...]] [--batch-size N]\n" +
        "         [--examples N [--seed S]]\n" +
        "         " + HaltingArgs.Usage + "\n" +
        "         [--loss stablemax_cross_entropy|softmax_cross_entropy] [--out DIR] [--submission FILE] [--device ...]\n" +
        "         [--threads N] " + GemmArgs.ModelUsage;

    public static int Run(ReadOnlySpan<string> argv, TextWriter o, TextWriter err)
    {
        var args = new CliArgs("eval", argv,
            ["checkpoint", "data", "split", "config", "preset", "max-steps", "batch-size", "loss", "out", "submission", "device", "threads",
             "examples", "seed",
             .. HaltingArgs.Options], flags: GemmArgs.ModelFlags);
        _ = GemmArgs.Cuda(args, "eval"); // both flags: a usage error before any file is read
        _ = (args.GetOutDir("out"), args.GetOutFile("submission")); // likewise: not after the whole evaluation
        args.CheckNotInput("submission", "checkpoint", "config");
        string ckpt = args.Require("checkpoint"), data = args.Require("data");
        using PuzzleDataset test = PuzzleDataset.Open(data, args.Get("split") ?? "test");
        if (test.ExampleCount == 0)
            throw new HrmFormatException(data, args.Get("split") ?? "test", "the split has no examples to evaluate");
        HrmConfig? cfgOverride = ConfigSource.ForCheckpoint(args, ckpt, err,
            () => (test.Metadata.SeqLen, test.Metadata.VocabSize, test.Metadata.NumPuzzleIdentifiers),
            out string? runLoss); // the run's loss, where its all_config.yaml says: --loss's default
        string[]? names = DatasetIdentifiers.Read(data, test.Metadata.NumPuzzleIdentifiers);
        ArcEvalObserver? arc = ArcEvalObserver.IsArc(test.Metadata, names) ? new ArcEvalObserver(test, names!, new ArcVoting()) : null;
        string? submission = args.GetOutFile("submission");
        if (submission != null && arc == null)
            throw new UsageException("eval", "--submission needs an ARC dataset (seq_len 900, vocab_size 12, named identifiers)");
        int[]? stepList = ParseStepList(args.Get("max-steps"));
        int[]? examples = SampleOf(args, test, arc != null, stepList);
        HaltingMode? halting = HaltingArgs.Mode(args, "eval");
        int count = examples?.Length ?? test.ExampleCount;
        int batch = Math.Min(args.GetInt("batch-size", 256, min: 1), Math.Max(1, count));
        if (halting != null || stepList is { Length: > 1 })
            return RunHalting(args, ckpt, cfgOverride, test, data, stepList, halting, batch, arc != null, o);
        HaltingArgs.CheckAdaptiveFlags(args, "eval", adaptive: false);
        IHrmBackend backend = BackendFactory.Create(args.Get("device") ?? "auto", args.GetThreads(),
            GemmArgs.Cuda(args, "eval"), out string notice);
        using HrmModel model = HrmCheckpoint.Load(ckpt, backend, cfgOverride);
        HrmConfig a = model.Config;
        CheckDataset(test, a, data);
        int maxSteps = stepList?[0] ?? a.HaltMaxSteps;
        LossType lossType = LossOf(args.Get("loss") ?? runLoss ?? "stablemax_cross_entropy");
        o.WriteLine($"{notice}; {count:N0} examples" + (examples != null ? $" (a sample of {test.ExampleCount:N0})" : "") +
            $", batch {batch}, {maxSteps} segments each");
        model.Reserve(batch, training: false);
        string? outDir = args.GetOutDir("out");
        EvalOutputs? outputs = outDir != null ? new EvalOutputs(test.ExampleCount, a.SeqLen, a.VocabSize) : null;
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        var progress = new EvalProgress(err, count, !Console.IsErrorRedirected && ReferenceEquals(err, Console.Error));
        EvalBatchObserver observe = arc is null ? progress.Observe : (EvalBatchObserver)arc.Observe + progress.Observe;
        IReadOnlyDictionary<string, double> m = Evaluator.Run(model, test, maxSteps, lossType, outputs, observe, null, examples);
        double secs = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
        foreach ((string k, double v) in m) o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{k,-24} {v:F4}"));
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{count / secs:F1} sequences/s ({secs:F1} s)"));
        if (arc != null) ReportArc(arc.Voting, submission, o);
        if (outputs != null)
        {
            int[] predictions = PredictCommand.WriteOutputs(outDir!, outputs, test.ExampleCount, a.SeqLen, a.VocabSize,
                o);
            TextAnswersFile.Write(outDir!, data, predictions, test.ExampleCount, a.SeqLen, o);
        }
        return 0;
    }

    /// <summary>--examples N [--seed S]: a seeded sample of the split (as training's eval_examples draws it), for a
    /// quick look at a split too large to evaluate whole; null for the whole split.</summary>
    private static int[]? SampleOf(CliArgs args, PuzzleDataset test, bool isArc, int[]? stepList)
    {
        if (args.Has("seed") && !args.Has("examples")) throw new UsageException("eval", "--seed goes with --examples");
        if (args.Has("examples") && (isArc || args.Has("out") || args.Has("halting") || stepList is { Length: > 1 }))
        {
            throw new UsageException("eval", "--examples takes a sample of a Sudoku or maze split for the reference " +
                "evaluation: not with ARC (voting needs every view of a task), --out, --halting or a --max-steps list");
        }
        return Evaluator.Sample(test.ExampleCount, args.GetInt("examples", 0, min: 1), args.GetSeed("seed", 0));
    }

    private static LossType LossOf(string name) => name switch
    {
        "stablemax_cross_entropy" => LossType.StablemaxCrossEntropy,
        "softmax_cross_entropy" => LossType.SoftmaxCrossEntropy,
        _ => throw new UsageException("eval", $"--loss: unknown loss '{name}'"),
    };

    /// <summary>--halting and/or a --max-steps list: the split through <see cref="HrmSolver"/> (<see cref="HaltingEval"/>).</summary>
    private static int RunHalting(CliArgs args, string ckpt, HrmConfig? cfgOverride, PuzzleDataset test, string data,
        int[]? stepList, HaltingMode? halting, int batch, bool isArc, TextWriter o)
    {
        bool sweep = stepList is { Length: > 1 };
        if (args.Has("submission") || args.Has("loss"))
            throw new UsageException("eval", "--submission and --loss belong to the reference evaluation (no --halting, one --max-steps)");
        if (sweep && args.Has("out")) throw new UsageException("eval", "--out writes one run; give a single --max-steps with it");
        bool adaptive = halting == HaltingMode.Adaptive || (sweep && halting != HaltingMode.Fixed);
        HaltingArgs.CheckAdaptiveFlags(args, "eval", adaptive);
        var plan = new HaltingEval.Plan(stepList ?? [0], Fixed: true, adaptive, HaltingArgs.MinSteps(args),
            HaltingArgs.Margin(args, "eval"), args.GetOutDir("out"), data);
        IHrmBackend backend = BackendFactory.Create(args.Get("device") ?? "auto", args.GetThreads(),
            GemmArgs.Cuda(args, "eval"), out string notice);
        using HrmSolver solver = HrmSolver.Load(ckpt, new SolverOptions { Config = cfgOverride, BatchSlots = batch }, backend, notice);
        CheckDataset(test, solver.Config, data);
        if (stepList == null) plan = plan with { MaxSteps = [solver.Config.HaltMaxSteps] };
        o.WriteLine($"{notice}; {test.ExampleCount:N0} examples, {batch} batch slots (continuous batching)");
        if (isArc) o.WriteLine("note: ARC voting and pass@k run only in the reference evaluation (without --halting)");
        return HaltingEval.Run(solver, test, plan, o);
    }

    /// <summary>"8" or "1,2,4,8,16" (each 1 to <see cref="HrmConfig.MaxDepth"/>), or null when not given.</summary>
    private static int[]? ParseStepList(string? text)
    {
        if (text == null) return null;
        string[] parts = text.Split(',');
        var steps = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out steps[i]) ||
                steps[i] < 1 || steps[i] > HrmConfig.MaxDepth)
            {
                throw new UsageException("eval", "--max-steps expects N or a list N,N,... of integers from 1 to " +
                    $"{HrmConfig.MaxDepth}, got '{text}'");
            }
        }
        return steps;
    }

    private static void CheckDataset(PuzzleDataset test, HrmConfig a, string data)
    {
        if (test.SeqLen != a.SeqLen || test.Metadata.VocabSize != a.VocabSize)
            throw new HrmFormatException(data, "dataset.json",
                $"seq_len {test.SeqLen} / vocab_size {test.Metadata.VocabSize} do not match the checkpoint's {a.SeqLen} / {a.VocabSize}");
    }

    private static void ReportArc(ArcVoting voting, string? submission, TextWriter o)
    {
        ArcScore score = voting.Score();
        for (int i = 0; i < score.Ks.Count; i++)
        {
            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{"ARC/pass@" + score.Ks[i],-24} {score.Rate(i):F4} ({score.Solved[i]}/{score.Tasks} tasks)"));
        }
        if (score.UnmatchedRows > 0)
            o.WriteLine($"warning: {score.UnmatchedRows} rows matched no labelled test input (or had a malformed name)");
        if (submission == null) return;
        voting.WriteSubmission(submission);
        o.WriteLine($"wrote the submission ({score.Tasks} tasks, attempt_1 and attempt_2 per test input) to {submission}");
    }
}
