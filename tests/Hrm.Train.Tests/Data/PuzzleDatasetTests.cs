using Hrm.Runtime.Formats;
using Hrm.Train.Data;
using static Hrm.Train.Tests.Data.DatasetFixture;

namespace Hrm.Train.Tests.Data;

public sealed class PuzzleDatasetTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("hrm-data-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string Root => _dir.FullName;

    private static (int[] Inputs, int[] Labels) Example(PuzzleDataset ds, int i)
    {
        int[] x = new int[ds.SeqLen], y = new int[ds.SeqLen];
        ds.ReadExample(i, x, y);
        return (x, y);
    }

    [Fact]
    public void Write_then_open_reads_identical_examples_and_metadata()
    {
        Write(Root);
        using PuzzleDataset ds = PuzzleDataset.Open(Root, "train");
        Assert.Equal(Meta, ds.Metadata);
        Assert.Equal(5, ds.ExampleCount);
        Assert.Equal(3, ds.PuzzleCount);
        Assert.Equal(2, ds.GroupCount);
        Assert.Equal(SeqLen, ds.SeqLen);
        Assert.False(ds.InputsAreInt32);
        Assert.Equal(PuzzleIdentifiers, ds.PuzzleIdentifiers.ToArray());
        Assert.Equal(PuzzleIndices, ds.PuzzleIndices.ToArray());
        Assert.Equal(GroupIndices, ds.GroupIndices.ToArray());
        for (int i = 0; i < 5; i++)
        {
            (int[] x, int[] y) = Example(ds, i);
            Assert.Equal(Inputs.Skip(i * SeqLen).Take(SeqLen).Select(b => (int)b), x);
            // ignore_label_id 0 becomes -100.
            Assert.Equal(Labels.Skip(i * SeqLen).Take(SeqLen).Select(b => b == 0 ? -100 : b), y);
        }
        Assert.Equal("|u1", Npy.ReadHeader(File(Root, "inputs")).Descr);
        Assert.Equal([5L, SeqLen], Npy.ReadHeader(File(Root, "labels")).Shape);
        Assert.Equal("<i4", Npy.ReadHeader(File(Root, "puzzle_indices")).Descr);
    }

    [Fact]
    public void Null_ignore_label_keeps_labels_and_round_trips_as_json_null()
    {
        Write(Root, meta: Meta with { IgnoreLabelId = null });
        Assert.Contains("\"ignore_label_id\": null", System.IO.File.ReadAllText(Path.Combine(Root, "train", "dataset.json")),
            StringComparison.Ordinal);
        using PuzzleDataset ds = PuzzleDataset.Open(Root, "train");
        Assert.Null(ds.Metadata.IgnoreLabelId);
        Assert.Equal([2, 0, 3, 4], Example(ds, 0).Labels);
    }

    [Fact]
    public void Int32_inputs_and_labels_are_mapped_too()
    {
        Write(Root);
        WriteInt32(Root, "inputs", [.. Inputs.Select(b => (int)b)], 5, SeqLen);
        int[] labels = [.. Labels.Select(b => (int)b)];
        labels[5] = -7; // equal to ignore_label_id below: allowed although outside [0, vocab)
        WriteInt32(Root, "labels", labels, 5, SeqLen);
        DatasetWriter.WriteText(Path.Combine(Root, "train", "dataset.json"), (Meta with { IgnoreLabelId = -7 }).ToJson());
        using PuzzleDataset ds = PuzzleDataset.Open(Root, "train");
        Assert.True(ds.InputsAreInt32);
        for (int i = 0; i < 5; i++)
        {
            (int[] x, int[] y) = Example(ds, i);
            Assert.Equal(Inputs.Skip(i * SeqLen).Take(SeqLen).Select(b => (int)b), x);
            Assert.Equal(labels.Skip(i * SeqLen).Take(SeqLen).Select(v => v == -7 ? -100 : v), y);
        }
    }

    [Fact]
    public void ReadExample_checks_bounds_and_lengths()
    {
        Write(Root);
        PuzzleDataset ds = PuzzleDataset.Open(Root, "train");
        int[] x = new int[SeqLen], y = new int[SeqLen];
        Assert.Throws<ArgumentOutOfRangeException>(() => ds.ReadExample(5, x, y));
        Assert.Throws<ArgumentOutOfRangeException>(() => ds.ReadExample(-1, x, y));
        Assert.Throws<ArgumentException>(() => ds.ReadExample(0, new int[3], y));
        ds.Dispose();
        ds.Dispose();
        Assert.Throws<ObjectDisposedException>(() => ds.ReadExample(0, x, y));
    }

    [Fact]
    public void Empty_split_opens()
    {
        DatasetWriter.Write(Root, "test", Meta with { TotalGroups = 0 }, "all", [], [], [], [0], [0]);
        using PuzzleDataset ds = PuzzleDataset.Open(Root, "test");
        Assert.Equal(0, ds.ExampleCount);
        Assert.Equal(0, ds.PuzzleCount);
        Assert.Equal(0, ds.GroupCount);
    }

    [Fact]
    public void Metadata_reads_the_reference_json_and_ignores_unknown_keys()
    {
        const string Reference = """{"pad_id": 0, "ignore_label_id": 0, "blank_identifier_id": 0, "vocab_size": 11, "seq_len": 81, "num_puzzle_identifiers": 1, "total_groups": 1000, "mean_puzzle_examples": 1.0, "sets": ["all"], "future_key": {"x": 1}}""";
        DatasetMetadata m = DatasetMetadata.Parse(Reference);
        Assert.Equal(new DatasetMetadata(0, 0, 0, 11, 81, 1, 1000, 1.0, ["all"]), m);
        Assert.Equal(m, DatasetMetadata.Parse(m.ToJson()));
        Assert.Contains("\"mean_puzzle_examples\": 1.0", m.ToJson(), StringComparison.Ordinal);
        DatasetMetadata odd = m with { MeanPuzzleExamples = 3.4415, IgnoreLabelId = null, Sets = ["all", "extra"] };
        Assert.Equal(odd, DatasetMetadata.Parse(odd.ToJson()));
        Assert.NotEqual(m, m with { Sets = ["other"] });
    }

    [Fact]
    public void Identifiers_round_trip_and_are_optional()
    {
        Assert.Null(DatasetIdentifiers.Read(Root));
        DatasetWriter.WriteIdentifiers(Root, ["<blank>", "task_a", "task_b"]);
        Assert.Equal(["<blank>", "task_a", "task_b"], DatasetIdentifiers.Read(Root)!);
        Assert.Throws<ArgumentException>(() => DatasetWriter.WriteIdentifiers(Root, ["task_a"]));
        System.IO.File.WriteAllText(Path.Combine(Root, "identifiers.json"), """["<blank>", 3]""");
        var e = Assert.Throws<HrmFormatException>(() => DatasetIdentifiers.Read(Root));
        Assert.Equal("identifiers[1]", e.Field);
        System.IO.File.WriteAllText(Path.Combine(Root, "identifiers.json"), "{");
        Assert.Contains("identifiers.json", Assert.Throws<HrmFormatException>(() => DatasetIdentifiers.Read(Root)).Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public void Writer_refuses_what_the_reader_would_reject()
    {
        Assert.Throws<ArgumentException>(() => DatasetWriter.Write(Root, "train", Meta, "all", Inputs, Labels,
            PuzzleIdentifiers, [0, 2, 3, 4], GroupIndices));
        Assert.Throws<ArgumentException>(() => DatasetWriter.Write(Root, "train", Meta, "all", Inputs, Labels,
            [1, 3, 1], PuzzleIndices, GroupIndices));
        Assert.Throws<ArgumentException>(() => DatasetWriter.Write(Root, "train", Meta, "all", Inputs.AsSpan(1),
            Labels.AsSpan(1), PuzzleIdentifiers, PuzzleIndices, GroupIndices));
        byte[] big = (byte[])Inputs.Clone();
        big[7] = 6;
        Assert.Contains("example 1, position 3", Assert.Throws<ArgumentException>(() => DatasetWriter.Write(Root, "train",
            Meta, "all", big, Labels, PuzzleIdentifiers, PuzzleIndices, GroupIndices)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => DatasetWriter.Write(Root, "train", Meta, "other", Inputs, Labels,
            PuzzleIdentifiers, PuzzleIndices, GroupIndices));
        Assert.False(Directory.Exists(Path.Combine(Root, "train")));
    }
}
