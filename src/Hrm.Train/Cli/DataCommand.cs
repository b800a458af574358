using System.Diagnostics;
using System.Globalization;
using Hrm.Runtime.Numerics;
using Hrm.Runtime.Puzzles;
using Hrm.Runtime.Threading;
using Hrm.Train.Data;

namespace Hrm.Train.Cli;

/// <summary>
/// <c>hrm data sudoku|maze|arc|pairs</c>: builds a dataset. Sudoku (here): the reference's CSVs or our generator;
/// maze: <see cref="MazeDataCommand"/>; ARC: <see cref="ArcDataCommand"/>; a task of your own:
/// <see cref="PairsDataCommand"/>.
/// </summary>
internal static class DataCommand
{
    /// <summary>Most augmented copies a Sudoku gets (--num-aug; the reference uses 1,000).</summary>
    public const int MaxAugmentations = 100_000;

    /// <summary>Most augmented views an ARC task gets (--num-aug; the reference uses 1,000): a view of a task with many
    /// pairs is up to ~100 KB, and several tasks are built at once.</summary>
    public const int MaxArcAugmentations = 10_000;

    /// <summary>Most Sudokus --generate and --test make (the reference's Sudoku-Extreme train split: 3.8M).</summary>
    public const int MaxSudokus = 10_000_000;

    public const string Usage =
        "hrm data sudoku --generate N [--test N] [--size 4|6|9] [--min-givens G] [--max-givens G]\n" +
        "                [--min-rating R] [--max-rating R] [--num-aug K] [--seed S] [--threads T] --out DIR\n" +
        "       hrm data sudoku --from-csv DIR [--min-difficulty R] [--subsample-size N] [--num-aug K] [--seed S] --out DIR\n" +
        "       " + MazeDataCommand.Usage + "\n" +
        "       " + ArcDataCommand.Usage + "\n" +
        "       " + PairsDataCommand.Usage;

    private static readonly string[] Options =
    [
        "generate", "test", "size", "min-givens", "max-givens", "min-rating", "max-rating", "num-aug", "seed", "threads",
        "out", "from-csv", "min-difficulty", "subsample-size",
    ];

    public static int Run(ReadOnlySpan<string> argv, TextWriter o, TextWriter err)
    {
        string kind = argv.Length > 0 ? argv[0] : "";
        if (kind == "maze") return MazeDataCommand.Run(argv[1..], o);
        if (kind == "arc") return ArcDataCommand.Run(argv[1..], o, err);
        if (kind == "pairs") return PairsDataCommand.Run(argv[1..], o);
        if (kind != "sudoku") throw new UsageException("data", "expected a dataset kind: sudoku, maze, arc or pairs");
        var args = new CliArgs("data", argv[1..], Options);
        string outDir = args.GetOutDir("out") ?? args.Require("out");
        ulong seed = args.GetSeed("seed", 0);
        int numAug = args.GetInt("num-aug", 0, min: 0, max: MaxAugmentations);
        (IReadOnlyList<SudokuRecord> train, IReadOnlyList<SudokuRecord> test) = args.Has("from-csv")
            ? FromCsv(args, seed, o)
            : (args.Has("generate") ? Generate(args, seed, o) : throw new UsageException("data", "give --generate N or --from-csv DIR"));
        var sw = Stopwatch.StartNew();
        SudokuDatasetBuilder.Build(outDir, train, test, numAug, new HrmRandom(seed ^ 0x5EED_DA7AUL));
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"wrote {outDir}: train {train.Count:N0} puzzles x {numAug + 1} views, test {test.Count:N0} ({sw.Elapsed.TotalSeconds:F1} s)"));
        return 0;
    }

    private static (IReadOnlyList<SudokuRecord>, IReadOnlyList<SudokuRecord>) Generate(CliArgs args, ulong seed, TextWriter o)
    {
        // Bounded so that the puzzles, all held in memory while generated, fit a machine's (~300 bytes each).
        int n = args.GetInt("generate", 0, min: 1, max: MaxSudokus);
        int nTest = args.GetInt("test", 0, min: 0, max: MaxSudokus);
        var opts = new SudokuGeneratorOptions
        {
            Size = args.GetInt("size", 9, min: 4),
            MinGivens = args.GetInt("min-givens", 0, min: 0),
            MaxGivens = args.GetInt("max-givens", int.MaxValue, min: 0),
            MinRating = args.GetInt("min-rating", 0, min: 0),
            MaxRating = args.GetInt("max-rating", int.MaxValue, min: 0),
            Threads = args.GetInt("threads", Environment.ProcessorCount, min: 1, max: WorkerPool.MaxThreads),
        };
        var sw = Stopwatch.StartNew();
        // Train and test come from disjoint generator streams (different seeds), so no puzzle is shared by design.
        SudokuRecord[] all = SudokuGenerator.Generate(n, opts with { Seed = seed });
        SudokuRecord[] test = nTest > 0 ? SudokuGenerator.Generate(nTest, opts with { Seed = seed + 0x7E57_0000_0000UL }) : [];
        double secs = sw.Elapsed.TotalSeconds;
        double givens = all.Average(r => SudokuBoard.CountGivens(r.Puzzle)), rating = all.Average(r => r.Rating);
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"generated {n + nTest:N0} puzzles in {secs:F1} s ({(n + nTest) / secs:F0}/s, {opts.Threads} threads); mean givens {givens:F1}, mean rating {rating:F1}"));
        return (all, test);
    }

    private static (IReadOnlyList<SudokuRecord>, IReadOnlyList<SudokuRecord>) FromCsv(CliArgs args, ulong seed, TextWriter o)
    {
        string dir = args.Require("from-csv");
        List<SudokuRecord> train = SudokuCsv.Read(Path.Combine(dir, "train.csv"));
        List<SudokuRecord> test = File.Exists(Path.Combine(dir, "test.csv")) ? SudokuCsv.Read(Path.Combine(dir, "test.csv")) : [];
        if (args.Has("min-difficulty"))
        {
            int min = args.GetInt("min-difficulty", 0);
            train = SudokuRecords.FilterMinRating(train, min);
            test = SudokuRecords.FilterMinRating(test, min);
        }
        if (args.Has("subsample-size"))
            train = SudokuRecords.Subsample(train, args.GetInt("subsample-size", 0, min: 1), new HrmRandom(seed));
        o.WriteLine($"read {dir}: {train.Count:N0} train, {test.Count:N0} test puzzles");
        return (train, test);
    }
}
