using System.Globalization;
using Hrm.Runtime.Backends;
using Hrm.Runtime.Config;
using Hrm.Runtime.Model;
using Hrm.Train.Data;

namespace Hrm.Train.Cli;

/// <summary><c>hrm solve</c>: one Sudoku through a trained checkpoint, printed as grids and checked.</summary>
internal static class SolveCommand
{
    public const string Usage =
        "hrm solve --checkpoint FILE --puzzle \"<n*n chars, . or 0 for blanks>\" [--max-steps N] [--config FILE] [--device ...]";

    public static int Run(ReadOnlySpan<string> argv, TextWriter o, TextWriter err)
    {
        var args = new CliArgs("solve", argv, ["checkpoint", "puzzle", "max-steps", "config", "device", "threads"]);
        HrmConfig? cfgOverride = args.Get("config") is { } cf ? ConfigSource.FromFile(cf, err) : null;
        IHrmBackend backend = BackendFactory.Create(args.Get("device") ?? "auto", args.GetInt("threads", 0, min: 0), out _);
        using HrmModel model = HrmCheckpoint.Load(args.Require("checkpoint"), backend, cfgOverride);
        int maxSteps = args.GetInt("max-steps", model.Config.HaltMaxSteps, min: 1);
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
        model.Reserve(1, training: false);
        var state = new ActState(1, a.SeqLen);
        var logits = new float[a.SeqLen * a.VocabSize];
        var digits = new byte[a.SeqLen];
        var previous = new byte[a.SeqLen];
        int stableSince = 1;
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        for (int step = 1; step <= maxSteps; step++)
        {
            model.ActStep(state, tokens, [0], default, training: false, maxSteps: maxSteps);
            model.ReadLogits(logits);
            for (int i = 0; i < a.SeqLen; i++)
            {
                int tok = PredictCommand.ArgMax(logits.AsSpan(i * a.VocabSize, a.VocabSize));
                digits[i] = (byte)Math.Max(0, tok - SudokuBoard.BlankToken);
            }
            if (!digits.AsSpan().SequenceEqual(previous)) stableSince = step;
            digits.CopyTo(previous, 0);
        }
        double ms = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        bool complete = !digits.Contains((byte)0);
        bool valid = complete && SudokuBoard.IsValidSolution(digits, givens);
        double confidence = 1 / (1 + Math.Exp(-state.QHalt[0]));
        return new SudokuSolution(n, givens, digits, maxSteps, stableSince, confidence, valid, ms);
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
