using System.Globalization;
using Hrm.Runtime.Backends;
using Hrm.Runtime.Formats;
using Hrm.Runtime.Solver;
using Hrm.Train.Data;

namespace Hrm.Train.Cli;

/// <summary>
/// <c>hrm solve</c>: one Sudoku (or, with --maze, one maze) through a trained checkpoint with <see cref="HrmSolver"/>,
/// printed and checked, an input of a task of your own (--text), or a file of Sudokus (--puzzles,
/// <see cref="SolveMany"/>). Exit code 3 when an answer is not
/// valid (for a maze: not a shortest path).
/// </summary>
internal static class SolveCommand
{
    public const string Usage =
        "hrm solve --checkpoint FILE (--puzzle \"<n*n chars, . or 0 for blanks>\" | --maze FILE\n" +
        "          | --text \"<input>\") [--alphabet FILE] [--puzzle-name NAME] [--views N]\n" +
        "          [--max-steps N] " + HaltingArgs.Usage + "\n" +
        "          [--config FILE | --preset NAME] [--device ...] [--threads N]\n" +
        "          " + GemmArgs.ModelUsage + "\n" +
        "       hrm solve --checkpoint FILE (--puzzles FILE | --mazes FILE | --texts FILE) [--out FILE] [--batch N]\n" +
        "          (and the options above)\n" +
        "  --puzzles / --mazes: one puzzle a line (n*n cells), or the reference's CSV (source,question,answer,rating:\n" +
        "  its answers are compared); the answers one a line to --out FILE or standard output, the counts and speed to\n" +
        "  the other\n" +
        "  --text: an input of a task of your own (hrm data pairs); the symbols are those of the alphabet.json that\n" +
        "  hrm train copied next to the checkpoint, or of --alphabet FILE (DATA/alphabet.json). --texts: one\n" +
        "  input a line, or input,output lines (CSV, as hrm data pairs reads: the outputs are compared).\n" +
        "  --puzzle-name NAME: the group whose puzzle embedding the texts get (data pairs --puzzle-ids; --texts\n" +
        "  without it: each line's group column). A model trained with --puzzle-ids --relabel answers with the vote\n" +
        "  of the group's views (--views N: the first N, the original first; 1: the original alone)";

    public static int Run(ReadOnlySpan<string> argv, TextWriter o, TextWriter err)
    {
        var args = new CliArgs("solve", argv,
            ["checkpoint", "puzzle", "puzzles", "maze", "mazes", "text", "texts", "alphabet", "puzzle-name", "views",
             "out",
             "batch",
             "max-steps", "config", "preset", "device", "threads", .. HaltingArgs.Options],
            flags: GemmArgs.ModelFlags);
        var gemm = GemmArgs.Cuda(args, "solve");
        bool list = CheckInputs(args);
        (List<SudokuGrid> Puzzles, List<string>? Answers)? sudokus =
            args.Get("puzzles") is { } puzzlesFile ? SolveMany.ReadSudokus(puzzlesFile) : null;
        (List<Maze> Puzzles, List<string>? Answers)? mazes =
            args.Get("mazes") is { } mazesFile ? SolveMany.ReadMazes(mazesFile) : null;
        HaltingMode mode = HaltingArgs.Mode(args, "solve") ?? HaltingMode.Fixed;
        HaltingArgs.CheckAdaptiveFlags(args, "solve", mode == HaltingMode.Adaptive);
        // A reference run config (all_config.yaml) leaves the task's dimensions to the data: here, the puzzle's.
        Maze? maze = args.Get("maze") is { } mf ? ReadMaze(mf) : null;
        (TextAlphabet? alphabet, TextPuzzle? text, (List<TextPuzzle> Puzzles, List<string>? Answers)? texts,
            TextViews? views) = ReadTexts(args);
        int maxViews = args.GetInt("views", int.MaxValue, min: 1);
        if (args.Has("views") && views is not { ViewCount: > 1 })
        {
            throw new UsageException("solve", "--views: the checkpoint's identifiers.json has no relabelled views " +
                "(hrm data pairs --puzzle-ids --relabel SYMBOLS --num-aug K)");
        }
        TextViews? voting = views is { ViewCount: > 1 } && maxViews > 1 ? views : null;
        var options = new SolverOptions
        {
            Config = ConfigSource.ForCheckpoint(args, args.Require("checkpoint"), err,
                () => TaskOf(maze ?? mazes?.Puzzles[0], sudokus?.Puzzles[0], alphabet, args)),
            MaxSteps = args.GetMaxSteps(0),
            Halting = mode,
            MinSteps = HaltingArgs.MinSteps(args),
            HaltMargin = HaltingArgs.Margin(args, "solve"),
            BatchSlots = list ? args.GetInt("batch", 64, min: 1) : 1,
        };
        IHrmBackend backend = BackendFactory.Create(args.Get("device") ?? "auto", args.GetThreads(), gemm,
            out string notice);
        using HrmSolver solver = HrmSolver.Load(args.Require("checkpoint"), options, backend, notice);
        if (texts is { } ts)
        {
            return SolveMany.RunTexts(solver, args.Get("texts")!, ts, (voting, maxViews), args.Get("out"),
                options.BatchSlots, notice, o, err);
        }
        if (mazes is { } ms)
            return SolveMany.RunMazes(solver, args.Get("mazes")!, ms, args.Get("out"), options.BatchSlots, notice, o, err);
        if (sudokus is { } batch)
            return SolveMany.RunSudokus(solver, args.Get("puzzles")!, batch, args.Get("out"), options.BatchSlots, notice, o, err);
        if (text != null && voting != null)
        {
            TextVote v = solver.Solve([text], voting, maxViews)[0];
            Print(o, v);
            return v.IsValid ? 0 : 3;
        }
        if (text != null)
        {
            TextResult t = solver.Solve(text);
            Print(o, t);
            return t.IsValid ? 0 : 3;
        }
        if (maze != null)
        {
            MazeResult m = solver.Solve(maze);
            Print(o, m);
            return m.IsShortest ? 0 : 3;
        }
        int n = solver.SudokuSize ?? throw new ArgumentException(
            $"the checkpoint is not a Sudoku model (seq_len {solver.Config.SeqLen}, vocab_size {solver.Config.VocabSize}); " +
            "expected n*n cells and n+2 tokens for n in 4, 6, 9");
        SudokuResult s = solver.Solve(SudokuGrid.Parse(args.Require("puzzle"), n));
        Print(o, s);
        return s.IsValid ? 0 : 3;
    }

    /// <summary>The alphabet and the --text or --texts inputs, each with its puzzle identifier (a model trained with
    /// --puzzle-ids: --puzzle-name, or for --texts each row's group), and the groups' views; nulls without
    /// them.</summary>
    private static (TextAlphabet?, TextPuzzle?, (List<TextPuzzle>, List<string>?)?, TextViews?) ReadTexts(
        CliArgs args)
    {
        TextAlphabet? alphabet = args.Has("text") || args.Has("texts") ? (args.Get("alphabet") is { } af
            ? TextAlphabet.Load(af) : TextAlphabet.FindFor(args.Require("checkpoint"))) : null;
        (string[]? names, int named, TextViews? views) = alphabet != null ? PuzzleNamesOf(args) : (null, -1, null);
        if (args.Has("text") && names is { Length: > 1 } && named < 0)
        {
            throw new UsageException("solve", $"the checkpoint's identifiers.json names {names.Length - 1} " +
                $"puzzles (e.g. '{names[1]}'): give --puzzle-name NAME, the group whose embedding to use");
        }
        TextPuzzle? text = args.Get("text") is { } input
            ? TextPuzzle.Parse(input, alphabet!, Math.Max(named, 0))
            : null;
        (List<TextPuzzle> Puzzles, List<string>? Answers)? texts = args.Get("texts") is { } textsFile
            ? SolveMany.ReadTexts(textsFile, alphabet!, named >= 0 || names is not { Length: > 1 } ? null : names,
                Math.Max(named, 0))
            : null;
        return (alphabet, text, texts, views);
    }

    /// <summary>The names in the identifiers.json next to the checkpoint (null: no file), the identifier of
    /// --puzzle-name among them (-1: not given) and the groups' views they describe.</summary>
    private static (string[]? Names, int Id, TextViews? Views) PuzzleNamesOf(CliArgs args)
    {
        string ckpt = args.Require("checkpoint");
        string dir = Directory.Exists(ckpt) ? ckpt : Path.GetDirectoryName(Path.GetFullPath(ckpt))!;
        string[]? names = DatasetIdentifiers.Read(dir);
        TextViews? views = names is null ? null
            : TextViews.FromNames(names, Path.Combine(dir, DatasetLayout.IdentifiersFile));
        if (args.Get("puzzle-name") is not { } name) return (names, -1, views);
        int id = names is null ? -1 : Array.IndexOf(names, name, 1);
        if (id < 1)
        {
            throw new UsageException("solve", names is null
                ? $"--puzzle-name '{name}': no identifiers.json next to the checkpoint ({dir})"
                : $"--puzzle-name '{name}' is not among the {names.Length - 1} puzzles of {dir}/identifiers.json");
        }
        if (views!.GroupOf(id) is null)
        {
            throw new UsageException("solve", $"--puzzle-name '{name}' is a relabelled view of group " +
                $"'{name[..name.IndexOf(TextView.Separator, StringComparison.Ordinal)]}': give the group's name (the " +
                "views are voted over)");
        }
        return (names, id, views);
    }

    /// <summary>Checks that one input is given and the options that go with it; true for a file of them.</summary>
    private static bool CheckInputs(CliArgs args)
    {
        if (((string[])["puzzle", "maze", "puzzles", "mazes", "text", "texts"]).Count(args.Has) != 1)
        {
            throw new UsageException("solve",
                "give one of --puzzle TEXT, --maze FILE, --puzzles FILE, --mazes FILE, --text INPUT or --texts FILE");
        }
        if ((args.Has("alphabet") || args.Has("puzzle-name") || args.Has("views")) && !args.Has("text") &&
            !args.Has("texts"))
        {
            throw new UsageException("solve", "--alphabet, --puzzle-name and --views go with --text or --texts");
        }
        bool list = args.Has("puzzles") || args.Has("mazes") || args.Has("texts");
        if (!list && (args.Has("out") || args.Has("batch")))
            throw new UsageException("solve", "--out and --batch go with --puzzles, --mazes or --texts");
        args.CheckNotInput("out", "puzzles", "mazes", "texts", "checkpoint", "config");
        if (args.Get("out") is { } outFile)
        {
            // Said before anything is solved (the answers are renamed into place at the end).
            if (outFile.Length == 0 || Directory.Exists(outFile) || Path.EndsInDirectorySeparator(outFile))
                throw new UsageException("solve", $"--out '{outFile}' must name a file");
        }
        return list;
    }

    /// <summary>seq_len, vocab_size and num_puzzle_identifiers of the puzzle to solve (a maze: side², the 6 maze
    /// tokens; an n x n Sudoku: n², n + 2; a text: its alphabet's row and vocabulary), for a run config that leaves
    /// them to the data.</summary>
    private static (int, int, int) TaskOf(Maze? maze, SudokuGrid? first, TextAlphabet? alphabet, CliArgs args)
    {
        if (alphabet != null) return (alphabet.SeqLen, alphabet.VocabSize, 1);
        if (maze != null) return (maze.Side * maze.Side, Hrm.Runtime.Puzzles.MazeBoard.VocabSize, 1);
        int side = first?.Size ?? SudokuGrid.Parse(args.Require("puzzle")).Size;
        return (side * side, side + 2, 1);
    }

    /// <summary>Reads a maze file (<see cref="Maze.Parse"/>), naming the file in errors.</summary>
    public static Maze ReadMaze(string path)
    {
        try
        {
            if (Directory.Exists(path)) throw new PuzzleFormatException("is a directory; expected a maze file");
            // A 256 x 256 maze with \r\n line ends is about 66 KB: anything past 1 MiB is not a maze file.
            return Maze.Parse(BoundedFile.ReadAllText(path, "maze file (n lines of n characters)", 1 << 20));
        }
        catch (PuzzleFormatException e)
        {
            throw new PuzzleFormatException($"{path}: {e.Message}", e);
        }
        catch (HrmFormatException e)
        {
            throw new PuzzleFormatException(e.Message, e);
        }
    }

    /// <summary>The puzzle, the answer, effort and validity.</summary>
    public static void Print(TextWriter o, SudokuResult s)
    {
        o.WriteLine("puzzle:");
        o.WriteLine(s.Puzzle);
        o.WriteLine("model's answer:");
        o.WriteLine(s.Answer);
        PrintEffort(o, s);
        o.WriteLine(s.IsValid ? "valid: a complete Sudoku that respects every given" : $"NOT valid: {s.Problem}");
    }

    /// <summary>The input, the answer, effort and whether the answer is well formed.</summary>
    public static void Print(TextWriter o, TextResult s)
    {
        o.WriteLine($"input:  {s.Puzzle.Text}");
        o.WriteLine($"answer: {s.Answer}");
        PrintEffort(o, s);
        o.WriteLine(s.IsValid ? "well formed: symbols up to the end marker" : $"NOT well formed: {s.Problem}");
    }

    /// <summary>The input, the voted answer, its votes, effort and whether it is well formed.</summary>
    public static void Print(TextWriter o, TextVote v)
    {
        o.WriteLine($"input:  {v.Puzzle.Text}");
        o.WriteLine($"answer: {v.Answer}");
        TextCandidate best = v.Candidates[0];
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"votes: {v.Votes} of {v.Views.Count} views ({v.Candidates.Count} distinct answers); halting confidence " +
            $"{best.MeanConfidence:F3} (mean of its views); {v.Segments} segments over all views; " +
            $"{v.Views.Max(r => r.Elapsed.TotalMilliseconds):F0} ms"));
        o.WriteLine(v.IsValid ? "well formed: symbols up to the end marker"
            : $"NOT well formed: no view gave a well-formed answer ({v.Views[0].Problem})");
    }

    /// <summary>The maze with the predicted path, effort, and the path check.</summary>
    public static void Print(TextWriter o, MazeResult s)
    {
        o.WriteLine("maze with the model's path (o):");
        o.WriteLine(s.Answer);
        PrintEffort(o, s);
        string shortest = s.ShortestLength < 0 ? "the goal is unreachable" : $"shortest {s.ShortestLength} moves";
        o.WriteLine(s.IsValid
            ? $"valid path: connected, start to goal, open cells only; {s.PathLength} moves ({shortest}): {(s.IsShortest ? "shortest" : "NOT shortest")}"
            : $"NOT a valid path: {s.Problem} ({shortest})");
        if (s.OtherChanges > 0) o.WriteLine($"note: the model also changed {s.OtherChanges} cells that are not path cells");
    }

    private static void PrintEffort(TextWriter o, SolveResult s) =>
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"segments: {s.Segments} (answer unchanged since segment {s.StableSince}); halting confidence {s.HaltConfidence:F3}; {s.Elapsed.TotalMilliseconds:F0} ms"));
}
