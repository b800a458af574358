using Hrm.Runtime.Arc;
using Hrm.Runtime.Backends;
using Hrm.Runtime.Config;
using Hrm.Runtime.Formats;
using Hrm.Runtime.Model;
using Hrm.Runtime.Puzzles;
using Hrm.Runtime.Solver;
using Hrm.Train.Data;
using Hrm.Train.Render;
using Hrm.Train.Training;

namespace Hrm.Train.Cli;

/// <summary>
/// <c>hrm render sudoku|maze|arc|curves|halting</c>: PNG pictures of a solve (with the prediction after every segment),
/// of an ARC test example, of training curves and of the segments used under adaptive halting.
/// </summary>
internal static class RenderCommand
{
    public const string Usage =
        "hrm render sudoku --checkpoint FILE --puzzle \"<n*n chars, . or 0 for blanks>\" [--max-steps N] --out FILE.png\n" +
        "       hrm render maze --checkpoint FILE --maze FILE [--max-steps N] --out FILE.png\n" +
        "       hrm render arc --checkpoint FILE --data DIR [--index I] [--max-steps N] --out FILE.png\n" +
        "              (sudoku, maze, arc also take [--config FILE | --preset NAME] [--device ...] [--threads N] " +
        GemmArgs.ModelUsage + ")\n" +
        "       hrm render curves --metrics RUN/metrics.jsonl --out FILE.png\n" +
        "       hrm render halting --segments DIR/segments.npy --out FILE.png";

    private static readonly string[] ModelOptions = ["checkpoint", "max-steps", "config", "preset", "device", "threads", "out"];

    public static int Run(ReadOnlySpan<string> argv, TextWriter o, TextWriter err)
    {
        string kind = argv.Length > 0 ? argv[0] : "";
        ReadOnlySpan<string> rest = argv.Length > 0 ? argv[1..] : argv;
        string path = kind switch
        {
            "sudoku" => Sudoku(new CliArgs("render", rest, [.. ModelOptions, "puzzle"], GemmArgs.ModelFlags), o, err),
            "maze" => Maze(new CliArgs("render", rest, [.. ModelOptions, "maze"], GemmArgs.ModelFlags), o, err),
            "arc" => Arc(new CliArgs("render", rest, [.. ModelOptions, "data", "index"], GemmArgs.ModelFlags), o, err),
            "curves" => Curves(new CliArgs("render", rest, ["metrics", "out"]), o, err),
            "halting" => Halting(new CliArgs("render", rest, ["segments", "out"]), o),
            _ => throw new UsageException("render", "expected what to render: sudoku, maze, arc, curves or halting"),
        };
        o.WriteLine($"wrote {path}");
        return 0;
    }

    private static string Sudoku(CliArgs args, TextWriter o, TextWriter err)
    {
        _ = GemmArgs.Cuda(args, "render"); // both flags: a usage error before any file is read
        string output = OutPath(args);
        SudokuGrid grid = SudokuGrid.Parse(args.Require("puzzle"));
        using HrmModel model = Load(args, err, () => (grid.Size * grid.Size, grid.Size + 2, 1), out int maxSteps);
        SudokuTrace s = SegmentTrace.Sudoku(model, grid, maxSteps);
        var solution = new byte[s.Givens.Length];
        bool unique = new SudokuSolver(s.N).Solve(s.Givens, solution, 2).IsUnique;
        SudokuPicture.Save(output, s, unique ? solution : null);
        int wrong = SudokuPicture.WrongCells(s.Answer, s.Givens, unique ? solution : []).Count(b => b);
        o.WriteLine(s.Valid ? "the model's answer is valid" : $"the model's answer is NOT valid: {wrong} wrong cells");
        return output;
    }

    private static string Maze(CliArgs args, TextWriter o, TextWriter err)
    {
        _ = GemmArgs.Cuda(args, "render");
        string output = OutPath(args);
        byte[] puzzle = SolveCommand.ReadMaze(args.Require("maze")).Cells.ToArray();
        using HrmModel model = Load(args, err, () => (puzzle.Length, MazeBoard.VocabSize, 1), out int maxSteps);
        MazeTrace m = SegmentTrace.Maze(model, puzzle, maxSteps);
        MazePicture.Save(output, m);
        o.WriteLine(m.Check.Valid ? $"the model's path is valid: {m.Check.Length} moves" : $"the model's path is NOT valid: {m.Check.Problem}");
        return output;
    }

    private static string Arc(CliArgs args, TextWriter o, TextWriter err)
    {
        _ = GemmArgs.Cuda(args, "render");
        string output = OutPath(args), data = args.Require("data");
        using PuzzleDataset test = PuzzleDataset.Open(data, "test");
        string[]? names = DatasetIdentifiers.Read(data, test.Metadata.NumPuzzleIdentifiers);
        if (test.SeqLen != ArcEncoding.SeqLen || test.Metadata.VocabSize != ArcEncoding.VocabSize)
            throw new HrmFormatException(data, "dataset.json",
                $"seq_len {test.SeqLen} / vocab_size {test.Metadata.VocabSize} are not an ARC dataset's " +
                $"{ArcEncoding.SeqLen} / {ArcEncoding.VocabSize}");
        int index = args.GetInt("index", 0, min: 0);
        if (index >= test.ExampleCount)
        {
            throw new UsageException("render",
                $"--index {index} is past the test split's {test.ExampleCount} examples (0..{test.ExampleCount - 1})");
        }
        var tokens = new int[test.SeqLen];
        var labels = new int[test.SeqLen];
        test.ReadExample(index, tokens, labels);
        int id = Evaluator.PuzzleOf(test, index);
        using HrmModel model = Load(args, err,
            () => (test.SeqLen, test.Metadata.VocabSize, test.Metadata.NumPuzzleIdentifiers), out int maxSteps);
        if (model.Config.SeqLen != test.SeqLen || model.Config.VocabSize != test.Metadata.VocabSize)
        {
            throw new ArgumentException(
                $"the checkpoint takes seq_len {model.Config.SeqLen} / vocab_size {model.Config.VocabSize}, not an ARC dataset's");
        }
        ActRun run = ActRunner.Run(model, tokens, maxSteps, id);
        string name = names != null && id < names.Length ? names[id] : $"puzzle {id}";
        ArcGrid expected = ArcEncoding.Crop(labels), predicted = ArcEncoding.Crop(run.Predicted);
        ArcPicture.Save(output, $"ARC {name}, test example {index}", ArcEncoding.Crop(tokens), expected, predicted, run.Segments);
        o.WriteLine(predicted.Equals(expected) ? "the prediction matches the expected grid" : "the prediction differs from the expected grid");
        return output;
    }

    private static string Curves(CliArgs args, TextWriter o, TextWriter err)
    {
        string output = OutPath(args), metrics = args.Require("metrics");
        var warnings = new List<string>();
        List<MetricsEntry> entries = MetricsLogReader.Read(metrics, warnings); // a run may be writing its last line
        foreach (string w in warnings) err.WriteLine("hrm: warning: " + w);
        CurvesPicture.Save(output, metrics, entries);
        o.WriteLine($"{entries.Count} entries from {metrics}");
        return output;
    }

    private static string Halting(CliArgs args, TextWriter o)
    {
        string output = OutPath(args), file = args.Require("segments");
        int[] segments = HaltingPicture.ReadSegments(file);
        HaltingPicture.Save(output, file, segments);
        o.WriteLine(FormattableString.Invariant($"{segments.Length} examples, mean {segments.Average():F2} segments, max {segments.Max()}"));
        return output;
    }

    private static string OutPath(CliArgs args)
    {
        string output = args.GetOutFile("out") ?? args.Require("out");
        args.CheckNotInput("out", "checkpoint", "config", "maze", "metrics", "segments");
        return output.EndsWith(".png", StringComparison.OrdinalIgnoreCase)
            ? output
            : throw new UsageException("render", $"--out '{output}': the picture is a PNG; name the file *.png");
    }

    /// <summary>The checkpoint's model; <paramref name="task"/>: the puzzle's seq_len, vocab_size and
    /// num_puzzle_identifiers, for a run config that leaves them to the data.</summary>
    private static HrmModel Load(CliArgs args, TextWriter err, Func<(int, int, int)> task, out int maxSteps)
    {
        HrmConfig? cfgOverride = ConfigSource.ForCheckpoint(args, args.Require("checkpoint"), err, task);
        IHrmBackend backend = BackendFactory.Create(args.Get("device") ?? "auto", args.GetThreads(),
            GemmArgs.Cuda(args, "render"), out _);
        HrmModel model = HrmCheckpoint.Load(args.Require("checkpoint"), backend, cfgOverride);
        maxSteps = args.GetMaxSteps(model.Config.HaltMaxSteps);
        if (maxSteps <= StripLayout.MaxSegments) return model;
        model.Dispose();
        throw new UsageException("render", $"--max-steps {maxSteps}: a picture draws one board per segment, at most {StripLayout.MaxSegments}");
    }
}
