using System.Diagnostics;
using System.Globalization;
using Hrm.Runtime.Arc;
using Hrm.Runtime.Formats;
using Hrm.Runtime.Threading;
using Hrm.Train.Data;

namespace Hrm.Train.Cli;

/// <summary><c>hrm data arc</c>: an ARC dataset from task JSON folders (spec 5.4), streamed to disk.</summary>
internal static class ArcDataCommand
{
    public const string Usage =
        "hrm data arc [--preset arc-1|arc-2] [--source DIR ...] [--num-aug 1000] [--seed 42] [--threads T] [--skip-bad]\n" +
        "             [--out DIR]   (DIR: a root like shared/data/arc, or a folder of training/ evaluation/ ... subfolders)";

    /// <summary>Roots tried when no --source is given (relative to the working directory).</summary>
    private static readonly string[] DefaultRoots = ["data/arc", "../shared/data/arc"];

    public static int Run(ReadOnlySpan<string> argv, TextWriter o, TextWriter err)
    {
        var args = new CliArgs("data", argv, ["preset", "num-aug", "seed", "threads", "out"], flags: ["skip-bad"],
            repeatable: ["source"]);
        string? preset = args.Get("preset");
        if (preset is not null && !ArcSources.Presets.Contains(preset))
            throw new UsageException("data", $"--preset: unknown '{preset}'; known: {string.Join(", ", ArcSources.Presets)}");
        IReadOnlyList<string> sources = args.GetAll("source");
        if (sources.Count == 0)
        {
            if (preset is null) throw new UsageException("data", "give --preset arc-1|arc-2 and/or --source DIR");
            string root = DefaultRoots.FirstOrDefault(Directory.Exists)
                ?? throw new UsageException("data", $"no --source given and none of {string.Join(", ", DefaultRoots)} exists");
            sources = [root];
        }
        int numAug = args.GetInt("num-aug", 1000, min: 0, max: DataCommand.MaxArcAugmentations);
        string outDir = args.GetOutDir("out") ?? preset switch
        {
            "arc-1" => $"data/arc-aug-{numAug}",
            "arc-2" => $"data/arc-2-aug-{numAug}",
            _ => throw new UsageException("data", "--out is required without --preset"),
        };
        var options = new ArcBuildOptions
        {
            NumAug = numAug,
            Seed = args.GetSeed("seed", 42),
            Threads = args.GetInt("threads", Environment.ProcessorCount, min: 1, max: WorkerPool.MaxThreads),
        };
        var clock = Stopwatch.StartNew();
        List<string> folders = ArcSources.DatasetFolders(preset, sources);
        List<ArcTaskFile> files = ArcSources.ListTasks(folders, options.Seed);
        (List<ArcTask> tasks, List<HrmFormatException> errors) = ArcSources.Load(files);
        foreach (HrmFormatException e in errors) err.WriteLine($"hrm: {(args.Has("skip-bad") ? "skipping" : "error")}: {e.Message}");
        if (errors.Count > 0 && !args.Has("skip-bad"))
        {
            err.WriteLine($"hrm: {errors.Count} malformed task file(s); fix them or pass --skip-bad to build without them");
            return 1;
        }
        o.WriteLine($"read {tasks.Count:N0} tasks ({tasks.Count(t => t.IsEvaluation):N0} evaluation) from {string.Join(", ", folders)}" +
            (errors.Count > 0 ? $"; skipped {errors.Count} malformed" : ""));
        ArcBuildResult r = ArcDatasetBuilder.Build(outDir, tasks, options, line => o.WriteLine(line));
        double secs = clock.Elapsed.TotalSeconds;
        using var self = Process.GetCurrentProcess();
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"wrote {outDir}: train {r.TrainGroups:N0} groups, {r.TrainPuzzles:N0} puzzles, {r.TrainExamples:N0} examples; " +
            $"test {r.TestGroups:N0} groups, {r.TestPuzzles:N0} puzzles, {r.TestExamples:N0} examples; " +
            $"{r.Identifiers:N0} identifiers; {secs:F1} s, peak RSS {self.PeakWorkingSet64 / (1024.0 * 1024):F0} MiB"));
        return 0;
    }
}
