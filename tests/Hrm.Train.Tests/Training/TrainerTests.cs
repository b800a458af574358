using Hrm.Runtime.Config;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;
using Hrm.Train.Training;

namespace Hrm.Train.Tests.Training;

public sealed class TrainerTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("hrm-train-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string P(string name) => Path.Combine(_dir.FullName, name);

    [Fact]
    public void A_tiny_model_learns()
    {
        string data = TrainingFixtures.Build4x4(P("data"), train: 192, numAug: 2);
        RunConfig cfg = TrainingFixtures.Tiny(data) with { Epochs = 12, EvalInterval = 12, LogInterval = 1 };
        using Trainer t = Trainer.Create(cfg, P("run"), null, "cpu", TextWriter.Null, interactive: false);
        t.Run();
        Assert.Equal(t.TotalSteps, t.Step);
        double first = t.Losses.Take(10).Average(), last = t.Losses.TakeLast(10).Average();
        Assert.True(last < 0.7 * first, $"loss fell only from {first:F3} to {last:F3}");
        Assert.NotNull(t.LastEval);
        Assert.True(t.LastEval!["eval/accuracy"] > 0.55, $"eval accuracy {t.LastEval["eval/accuracy"]:F3}");
        string[] lines = File.ReadAllLines(P("run/metrics.jsonl"));
        Assert.Contains(lines, l => l.Contains("\"train/lm_loss\"", StringComparison.Ordinal) && l.Contains("\"step\":1,", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("\"eval/exact_accuracy\"", StringComparison.Ordinal));
        Assert.True(File.Exists(P($"run/checkpoints/step_{t.Step}/model.safetensors")));
    }

    [Fact]
    public void Without_act_continue_a_tiny_model_learns_and_logs_no_continue_loss()
    {
        HrmConfig arch = TrainTinyWith(a => a with { NoActContinue = true }, "no_ACT_continue");
        Assert.True(arch.NoActContinue); // the checkpoint's config carries the flag to eval and the solver
        string[] lines = File.ReadAllLines(P("run/metrics.jsonl"));
        Assert.Contains(lines, l => l.Contains("\"train/q_halt_loss\"", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("q_continue_loss", StringComparison.Ordinal));
    }

    [Fact]
    public void With_a_detached_q_head_a_tiny_model_learns_and_the_checkpoint_carries_the_flag()
    {
        HrmConfig arch = TrainTinyWith(a => a with { DetachQHead = true }, "detach_q_head");
        Assert.True(arch.DetachQHead);
        Assert.False(arch.NoActContinue);
    }

    /// <summary>
    /// Trains the tiny config with one arch option changed, checks that the loss falls and that run/config.json
    /// has <paramref name="key"/> set; returns the config read back from the last checkpoint.
    /// </summary>
    private HrmConfig TrainTinyWith(Func<HrmConfig, HrmConfig> change, string key)
    {
        string data = TrainingFixtures.Build4x4(P("data"), train: 192, numAug: 2);
        RunConfig cfg = TrainingFixtures.Tiny(data) with { Epochs = 12, EvalInterval = 12, LogInterval = 1 };
        cfg = cfg with { Arch = change(cfg.Arch) };
        using Trainer t = Trainer.Create(cfg, P("run"), null, "cpu", TextWriter.Null, interactive: false);
        t.Run();
        double first = t.Losses.Take(10).Average(), last = t.Losses.TakeLast(10).Average();
        Assert.True(last < 0.7 * first, $"loss fell only from {first:F3} to {last:F3}");
        Assert.Contains($"\"{key}\": true", File.ReadAllText(P("run/config.json")));
        using HrmModel m = HrmCheckpoint.Load(P($"run/checkpoints/step_{t.Step}/model.safetensors"), new Runtime.Backends.Cpu.CpuBackend(1));
        return m.Config;
    }

    [Fact]
    public void Resume_continues_bit_for_bit()
    {
        string data = TrainingFixtures.Build4x4(P("data"));
        RunConfig cfg = TrainingFixtures.Tiny(data);
        List<double> full;
        long firstCheckpointStep;
        using (Trainer a = Trainer.Create(cfg, P("a"), null, "cpu", TextWriter.Null, interactive: false))
        {
            a.Run();
            full = a.Losses;
            string[] ckpts = Directory.GetDirectories(P("a/checkpoints")).Order().ToArray();
            Assert.Equal(2, ckpts.Length);
            firstCheckpointStep = ckpts.Select(d => long.Parse(Path.GetFileName(d)[5..], System.Globalization.CultureInfo.InvariantCulture)).Min();
        }
        // A second run directory holding only the first checkpoint, as if the run had stopped there.
        Directory.CreateDirectory(P("b/checkpoints"));
        File.Copy(P("a/config.json"), P("b/config.json"));
        File.Copy(P("a/metrics.jsonl"), P("b/metrics.jsonl"));
        CopyDir(P($"a/checkpoints/step_{firstCheckpointStep}"), P($"b/checkpoints/step_{firstCheckpointStep}"));
        using Trainer b = Trainer.Resume(P("b"), "cpu", TextWriter.Null, interactive: false);
        Assert.Equal(firstCheckpointStep, b.Step);
        b.Run();
        Assert.Equal(full.Count - (int)firstCheckpointStep, b.Losses.Count);
        Assert.Equal(full.Skip((int)firstCheckpointStep), b.Losses); // exact equality, not approximate
        using HrmModel ma = HrmCheckpoint.Load(P($"a/checkpoints/step_{full.Count}/model.safetensors"), new Runtime.Backends.Cpu.CpuBackend(1));
        using HrmModel mb = HrmCheckpoint.Load(P($"b/checkpoints/step_{full.Count}/model.safetensors"), new Runtime.Backends.Cpu.CpuBackend(1));
        foreach (TensorEntry e in ma.Layout.Entries) Assert.Equal(ma.ReadParameter(e.Name), mb.ReadParameter(e.Name));
        // The resumed log continues: one line per step, no duplicates.
        var steps = File.ReadAllLines(P("b/metrics.jsonl")).Where(l => l.Contains("train/lm_loss", StringComparison.Ordinal)).ToList();
        Assert.Equal(full.Count, steps.Count);
    }

    [Fact]
    public void A_diverging_run_stops_with_the_step_and_keeps_the_last_good_weights()
    {
        string data = TrainingFixtures.Build4x4(P("data"));
        RunConfig cfg = TrainingFixtures.Tiny(data);
        using (Trainer seed = Trainer.Create(cfg, P("seed"), null, "cpu", TextWriter.Null, interactive: false))
        {
            float[] w = seed.Model.ReadParameter(ParameterLayout.Names.LmHead);
            w[3] = float.NaN;
            seed.Model.WriteParameter(ParameterLayout.Names.LmHead, w);
            HrmCheckpoint.Save(seed.Model, P("nan.safetensors"));
        }
        using Trainer t = Trainer.Create(cfg, P("run"), P("nan.safetensors"), "cpu", TextWriter.Null, interactive: false);
        var e = Assert.Throws<TrainingDivergedException>(t.Run);
        Assert.Contains("step 1", e.Message);
        Assert.True(File.Exists(P("run/checkpoints/nan_step_1/model.safetensors")));
    }

    private static void CopyDir(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
    }
}
