using Hrm.Runtime.Arc;
using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Model;
using Hrm.Runtime.Numerics;
using Hrm.Runtime.Solver;
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
        TrainTinyArc(epochs: 4);
        string[] dirs = Directory.GetDirectories(P("run/checkpoints"));
        Assert.Equal(2, dirs.Length);
        byte[] original = File.ReadAllBytes(P("data/identifiers.json"));
        foreach (string dir in dirs)
        {
            Assert.Equal(original, File.ReadAllBytes(Path.Combine(dir, ArcIdentifiers.FileName)));
            Assert.Empty(Directory.GetFiles(dir, "*.tmp-*"));
            Assert.Empty(Directory.GetFiles(dir, ".hrm-*.tmp")); // AtomicFileWriter's
            ArcIdentifiers ids = ArcIdentifiers.FindFor(Path.Combine(dir, "model.safetensors"));
            Assert.Equal(["e1", "t1", "t2"], ids.TaskIds.Order(StringComparer.Ordinal));
            Assert.Equal(2, ids.ViewsOf("e1").Count);
            using HrmModel model = HrmCheckpoint.Load(Path.Combine(dir, "model.safetensors"), new CpuBackend(1));
            ids.CheckMatches(model.Config.NumPuzzleIdentifiers);
        }
    }

    [Fact]
    public void HrmSolver_solves_a_trained_task_like_the_evaluation_path_and_refuses_an_unseen_one()
    {
        List<ArcTask> tasks = TrainTinyArc(epochs: 2);
        string ckpt = Directory.GetFiles(P("run/checkpoints"), "model.safetensors", SearchOption.AllDirectories).Single();
        ArcTask task = tasks.Single(x => x.Id == "e1");

        using var solver = HrmSolver.Load(ckpt, new SolverOptions { Device = SolverDevice.Cpu, Threads = 1, BatchSlots = 3 });
        ArcTaskSolution got = solver.Solve(task);

        // The same voting fed by the model's plain evaluation (fresh carry, halt_max_steps segments, argmax).
        using HrmModel model = HrmCheckpoint.Load(ckpt, new CpuBackend(1));
        int l = model.Config.SeqLen, v = model.Config.VocabSize;
        ArcTaskSolution want = new ArcTaskSolver(ArcIdentifiers.FindFor(ckpt)).Solve(task, (tokens, ids) =>
        {
            int n = ids.Length;
            model.Reserve(n, training: false);
            ActState s = model.Evaluate(tokens, ids);
            var logits = new float[n * l * v];
            model.ReadLogits(logits);
            var predicted = new int[n * l];
            for (int i = 0; i < n * l; i++) predicted[i] = Logits.ArgMax(logits.AsSpan(i * v, v));
            return (predicted, s.QHalt[..n]);
        });
        Assert.Equal(want.Views, got.Views);
        Assert.Equal(want.Tests.Count, got.Tests.Count);
        for (int i = 0; i < want.Tests.Count; i++)
        {
            Assert.Equal(want.Tests[i].Attempts.Select(a => (a.Grid, a.Count)), got.Tests[i].Attempts.Select(a => (a.Grid, a.Count)));
            for (int k = 0; k < want.Tests[i].Attempts.Count; k++)
                Assert.Equal(want.Tests[i].Attempts[k].MeanQ, got.Tests[i].Attempts[k].MeanQ, 6);
        }

        ArcTask unseen = task with { Id = "never-trained" };
        Assert.Throws<ArcTaskNotTrainedException>(() => solver.Solve(unseen));
    }

    /// <summary>Crafted ARC tasks -> data/ (one augmentation) -> a tiny run in run/ with a checkpoint every 2 epochs.</summary>
    private List<ArcTask> TrainTinyArc(int epochs)
    {
        ArcTestData.WriteCrafted(P("src"));
        (List<ArcTask> tasks, _) = ArcSources.Load(ArcSources.ListTasks([P("src")], 1));
        ArcDatasetBuilder.Build(P("data"), tasks, new ArcBuildOptions { NumAug = 1, Seed = 3, Threads = 2 });
        RunConfig cfg = TrainingFixtures.Tiny(P("data")) with { GlobalBatchSize = 4, Epochs = epochs, EvalInterval = 2 };
        using Trainer t = Trainer.Create(cfg, P("run"), null, "cpu", TextWriter.Null, interactive: false);
        t.Run();
        return tasks;
    }
}
