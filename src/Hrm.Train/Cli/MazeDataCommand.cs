using System.Diagnostics;
using System.Globalization;
using Hrm.Runtime.Puzzles;
using Hrm.Runtime.Threading;
using Hrm.Train.Data;

namespace Hrm.Train.Cli;

/// <summary><c>hrm data maze</c>: a maze dataset from the reference's CSVs or from our generator.</summary>
internal static class MazeDataCommand
{
    /// <summary>Most mazes --generate and --test make (the reference's maze set: 1,000 train, 1,000 test).</summary>
    public const int MaxMazes = 1_000_000;

    public const string Usage =
        "hrm data maze --from-csv DIR [--aug] --out DIR\n" +
        "       hrm data maze --generate N [--test M] [--size 30] [--min-path-length L] [--max-path-length L]\n" +
        "                     [--loops F] [--aug] [--seed S] [--threads T] --out DIR";

    private static readonly string[] Options =
        ["from-csv", "generate", "test", "size", "min-path-length", "max-path-length", "loops", "seed", "threads", "out"];

    public static int Run(ReadOnlySpan<string> argv, TextWriter o)
    {
        var args = new CliArgs("data", argv, Options, flags: ["aug"]);
        string outDir = args.GetOutDir("out") ?? args.Require("out");
        bool aug = args.Has("aug");
        (IReadOnlyList<MazeRecord> train, IReadOnlyList<MazeRecord> test) = args.Has("from-csv") ? FromCsv(args, o)
            : args.Has("generate") ? Generate(args, o)
            : throw new UsageException("data", "give --generate N or --from-csv DIR");
        var sw = Stopwatch.StartNew();
        MazeDatasetBuilder.Build(outDir, train, test, aug);
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"wrote {outDir}: train {train.Count:N0} mazes x {(aug ? 8 : 1)} views, test {test.Count:N0} ({sw.Elapsed.TotalSeconds:F1} s)"));
        return 0;
    }

    private static (IReadOnlyList<MazeRecord>, IReadOnlyList<MazeRecord>) Generate(CliArgs args, TextWriter o)
    {
        // Bounded so that the mazes, all held in memory while generated, fit a machine's (~2 KB each at 30 x 30).
        int n = args.GetInt("generate", 0, min: 1, max: MaxMazes);
        int nTest = args.GetInt("test", 0, min: 0, max: MaxMazes);
        string loops = args.Get("loops") ?? "0.1";
        if (!double.TryParse(loops, NumberStyles.Float, CultureInfo.InvariantCulture, out double loopFraction))
            throw new UsageException("data", $"--loops expects a number in [0, 1], got '{loops}'");
        ulong seed = args.GetSeed("seed", 0);
        var opts = new MazeGeneratorOptions
        {
            Size = args.GetInt("size", MazeBoard.DefaultSize, min: 3),
            MinPathLength = args.GetInt("min-path-length", 1, min: 1),
            MaxPathLength = args.GetInt("max-path-length", int.MaxValue, min: 1),
            LoopFraction = loopFraction,
            Threads = args.GetInt("threads", Environment.ProcessorCount, min: 1, max: WorkerPool.MaxThreads),
        };
        var sw = Stopwatch.StartNew();
        // Train and test come from disjoint generator streams (different seeds).
        MazeRecord[] train = MazeGenerator.Generate(n, opts with { Seed = seed });
        MazeRecord[] test = nTest > 0 ? MazeGenerator.Generate(nTest, opts with { Seed = seed + 0x7E57_0000_0000UL }) : [];
        double secs = sw.Elapsed.TotalSeconds;
        double mean = train.Concat(test).Average(r => r.Rating);
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"generated {n + nTest:N0} mazes in {secs:F2} s ({(n + nTest) / secs:F0}/s, {opts.Threads} threads); " +
            $"shortest paths {train.Concat(test).Min(r => r.Rating)}..{train.Concat(test).Max(r => r.Rating)} moves, mean {mean:F1}; every label checked"));
        return (train, test);
    }

    private static (IReadOnlyList<MazeRecord>, IReadOnlyList<MazeRecord>) FromCsv(CliArgs args, TextWriter o)
    {
        string dir = args.Require("from-csv");
        List<MazeRecord> train = MazeCsv.Read(Path.Combine(dir, "train.csv"));
        List<MazeRecord> test = File.Exists(Path.Combine(dir, "test.csv")) ? MazeCsv.Read(Path.Combine(dir, "test.csv")) : [];
        int invalid = 0, longer = 0;
        foreach (MazeRecord r in train.Concat(test))
        {
            MazePathCheck c = MazePaths.Check(r.Puzzle, r.Solution);
            if (!c.Valid) invalid++;
            else if (!c.IsShortest) longer++;
        }
        o.WriteLine($"read {dir}: {train.Count:N0} train, {test.Count:N0} test mazes; labels: {invalid} not a start-to-goal path, {longer} longer than shortest");
        return (train, test);
    }
}
