using Hrm.Runtime.Arc;
using Hrm.Runtime.Formats;

namespace Hrm.Runtime.Tests.Arc;

public sealed class ArcTaskTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("hrm-arctask-");

    public void Dispose() => _dir.Delete(recursive: true);

    private static HrmFormatException Bad(string json) => Assert.Throws<HrmFormatException>(() => ArcTask.Parse(json, "x"));

    public static TheoryData<string, string, string> Malformed => new()
    {
        { """{"train": [{"input": [[1, 2], [3]], "output": [[1]]}], "test": [{"input": [[1]], "output": [[1]]}]}""", "train[0].input[1]", "ragged" },
        { """{"train": [{"input": [[1, 10]], "output": [[1]]}], "test": [{"input": [[1]], "output": [[1]]}]}""", "train[0].input[0][1]", "0..9" },
        { """{"train": [{"input": [[1]], "output": [[-1]]}], "test": [{"input": [[1]], "output": [[1]]}]}""", "train[0].output[0][0]", "0..9" },
        { """{"train": [{"input": [[1.5]], "output": [[1]]}], "test": [{"input": [[1]], "output": [[1]]}]}""", "train[0].input[0][0]", "0..9" },
        { """{"train": [{"input": [[1]], "output": [[1]]}], "test": [{"input": [[1]], "output": [["3"]]}]}""", "test[0].output[0][0]", "0..9" },
        { "{\"train\": [{\"input\": [[" + string.Join(",", Enumerable.Repeat("1", 31)) + "]], \"output\": [[1]]}], \"test\": [{\"input\": [[1]], \"output\": [[1]]}]}", "train[0].input", "at most 30 x 30" },
        { """{"train": [{"input": [[1]], "output": [[1]]}]}""", "test", "missing" },
        { """{"train": [{"input": [[1]]}], "test": [{"input": [[1]], "output": [[1]]}]}""", "train[0].output", "missing" },
        { """{"train": [], "test": [{"input": [[1]], "output": [[1]]}]}""", "train", "empty" },
        { """{"train": [{"input": [], "output": [[1]]}], "test": [{"input": [[1]], "output": [[1]]}]}""", "train[0].input", "non-empty" },
        { """{"train": [{"input": [[1]], "output": [[1]]}], "test": [{"input": [[1]], "output": [[1]]}]""", "json", "not valid JSON" },
        { """[1, 2]""", "json", "object" },
        { """{"name": 7, "train": [{"input": [[1]], "output": [[1]]}], "test": [{"input": [[1]], "output": [[1]]}]}""", "name", "string" },
        { """{"name": "a_b", "train": [{"input": [[1]], "output": [[1]]}], "test": [{"input": [[1]], "output": [[1]]}]}""", "name", "'_'" },
        { """{"train": [{"input": [[1]], "output": [[1]]}], "test": [3]}""", "test[0]", "object" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_json_names_the_task_and_the_field(string json, string field, string problem)
    {
        HrmFormatException e = Bad(json);
        Assert.Equal("x", e.Path);
        Assert.Equal(field, e.Field);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
        Assert.StartsWith($"x: {field}: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_well_formed_task_parses_with_its_name()
    {
        ArcTask t = ArcTask.Parse(
            """{"name": "abc", "extra": 1, "train": [{"input": [[1, 2], [3, 4]], "output": [[0]]}], "test": [{"input": [[5]], "output": [[6, 7]]}]}""",
            "f");
        Assert.Equal("abc", t.Id);
        Assert.False(t.IsEvaluation);
        Assert.Equal(ArcGrid.FromRows([1, 2], [3, 4]), t.Train[0].Input);
        Assert.Equal(ArcGrid.FromRows([6, 7]), t.Test[0].Output);
        Assert.Equal(2, t.AllPairs.Count());
        Assert.Equal("f", ArcTask.Parse("""{"train": [{"input": [[1]], "output": [[0]]}], "test": [{"input": [[5]], "output": [[6]]}]}""", "f").Id);
        Assert.Throws<HrmFormatException>(() => ArcTask.Parse("""{"train": [{"input": [[1]], "output": [[0]]}], "test": [{"input": [[5]], "output": [[6]]}]}""", "bad id"));
    }

    [Fact]
    public void Load_reads_a_file_named_after_its_task_and_names_the_file_in_errors()
    {
        string good = Path.Combine(_dir.FullName, "007bbfb7.json"), bad = Path.Combine(_dir.FullName, "bad.json");
        File.WriteAllText(good, """{"train": [{"input": [[1, 2]], "output": [[2, 1]]}], "test": [{"input": [[3, 4]], "output": [[4, 3]]}]}""");
        ArcTask t = ArcTask.Load(good);
        Assert.Equal("007bbfb7", t.Id);
        Assert.Equal(good, t.Path);
        Assert.Equal(ArcGrid.FromRows([4, 3]), t.Test[0].Output);
        File.WriteAllText(bad, """{"train": [{"input": [[1, 2]], "output": [[2, 1]]}], "test": [{"input": [[3, 4]], "output": [[4, 13]]}]}""");
        HrmFormatException e = Assert.Throws<HrmFormatException>(() => ArcTask.Load(bad));
        Assert.Equal((bad, "test[0].output[0][1]"), (e.Path, e.Field));
        e = Assert.Throws<HrmFormatException>(() => ArcTask.Load(Path.Combine(_dir.FullName, "absent.json")));
        Assert.Equal("file", e.Field);
        Assert.Contains("absent.json", e.Message, StringComparison.Ordinal);
    }
}
