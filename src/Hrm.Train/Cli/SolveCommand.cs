using System.Globalization;
using Hrm.Runtime.Backends;
using Hrm.Runtime.Config;
using Hrm.Runtime.Model;
using Hrm.Runtime.Puzzles;
using Hrm.Train.Data;

namespace Hrm.Train.Cli;

/// <summary><c>hrm solve</c>: one Sudoku (or, with --maze, one maze) through a trained checkpoint, printed and checked.</summary>
internal static class SolveCommand
{
    public const string Usage =
        "hrm solve --checkpoint FILE (--puzzle \"<n*n chars, . or 0 for blanks>\" | --maze FILE) [--max-steps N]\n" +
        "          [--config FILE] [--device ...]";

    public static int Run(ReadOnlySpan<string> argv, TextWriter o, TextWriter err)
    {
        var args = new CliArgs("solve", argv, ["checkpoint", "puzzle", "maze", "max-steps", "config", "device", "threads"]);
        if (args.Has("puzzle") == args.Has("maze")) throw new UsageException("solve", "give --puzzle TEXT or --maze FILE");
        HrmConfig? cfgOverride = args.Get("config") is { } cf ? ConfigSource.FromFile(cf, err) : null;
        IHrmBackend backend = BackendFactory.Create(args.Get("device") ?? "auto", args.GetInt("threads", 0, min: 0), out _);
        using HrmModel model = HrmCheckpoint.Load(args.Require("checkpoint"), backend, cfgOverride);
        int maxSteps = args.GetInt("max-steps", model.Config.HaltMaxSteps, min: 1);
        if (args.Get("maze") is { } mazeFile)
        {
            MazeSolution m = MazeSolver.Solve(model, MazeSolver.ReadFile(mazeFile), maxSteps);
            MazeSolver.Print(o, m);
            return m.Check.IsShortest ? 0 : 3;
        }
        SudokuSolution s = Solve(model, args.Require("puzzle"), maxSteps);
        Print(o, s);
        return s.Valid ? 0 : 3;
    }

    /// <summary>Runs evaluation-mode ACT on one puzzle, one segment at a time, and checks the answer.</summary>
    public static SudokuSolution Solve(HrmModel model, string text, int maxSteps)
    {
        HrmConfig a = model.Config;
        int n = (int)Math.Round(Math.Sqrt(a.SeqLen));
        if (n * n != a.SeqLen || n is not (4 or 6 or 9) || a.VocabSize != n + 2)
            throw new ArgumentException($"the checkpoint is not a Sudoku model (seq_len {a.SeqLen}, vocab_size {a.VocabSize}); expected n*n cells and n+2 tokens for n in 4, 6, 9");
        byte[] givens = SudokuText.Parse(text, n);
        int[] tokens = givens.Select(d => (int)d + SudokuBoard.BlankToken).ToArray();
        ActRun run = ActRunner.Run(model, tokens, maxSteps);
        var digits = new byte[a.SeqLen];
        for (int i = 0; i < a.SeqLen; i++) digits[i] = (byte)Math.Max(0, run.Predicted[i] - SudokuBoard.BlankToken);
        bool complete = !digits.Contains((byte)0);
        bool valid = complete && SudokuBoard.IsValidSolution(digits, givens);
        return new SudokuSolution(n, givens, digits, maxSteps, run.StableSince, run.Confidence, valid, run.Milliseconds);
    }

    public static void Print(TextWriter o, SudokuSolution s)
    {
        o.WriteLine("puzzle:");
        o.WriteLine(SudokuText.Format(s.Givens, s.N));
        o.WriteLine("model's answer:");
        o.WriteLine(SudokuText.Format(s.Answer, s.N));
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"segments: {s.Segments} (answer unchanged since segment {s.StableSince}); halting confidence {s.Confidence:F3}; {s.Milliseconds:F0} ms"));
        o.WriteLine(s.Valid ? "valid: a complete Sudoku that respects every given" : "NOT valid: the answer breaks a Sudoku rule or a given");
    }
}

/// <summary>The outcome of <see cref="SolveCommand.Solve"/>.</summary>
internal sealed record SudokuSolution(int N, byte[] Givens, byte[] Answer, int Segments, int StableSince, double Confidence,
    bool Valid, double Milliseconds);
