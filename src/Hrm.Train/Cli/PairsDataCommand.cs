using System.Diagnostics;
using System.Globalization;
using Hrm.Runtime.Numerics;
using Hrm.Runtime.Solver;
using Hrm.Train.Data;

namespace Hrm.Train.Cli;

/// <summary><c>hrm data pairs</c>: a dataset of a task of your own, from CSV files of input,output texts
/// (<see cref="TextPairsCsv"/>, <see cref="TextPairsBuilder"/>).</summary>
internal static class PairsDataCommand
{
    public const string Usage =
        "hrm data pairs --train FILE [--test FILE | --holdout N] [--alphabet SYMBOLS] [--seq-len N]\n" +
        "               [--relabel SYMBOLS --num-aug K] [--puzzle-ids] [--seed S] --out DIR\n" +
        "  FILE: one example a line, input,output or input,output,group (CSV quoting; consecutive rows of one\n" +
        "  group name are one group: a puzzle and the variants you made of it); every character is a position and\n" +
        "  a token.\n" +
        "  --relabel: K more views of every train group, each one random permutation of those symbols.\n" +
        "  --puzzle-ids: every group its own puzzle identifier, named by its group (hrm solve --puzzle-name NAME);\n" +
        "  with --relabel each view too (GROUP|FROM>TO), and hrm solve votes over a group's views";

    private static readonly string[] Options =
        ["train", "test", "holdout", "seed", "alphabet", "seq-len", "relabel", "num-aug", "out"];

    public static int Run(ReadOnlySpan<string> argv, TextWriter o)
    {
        var args = new CliArgs("data", argv, Options, flags: ["puzzle-ids"]);
        string outDir = args.GetOutDir("out") ?? args.Require("out");
        args.CheckNotInput("out", "train", "test");
        if (args.Has("test") && args.Has("holdout"))
            throw new UsageException("data", "give --test FILE or --holdout N, not both");
        if (args.Has("seed") && !args.Has("holdout") && !args.Has("relabel"))
            throw new UsageException("data", "--seed goes with --holdout or --relabel");
        if (args.Has("relabel") != args.Has("num-aug"))
            throw new UsageException("data", "--relabel SYMBOLS and --num-aug K go together");
        TextRelabel? relabel = args.Get("relabel") is { } permuted
            ? new TextRelabel(permuted, args.GetInt("num-aug", 0, min: 1, max: DataCommand.MaxAugmentations),
                args.GetSeed("seed", 0) ^ 0x5EED_DA7AUL)
            : null;
        string trainPath = args.Require("train");
        var train = new TextPairsSource(trainPath, TextPairsCsv.Read(trainPath));
        var test = new TextPairsSource(args.Get("test") ?? trainPath, []);
        if (args.Get("test") is { } testPath) test = new TextPairsSource(testPath, TextPairsCsv.Read(testPath));
        if (args.Has("holdout"))
        {
            int n = args.GetInt("holdout", 0, min: 0);
            (train, test) = TextPairsBuilder.HoldOut(train, n, new HrmRandom(args.GetSeed("seed", 0)));
        }
        if (args.Get("alphabet") is "") throw new UsageException("data", "--alphabet is empty; give the symbols");
        int? seqLen = args.Has("seq-len") ? args.GetInt("seq-len", 0, min: 1, max: TextAlphabet.MaxSeqLen) : null;
        var sw = Stopwatch.StartNew();
        TextAlphabet a = TextPairsBuilder.Build(outDir, train, test, args.Get("alphabet"), seqLen, relabel,
            args.Has("puzzle-ids"));
        string views = relabel is null ? "" : $" x {relabel.Views + 1} views (relabelled \"{relabel.Symbols}\")";
        int groups = TextPairsBuilder.Groups(train).Count;
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"wrote {outDir}: train {train.Pairs.Count:N0} examples in {groups:N0} groups{views}, " +
            $"test {test.Pairs.Count:N0}; seq_len {a.SeqLen}, vocab_size {a.VocabSize} ({a.Symbols.Length} symbols " +
            $"\"{TextAlphabet.Printable(a.Symbols)}\" from token {TextAlphabet.FirstSymbolToken}, 0 pad, 1 end); " +
            $"{TextAlphabet.FileName} for hrm solve --text ({sw.Elapsed.TotalSeconds:F1} s)"));
        return 0;
    }
}
