using Hrm.Runtime.Arc;
using Hrm.Runtime.Formats;
using Hrm.Runtime.Numerics;
using Hrm.Train.Data;

namespace Hrm.Train.Tests.Data;

public sealed class ArcDatasetBuilderTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("hrm-arc-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string P(string name) => Path.Combine(_dir.FullName, name);

    private static List<ArcTask> Load(string folder, ulong seed = 1)
    {
        (List<ArcTask> tasks, List<HrmFormatException> errors) = ArcSources.Load(ArcSources.ListTasks([folder], seed));
        Assert.Empty(errors);
        return tasks;
    }

    /// <summary>The grid an example holds: its top-left colour cell is the offset; re-encoding must give the row back.</summary>
    private static (ArcGrid Grid, int Row, int Col) Decode(ReadOnlySpan<int> tokens, ArcGrid expectedShape)
    {
        int first = tokens.IndexOfAnyInRange(2, 11);
        int row = first / 30, col = first % 30;
        byte[] cells = new byte[expectedShape.Rows * expectedShape.Cols];
        for (int r = 0; r < expectedShape.Rows; r++)
        {
            for (int c = 0; c < expectedShape.Cols; c++) cells[r * expectedShape.Cols + c] = (byte)(tokens[(row + r) * 30 + col + c] - 2);
        }
        var grid = new ArcGrid(expectedShape.Rows, expectedShape.Cols, cells);
        byte[] again = new byte[900];
        ArcEncoding.Encode(grid, row, col, again);
        int[] labelForm = [.. tokens.ToArray().Select(t => t == -100 ? 0 : t)];
        Assert.Equal(labelForm, again.Select(b => (int)b));
        return (grid, row, col);
    }

    [Fact]
    public void Builds_the_reference_layout_with_routing_identifiers_translation_and_views()
    {
        ArcTestData.WriteCrafted(P("src"));
        List<ArcTask> tasks = Load(P("src"));
        ArcBuildResult result = ArcDatasetBuilder.Build(P("out"), tasks, new ArcBuildOptions { NumAug = 3, Seed = 5, Threads = 2 });
        string[] names = DatasetIdentifiers.Read(P("out"))!;
        Assert.Equal(13, names.Length);                          // blank + 3 tasks x 4 views
        Assert.Equal(DatasetIdentifiers.Blank, names[0]);
        Assert.Equal(names.Length, names.Distinct().Count());
        Assert.Equal(new ArcBuildResult(3, 3, 12, 4 * (2 + 3 + 2), 1, 4, 8, 13, 0), result);
        using PuzzleDataset train = PuzzleDataset.Open(P("out"), "train");
        using PuzzleDataset test = PuzzleDataset.Open(P("out"), "test");
        Assert.Equal(new DatasetMetadata(0, 0, 0, 12, 900, 13, 3, 28 / 12.0, ["all"]), train.Metadata);
        Assert.Equal(new DatasetMetadata(0, 0, 0, 12, 900, 13, 1, 2.0, ["all"]), test.Metadata);
        Assert.Equal(Enumerable.Range(1, 12), train.PuzzleIdentifiers.ToArray());   // assigned in train order from 1
        Assert.Equal([0, 4, 8, 12], train.GroupIndices.ToArray());
        int[] x = new int[900], y = new int[900];
        bool translated = false;
        for (int p = 0; p < train.PuzzleCount; p++)
        {
            (string taskId, ArcView view) = ArcView.Parse(names[train.PuzzleIdentifiers[p]])!.Value;
            ArcTask task = tasks.Single(t => t.Id == taskId);
            Assert.Equal(p % 4 == 0, ReferenceEquals(view, ArcView.Original));          // originals lead their groups
            ArcPair[] pairs = task.IsEvaluation ? [.. task.Train] : [.. task.AllPairs];  // evaluation tests stay out of train
            Assert.Equal(pairs.Length, train.PuzzleIndices[p + 1] - train.PuzzleIndices[p]);
            int atOrigin = 0;
            for (int k = 0; k < pairs.Length; k++)
            {
                train.ReadExample(train.PuzzleIndices[p] + k, x, y);
                (ArcGrid input, int r, int c) = Decode(x, view.Apply(pairs[k].Input));
                (ArcGrid output, int r2, int c2) = Decode(y, view.Apply(pairs[k].Output));
                Assert.Equal(view.Apply(pairs[k].Input), input);
                Assert.Equal(view.Apply(pairs[k].Output), output);
                Assert.Equal((r, c), (r2, c2));                                        // input and output share the offset
                if ((r, c) == (0, 0)) atOrigin++;
                translated |= (r, c) != (0, 0);
            }
            Assert.True(atOrigin >= 1, "one pair per view keeps offset (0, 0)");
        }
        Assert.True(translated);
        ArcTask e1 = tasks.Single(t => t.IsEvaluation);
        for (int p = 0; p < test.PuzzleCount; p++)
        {
            string name = names[test.PuzzleIdentifiers[p]];
            (string taskId, ArcView view) = ArcView.Parse(name)!.Value;
            Assert.Equal(e1.Id, taskId);
            Assert.Contains(test.PuzzleIdentifiers[p], train.PuzzleIdentifiers.ToArray()); // shares its demonstrations' identifier
            for (int k = 0; k < 2; k++)
            {
                test.ReadExample(test.PuzzleIndices[p] + k, x, y);
                Assert.Equal(view.Apply(e1.Test[k].Input), ArcEncoding.Crop(x));        // test examples sit at (0, 0)
                Assert.Equal(view.Apply(e1.Test[k].Output), ArcEncoding.Crop(y));
                Assert.Equal(e1.Test[k].Input, view.Undo(ArcEncoding.Crop(x)));
            }
        }
    }

    [Fact]
    public void Output_does_not_depend_on_threads_and_views_are_distinct_by_content()
    {
        ArcTestData.WriteCrafted(P("src"));
        List<ArcTask> tasks = Load(P("src"));
        ArcDatasetBuilder.Build(P("a"), tasks, new ArcBuildOptions { NumAug = 6, Seed = 3, Threads = 1 });
        ArcDatasetBuilder.Build(P("b"), tasks, new ArcBuildOptions { NumAug = 6, Seed = 3, Threads = 2 });
        foreach (string f in new[] { "identifiers.json", "train/all__inputs.npy", "train/all__labels.npy", "test/all__inputs.npy",
            "train/all__puzzle_identifiers.npy", "test/dataset.json" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(P("a"), f)), File.ReadAllBytes(Path.Combine(P("b"), f)));
        ArcTask t1 = tasks.Single(t => t.Id == "t1");
        List<ArcView> views = ArcAugment.Views(t1, 40, new HrmRandom(1));
        Assert.Equal(41, views.Count);
        ArcPair[] pairs = [.. t1.AllPairs];
        Assert.Equal(41, views.Select(v => ArcAugment.ContentHash(pairs, v)).Distinct().Count());
        // A task with one colour-0 cell has a single distinct view: the group stays at the original.
        ArcGrid zero = ArcGrid.FromRows([0]);
        var flat = new ArcTask("z", "z.json", false, [new ArcPair(zero, zero)], [new ArcPair(zero, zero)]);
        Assert.Single(ArcAugment.Views(flat, 10, new HrmRandom(1)));
        // Content hashes see shapes and pair multisets, not pair order.
        ArcPair[] swapped = [pairs[1], pairs[0], pairs[2]];
        Assert.Equal(ArcAugment.ContentHash(pairs, ArcView.Original), ArcAugment.ContentHash(swapped, ArcView.Original));
    }

    [Fact]
    public void Real_tasks_build_and_round_trip()
    {
        string? root = ArcTestData.SharedRoot();
        Assert.SkipWhen(root is null, ArcTestData.MissingReason);
        string[] training = [.. Directory.GetFiles(Path.Combine(root!, "ARC-AGI-1", "training"), "*.json").Order(StringComparer.Ordinal).Take(2)];
        string evaluation = Directory.GetFiles(Path.Combine(root!, "ARC-AGI-1", "evaluation"), "*.json").Order(StringComparer.Ordinal).First();
        Directory.CreateDirectory(P("real/training"));
        Directory.CreateDirectory(P("real/evaluation"));
        foreach (string f in training) File.Copy(f, Path.Combine(P("real/training"), Path.GetFileName(f)));
        File.Copy(evaluation, Path.Combine(P("real/evaluation"), Path.GetFileName(evaluation)));
        List<ArcTask> tasks = Load(P("real"));
        ArcBuildResult r = ArcDatasetBuilder.Build(P("out"), tasks, new ArcBuildOptions { NumAug = 2, Seed = 42, Threads = 2 });
        using PuzzleDataset test = PuzzleDataset.Open(P("out"), "test");
        using PuzzleDataset train = PuzzleDataset.Open(P("out"), "train");
        ArcTask e = tasks.Single(t => t.IsEvaluation);
        Assert.Equal(3 * e.Test.Count, test.ExampleCount);
        Assert.Equal(r.TrainExamples, train.ExampleCount);
        Assert.Equal(1 + 3 * 3, train.Metadata.NumPuzzleIdentifiers);
        int[] x = new int[900], y = new int[900];
        test.ReadExample(0, x, y);
        Assert.Equal(e.Test[0].Input, ArcEncoding.Crop(x));
        Assert.Equal(e.Test[0].Output, ArcEncoding.Crop(y));
    }
}
