using Hrm.Runtime.Arc;
using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Model;
using Hrm.Train.Data;
using Hrm.Train.Tests.Data;
using Hrm.Train.Training;

namespace Hrm.Train.Tests.Training;

public sealed class CheckpointIdentifiersTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("hrm-ckptids-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string P(string name) => Path.Combine(_dir.FullName, name);

    [Fact]
    public void Every_checkpoint_directory_carries_the_datasets_identifiers()
    {
        ArcTestData.WriteCrafted(P("src"));
        (List<ArcTask> tasks, _) = ArcSources.Load(ArcSources.ListTasks([P("src")], 1));
        ArcDatasetBuilder.Build(P("data"), tasks, new ArcBuildOptions { NumAug = 1, Seed = 3, Threads = 2 });
        RunConfig cfg = TrainingFixtures.Tiny(P("data")) with { GlobalBatchSize = 4, Epochs = 4, EvalInterval = 2 };
        using (Trainer t = Trainer.Create(cfg, P("run"), null, "cpu", TextWriter.Null, interactive: false))
        {
            t.Run();
        }
        string[] dirs = Directory.GetDirectories(P("run/checkpoints"));
        Assert.Equal(2, dirs.Length);
        byte[] original = File.ReadAllBytes(P("data/identifiers.json"));
        foreach (string dir in dirs)
        {
            Assert.Equal(original, File.ReadAllBytes(Path.Combine(dir, ArcIdentifiers.FileName)));
            Assert.Empty(Directory.GetFiles(dir, "*.tmp-*"));
            ArcIdentifiers ids = ArcIdentifiers.FindFor(Path.Combine(dir, "model.safetensors"));
            Assert.Equal(["e1", "t1", "t2"], ids.TaskIds.Order(StringComparer.Ordinal));
            Assert.Equal(2, ids.ViewsOf("e1").Count);
            using HrmModel model = HrmCheckpoint.Load(Path.Combine(dir, "model.safetensors"), new CpuBackend(1));
            ids.CheckMatches(model.Config.NumPuzzleIdentifiers);
        }
    }
}
