using Hrm.Runtime.Arc;
using Hrm.Runtime.Formats;
using Hrm.Train.Data;

namespace Hrm.Train.Tests.Data;

public sealed class ArcSourcesTests
{
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
