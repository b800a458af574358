using Hrm.Runtime.Arc;
using Hrm.Runtime.Formats;

namespace Hrm.Runtime.Tests.Arc;

public sealed class ArcIdentifiersTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("hrm-arcids-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string P(string name) => Path.Combine(_dir.FullName, name);

    private string Write(string name, string json)
    {
        string path = P(name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void Views_are_grouped_by_task_in_identifier_order()
    {
        string path = Write("identifiers.json",
            """["<blank>", "aa", "aa_t3_0987654321", "bb", "aa_t0_0213456789", "bb_t6_0123456798"]""");
        ArcIdentifiers ids = ArcIdentifiers.Load(path);
        Assert.Equal(6, ids.Count);
        Assert.Equal(path, ids.Source);
        Assert.Equal(["aa", "bb"], ids.TaskIds);
        IReadOnlyList<(int PuzzleId, ArcView View)> aa = ids.ViewsOf("aa");
        Assert.Equal([1, 2, 4], aa.Select(v => v.PuzzleId));
        Assert.Same(ArcView.Original, aa[0].View);
        Assert.Equal((3, "0987654321"), (aa[1].View.Tid, aa[1].View.Map.ToString()));
        Assert.Equal("aa_t0_0213456789", aa[2].View.Name("aa"));
        Assert.Equal([3, 5], ids.ViewsOf("bb").Select(v => v.PuzzleId));
        Assert.True(ids.Contains("bb"));
        Assert.False(ids.Contains("cc"));
        Assert.Empty(ids.ViewsOf("cc"));
        ids.CheckMatches(6);
        HrmFormatException e = Assert.Throws<HrmFormatException>(() => ids.CheckMatches(7));
        Assert.Contains("7 puzzle embeddings", e.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string> Malformed => new()
    {
        { "[\"<blank>\", \"aa\"", "json", "not valid JSON" },
        { """{"names": []}""", "identifiers", "list of names" },
        { """["<blank>", "aa", 3]""", "identifiers[2]", "expected a string" },
        { """[]""", "identifiers", "\"<blank>\"" },
        { """["aa", "<blank>"]""", "identifiers[0]", "\"<blank>\"" },
        { """["<blank>"]""", "identifiers", "not the identifiers of an ARC dataset" },
        { """["<blank>", "aa", "aa_t9_0123456789"]""", "identifiers[2]", "not an ARC view name" },
        { """["<blank>", "aa", "aa_t1_1023456789"]""", "identifiers[2]", "not an ARC view name" },
        { """["<blank>", "aa", "_t1_0123456789"]""", "identifiers[2]", "not an ARC view name" },
        { """["<blank>", "aa", "bb", "aa"]""", "identifiers[3]", "repeats identifiers[1]" },
        { """["<blank>", "aa", "<blank>"]""", "identifiers[2]", "repeats identifiers[0]" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_files_name_the_file_and_the_entry(string json, string field, string problem)
    {
        string path = Write("identifiers.json", json);
        HrmFormatException e = Assert.Throws<HrmFormatException>(() => ArcIdentifiers.Load(path));
        Assert.Equal((path, field), (e.Path, e.Field));
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
        Assert.StartsWith(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Non_arc_datasets_read_as_plain_names()
    {
        string path = Write("identifiers.json", """["<blank>"]""");
        Assert.Equal(["<blank>"], ArcIdentifiers.ReadNames(path));
        Assert.Equal("file", Assert.Throws<HrmFormatException>(() => ArcIdentifiers.ReadNames(P("none.json"))).Field);
    }

    [Fact]
    public void FindFor_looks_next_to_the_checkpoint_and_says_where_it_looked()
    {
        string ckpt = Write("run/checkpoints/step_5/model.safetensors", "not read");
        string dir = Path.GetDirectoryName(ckpt)!;
        HrmFormatException e = Assert.Throws<HrmFormatException>(() => ArcIdentifiers.FindFor(ckpt));
        string expected = Path.Combine(dir, "identifiers.json");
        Assert.Equal(expected, e.Path);
        Assert.Contains($"looked for {expected}", e.Message, StringComparison.Ordinal);
        Assert.Contains("hrm train copies", e.Message, StringComparison.Ordinal);
        Write("run/checkpoints/step_5/identifiers.json", """["<blank>", "aa"]""");
        Assert.Equal(["<blank>", "aa"], ArcIdentifiers.FindFor(ckpt).Names);
        Assert.Equal(["<blank>", "aa"], ArcIdentifiers.FindFor(dir).Names);
        e = Assert.Throws<HrmFormatException>(() => ArcIdentifiers.FindFor(P("nowhere/model.safetensors")));
        Assert.Contains("does not exist", e.Message, StringComparison.Ordinal);
    }
}
