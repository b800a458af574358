using System.Text;
using Hrm.Runtime.Arc;
using Hrm.Runtime.Formats;
using Hrm.Train.Data;

namespace Hrm.Train.Tests.Data;

public sealed class ArcTaskReaderTests
{
    private static HrmFormatException Bad(string json) =>
        Assert.Throws<HrmFormatException>(() => ArcTaskReader.Parse(Encoding.UTF8.GetBytes(json), "x.json", "x", false));

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
        { """{"name": "a_b", "train": [{"input": [[1]], "output": [[1]]}], "test": [{"input": [[1]], "output": [[1]]}]}""", "name", "'_'" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_files_name_the_file_and_the_field(string json, string field, string problem)
    {
        HrmFormatException e = Bad(json);
        Assert.Equal("x.json", e.Path);
        Assert.Equal(field, e.Field);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
        Assert.Contains("x.json", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_well_formed_task_reads_with_its_name_and_routing()
    {
        ArcTask t = ArcTaskReader.Parse(Encoding.UTF8.GetBytes(
            """{"name": "abc", "extra": 1, "train": [{"input": [[1, 2], [3, 4]], "output": [[0]]}], "test": [{"input": [[5]], "output": [[6, 7]]}]}"""),
            "f.json", "f", isEvaluation: true);
        Assert.Equal("abc", t.Id);
        Assert.True(t.IsEvaluation);
        Assert.Equal(ArcGrid.FromRows([1, 2], [3, 4]), t.Train[0].Input);
        Assert.Equal(ArcGrid.FromRows([6, 7]), t.Test[0].Output);
        Assert.Equal(2, t.AllPairs.Count());
    }

    [Fact]
    public void Real_task_files_are_read_and_presets_find_their_folders()
    {
        string? root = ArcTestData.SharedRoot();
        Assert.SkipWhen(root is null, ArcTestData.MissingReason);
        List<ArcTaskFile> arc1 = ArcSources.ListTasks(ArcSources.DatasetFolders("arc-1", [root!]), 42);
        List<ArcTaskFile> arc2 = ArcSources.ListTasks(ArcSources.DatasetFolders("arc-2", [root!]), 42);
        Assert.Equal(960, arc1.Count);
        Assert.Equal(400, arc1.Count(f => f.IsEvaluation));
        Assert.Equal(1120, arc2.Count);
        Assert.Equal(120, arc2.Count(f => f.IsEvaluation));
        // A small subset of each folder, for speed: every grid within 30 x 30 and colours 0..9 (checked by the reader).
        ArcTaskFile[] sample = [.. arc1.Take(15), .. arc1.Where(f => f.IsEvaluation).Take(15), .. arc2.Where(f => f.IsEvaluation).Take(10),
            .. arc1.Where(f => f.Path.Contains("ConceptARC", StringComparison.Ordinal)).Take(10)];
        (List<ArcTask> tasks, List<HrmFormatException> errors) = ArcSources.Load(sample);
        Assert.Empty(errors);
        Assert.Equal(sample.Length, tasks.Count);
        Assert.All(tasks, t =>
        {
            Assert.Equal(Path.GetFileNameWithoutExtension(t.Path), t.Id);
            Assert.NotEmpty(t.Train);
            Assert.NotEmpty(t.Test);
        });
        // Same seed, same order; another seed shuffles differently.
        Assert.Equal(arc1.Select(f => f.Path), ArcSources.ListTasks(ArcSources.DatasetFolders("arc-1", [root!]), 42).Select(f => f.Path));
        Assert.NotEqual(arc1.Select(f => f.Path), ArcSources.ListTasks(ArcSources.DatasetFolders("arc-1", [root!]), 7).Select(f => f.Path));
    }
}
