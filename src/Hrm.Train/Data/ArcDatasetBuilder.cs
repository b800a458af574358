using System.Diagnostics;
using System.Globalization;
using Hrm.Runtime.Arc;

namespace Hrm.Train.Data;

/// <summary>
/// Builds an ARC dataset like the reference's <c>build_arc_dataset.py</c> (spec 5.4), streaming to disk.
/// Each task becomes a group of views (<see cref="ArcAugment"/>), each view a puzzle with its own identifier.
/// Split routing: demonstration pairs go to train; test pairs go to test for tasks of an "evaluation" folder and
/// to train otherwise. Train examples are translated (a random offset per pair shared by input and output, one
/// random pair per view kept at (0, 0)); test examples sit at (0, 0). Identifiers are assigned from 1 in order
/// of first appearance, walking the train split's groups and then the test split's, so a test view shares the
/// identifier of the same view's demonstrations. Tasks are processed in parallel windows, each from its own
/// generator (<see cref="DerivedRandom"/>, by task index), and written in order.
/// </summary>
public static class ArcDatasetBuilder
{
    /// <summary>Writes <c>outDir/{train,test}</c> and <c>outDir/identifiers.json</c>.</summary>
    /// <param name="outDir">The dataset directory.</param>
    /// <param name="tasks">Tasks in build order (<see cref="ArcSources.ListTasks"/>).</param>
    /// <param name="options">Augmentation, seed, threads.</param>
    /// <param name="log">Progress and warning lines (may be null).</param>
    /// <returns>Counts.</returns>
    /// <exception cref="ArgumentException">No tasks, or bad options.</exception>
    public static ArcBuildResult Build(string outDir, IReadOnlyList<ArcTask> tasks, ArcBuildOptions options,
        Action<string>? log = null)
    {
        CheckArguments(outDir, tasks, options);
        log ??= _ => { };
        const int L = ArcEncoding.SeqLen, V = ArcEncoding.VocabSize;
        using var train = new DatasetStreamWriter(outDir, "train", L, V, ignoreLabelId: ArcEncoding.Pad);
        using var test = new DatasetStreamWriter(outDir, "test", L, V, ignoreLabelId: ArcEncoding.Pad);
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        var names = new List<string> { DatasetIdentifiers.Blank };
        int Id(string name)
        {
            if (ids.TryGetValue(name, out int id)) return id;
            ids.Add(name, names.Count);
            names.Add(name);
            return names.Count - 1;
        }
        int window = 2 * options.Threads, shortTasks = 0;
        var outputs = new ArcTaskOutput[window];
        var clock = Stopwatch.StartNew();
        double lastReport = 0;
        for (int start = 0; start < tasks.Count; start += window)
        {
            int count = Math.Min(window, tasks.Count - start);
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = options.Threads },
                k => outputs[k] = ArcTaskOutput.Make(tasks[start + k], start + k, options));
            for (int k = 0; k < count; k++)
            {
                ArcTaskOutput t = outputs[k];
                if (t.Names.Length < options.NumAug + 1)
                {
                    if (++shortTasks <= 10)
                    {
                        log($"warning: task {t.TaskId}: only {t.Names.Length} distinct views " +
                            $"(1 + {options.NumAug} wanted)");
                    }
                }
                t.WriteTo(train, test, Id);
                outputs[k] = null!;
            }
            double secs = clock.Elapsed.TotalSeconds;
            int done = start + count;
            if (secs - lastReport >= options.ProgressSeconds || done == tasks.Count)
            {
                lastReport = secs;
                log(string.Create(CultureInfo.InvariantCulture,
                    $"tasks {done}/{tasks.Count}: {train.Examples:N0} train + {test.Examples:N0} test examples, " +
                    $"{secs:F0} s, about {secs / done * (tasks.Count - done):F0} s left"));
            }
        }
        if (shortTasks > 10) log($"warning: {shortTasks} tasks in all have fewer than 1 + {options.NumAug} views");
        DatasetWriter.WriteIdentifiers(outDir, names);
        int trainGroups = train.Groups, testGroups = test.Groups;
        var result = new ArcBuildResult(tasks.Count, trainGroups, train.Puzzles, train.Examples, testGroups,
            test.Puzzles, test.Examples, names.Count, shortTasks);
        train.Complete(names.Count);
        test.Complete(names.Count);
        return result;
    }

    private static void CheckArguments(string outDir, IReadOnlyList<ArcTask> tasks, ArcBuildOptions options)
    {
        ArgumentNullException.ThrowIfNull(outDir);
        ArgumentNullException.ThrowIfNull(tasks);
        ArgumentNullException.ThrowIfNull(options);
        if (tasks.Count == 0) throw new ArgumentException("no ARC tasks to build from", nameof(tasks));
        ArgumentOutOfRangeException.ThrowIfNegative(options.NumAug);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Threads, 1);
    }
}
