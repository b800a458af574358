using Hrm.Runtime.Formats;
using Hrm.Train.Data;
using static Hrm.Train.Tests.Data.DatasetFixture;

namespace Hrm.Train.Tests.Data;

/// <summary>Every broken invariant makes <see cref="PuzzleDataset.Open"/> throw naming the file and field.</summary>
public sealed class PuzzleDatasetValidationTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("hrm-bad-");

    public PuzzleDatasetValidationTests() => Write(Root);

    public void Dispose() => _dir.Delete(recursive: true);

    private string Root => _dir.FullName;

    private string MetaPath => Path.Combine(Root, "train", "dataset.json");

    private HrmFormatException Fails(string expectedFile, params string[] fragments)
    {
        var e = Assert.Throws<HrmFormatException>(() => PuzzleDataset.Open(Root, "train").Dispose());
        Assert.EndsWith(expectedFile, e.Path, StringComparison.Ordinal);
        foreach (string f in fragments) Assert.Contains(f, e.Message, StringComparison.Ordinal);
        return e;
    }

    [Theory]
    [InlineData(new[] { 1, 2, 3, 5 }, "starts at 1")]
    [InlineData(new[] { 0, 3, 2, 5 }, "decreases at entry 2")]
    [InlineData(new[] { 0, 2, 3, 4 }, "ends at 4; expected 5")]
    [InlineData(new[] { 0, 2, 5 }, "has 3 entries; expected 4")]
    public void Bad_puzzle_indices(int[] indices, string problem)
    {
        WriteInt32(Root, "puzzle_indices", indices, indices.Length);
        Fails("all__puzzle_indices.npy", problem);
    }

    [Theory]
    [InlineData(new[] { 0, 2 }, "ends at 2; expected 3")]
    [InlineData(new[] { 1, 3 }, "starts at 1")]
    [InlineData(new[] { 0, 2, 1, 3 }, "decreases")]
    [InlineData(new int[0], "is empty")]
    public void Bad_group_indices(int[] indices, string problem)
    {
        WriteInt32(Root, "group_indices", indices, indices.Length);
        Fails("all__group_indices.npy", problem);
    }

    [Theory]
    [InlineData(new[] { 1, 3, 1 }, "entry 1 is 3")]
    [InlineData(new[] { 1, 2, -1 }, "entry 2 is -1")]
    public void Out_of_range_identifiers(int[] ids, string problem)
    {
        WriteInt32(Root, "puzzle_identifiers", ids, ids.Length);
        Fails("all__puzzle_identifiers.npy", problem, "num_puzzle_identifiers=3");
    }

    [Fact]
    public void Wrong_shapes()
    {
        Npy.WriteUInt8(File(Root, "inputs"), Inputs, [4, 5]);
        Fails("all__inputs.npy", "shape", "(4, 5)", "seq_len = 4");
        Npy.WriteUInt8(File(Root, "inputs"), Inputs, [20]);
        Fails("all__inputs.npy", "(20,)");
        Write(Root);
        Npy.WriteUInt8(File(Root, "labels"), Labels.AsSpan(0, 16), [4, 4]);
        Fails("all__labels.npy", "has 4 rows", "5");
        Write(Root);
        WriteInt32(Root, "group_indices", [0, 2, 3, 3], 2, 2);
        Fails("all__group_indices.npy", "1-D");
        Write(Root);
        Npy.WriteFloat32(File(Root, "inputs"), new float[20], [5, 4]);
        Fails("all__inputs.npy", "'<f4'", "uint8");
    }

    [Fact]
    public void Tokens_at_or_above_vocab()
    {
        byte[] bad = (byte[])Inputs.Clone();
        bad[9] = 6;
        Npy.WriteUInt8(File(Root, "inputs"), bad, [5, 4]);
        Fails("all__inputs.npy", "value 6 at example 2, position 1", "vocab_size=6");
        Write(Root);
        byte[] badLabels = (byte[])Labels.Clone();
        badLabels[19] = 200;
        Npy.WriteUInt8(File(Root, "labels"), badLabels, [5, 4]);
        Fails("all__labels.npy", "value 200 at example 4, position 3");
        Write(Root);
        int[] wide = [.. Inputs.Select(b => (int)b)];
        wide[0] = -1;
        WriteInt32(Root, "inputs", wide, 5, 4);
        Fails("all__inputs.npy", "value -1 at example 0, position 0");
    }

    [Theory]
    [InlineData("{", "json", "not valid JSON")]
    [InlineData("[1]", "json", "expected an object")]
    [InlineData("""{"pad_id": 0, "ignore_label_id": 0, "blank_identifier_id": 0, "seq_len": 4, "num_puzzle_identifiers": 3, "total_groups": 2, "mean_puzzle_examples": 1, "sets": ["all"]}""", "vocab_size", "is missing")]
    [InlineData("""{"pad_id": 0, "ignore_label_id": 0, "blank_identifier_id": 0, "vocab_size": 6, "seq_len": "4", "num_puzzle_identifiers": 3, "total_groups": 2, "mean_puzzle_examples": 1, "sets": ["all"]}""", "seq_len", "expected an integer, found the string \"4\"")]
    [InlineData("""{"pad_id": 0, "ignore_label_id": 0, "blank_identifier_id": 0, "vocab_size": 6.5, "seq_len": 4, "num_puzzle_identifiers": 3, "total_groups": 2, "mean_puzzle_examples": 1, "sets": ["all"]}""", "vocab_size", "expected an integer")]
    [InlineData("""{"pad_id": 0, "ignore_label_id": "x", "blank_identifier_id": 0, "vocab_size": 6, "seq_len": 4, "num_puzzle_identifiers": 3, "total_groups": 2, "mean_puzzle_examples": 1, "sets": ["all"]}""", "ignore_label_id", "integer or null")]
    [InlineData("""{"pad_id": 0, "ignore_label_id": 0, "blank_identifier_id": 0, "vocab_size": 6, "seq_len": 4, "num_puzzle_identifiers": 3, "total_groups": 2, "mean_puzzle_examples": 1, "sets": "all"}""", "sets", "list of strings")]
    [InlineData("""{"pad_id": 9, "ignore_label_id": 0, "blank_identifier_id": 0, "vocab_size": 6, "seq_len": 4, "num_puzzle_identifiers": 3, "total_groups": 2, "mean_puzzle_examples": 1, "sets": ["all"]}""", "pad_id", "[0, vocab_size=6)")]
    [InlineData("""{"pad_id": 0, "ignore_label_id": 0, "blank_identifier_id": 0, "vocab_size": 6, "seq_len": 4, "num_puzzle_identifiers": 3, "total_groups": 2, "mean_puzzle_examples": null, "sets": ["all"]}""", "mean_puzzle_examples", "expected a number")]
    public void Malformed_dataset_json(string json, string field, string problem)
    {
        System.IO.File.WriteAllText(MetaPath, json);
        HrmFormatException e = Fails("dataset.json", problem);
        Assert.Equal(field, e.Field);
    }

    [Fact]
    public void Seq_len_in_metadata_must_match_the_arrays()
    {
        DatasetWriter.WriteText(MetaPath, (Meta with { SeqLen = 5 }).ToJson());
        Fails("all__inputs.npy", "seq_len = 5");
    }

    [Theory]
    [InlineData("dataset.json")]
    [InlineData("all__inputs.npy")]
    [InlineData("all__labels.npy")]
    [InlineData("all__puzzle_identifiers.npy")]
    [InlineData("all__puzzle_indices.npy")]
    [InlineData("all__group_indices.npy")]
    public void Missing_file(string name)
    {
        System.IO.File.Delete(Path.Combine(Root, "train", name));
        HrmFormatException e = Fails(name, "is missing");
        Assert.Equal("file", e.Field);
    }

    [Fact]
    public void Missing_split_and_unlisted_set()
    {
        Assert.Contains("'test' split", Assert.Throws<HrmFormatException>(() => PuzzleDataset.Open(Root, "test")).Message,
            StringComparison.Ordinal);
        var e = Assert.Throws<HrmFormatException>(() => PuzzleDataset.Open(Root, "train", "other"));
        Assert.Equal("sets", e.Field);
        Assert.Contains("'other'", e.Message, StringComparison.Ordinal);
    }
}
