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
        t.Run(TestContext.Current.CancellationToken);
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
            a.Run(TestContext.Current.CancellationToken);
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
        b.Run(TestContext.Current.CancellationToken);
        Assert.Equal(full.Count - (int)firstCheckpointStep, b.Losses.Count);
        Assert.Equal(full.Skip((int)firstCheckpointStep), b.Losses); // exact equality, not approximate
        using HrmModel ma = HrmCheckpoint.Load(P($"a/checkpoints/step_{full.Count}/model.safetensors"), new Runtime.Backends.Cpu.CpuBackend(1));
        using HrmModel mb = HrmCheckpoint.Load(P($"b/checkpoints/step_{full.Count}/model.safetensors"), new Runtime.Backends.Cpu.CpuBackend(1));
        foreach (TensorEntry e in ma.Layout.Entries) Assert.Equal(ma.ReadParameter(e.Name), mb.ReadParameter(e.Name));
        // The resumed log continues: one line per step, no duplicates.
        var steps = File.ReadAllLines(P("b/metrics.jsonl")).Where(l => l.Contains("train/lm_loss", StringComparison.Ordinal)).ToList();
        Assert.Equal(full.Count, steps.Count);
    }

    /// <summary>
    /// A run stopped on request (what Ctrl+C asks of `hrm train`) checkpoints the step it stopped at, inside a pass
    /// too, and resuming from there gives the uninterrupted run's losses, evaluations and weights exactly. Stopped
    /// mid-pass (the unlogged metric sums logged at that step), at a pass's last step (when the pass's order runs out
    /// there, its end and evaluation come first; when a partial batch is left, the evaluation is the resumed run's
    /// first work), and once more right after a resume (there: during that evaluation, with no checkpoint at the
    /// evaluation, so the stop itself must save the state the evaluation moved on).
    /// </summary>
    [Theory]
    [InlineData(96, true)]
    [InlineData(100, false)]
    public void A_run_stopped_on_request_resumes_bit_for_bit_inside_a_pass_too(int puzzles, bool checkpointEveryEval)
    {
        string data = TrainingFixtures.Build4x4(P("data"), train: puzzles);
        RunConfig cfg = TrainingFixtures.Tiny(data) with { LogInterval = 5, CheckpointEveryEval = checkpointEveryEval };
        List<double> full;
        using (Trainer a = Trainer.Create(cfg, P("a"), null, "cpu", TextWriter.Null, interactive: false))
        {
            a.Run(TestContext.Current.CancellationToken);
            Assert.False(a.Interrupted);
            full = a.Losses;
        }
        static string[] Evals(string log) =>
            File.ReadAllLines(log).Where(l => l.Contains("eval/", StringComparison.Ordinal)).ToArray();
        string[] evals = Evals(P("a/metrics.jsonl"));
        Assert.Equal(2, evals.Length);
        long passEnd = long.Parse(evals[0][8..evals[0].IndexOf(',', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(passEnd > 6 && passEnd < full.Count, $"pass end {passEnd}, {full.Count} steps");

        var losses = new List<double>();
        void RunUntil(Trainer t, long stopStep, bool stopNow = false)
        {
            using var stop = new CancellationTokenSource();
            if (stopNow) stop.Cancel();
            t.AfterStep = step =>
            {
                if (step == stopStep) stop.Cancel();
            };
            t.Run(stop.Token);
            losses.AddRange(t.Losses);
        }
        using (Trainer b = Trainer.Create(cfg, P("b"), null, "cpu", TextWriter.Null, interactive: false))
        {
            RunUntil(b, 6); // mid-pass, one step after a log line
            Assert.True(b.Interrupted);
            Assert.Equal(6, b.Step);
            Assert.Equal(P("b/checkpoints/step_6"), b.LastCheckpoint);
        }
        using (Trainer b = Trainer.Resume(P("b"), "cpu", TextWriter.Null, interactive: false))
        {
            Assert.Equal(6, b.Step);
            RunUntil(b, passEnd); // the pass's last step
            Assert.True(b.Interrupted);
            Assert.Equal(passEnd, b.Step);
            Assert.Equal(puzzles == 96, b.LastEval != null); // evaluated before the stop only when the order ran out
        }
        using (Trainer b = Trainer.Resume(P("b"), "cpu", TextWriter.Null, interactive: false))
        {
            Assert.Equal(passEnd, b.Step);
            RunUntil(b, long.MaxValue, stopNow: true); // the evaluation (or one more step), then the stop
            Assert.True(b.Interrupted);
            Assert.Equal(puzzles == 96 ? passEnd + 1 : passEnd, b.Step);
            Assert.Equal(puzzles != 96, b.LastEval != null);
        }
        using (Trainer b = Trainer.Resume(P("b"), "cpu", TextWriter.Null, interactive: false))
        {
            RunUntil(b, long.MaxValue);
            Assert.False(b.Interrupted);
        }
        Assert.Equal(full, losses); // exact equality
        using HrmModel ma = HrmCheckpoint.Load(P($"a/checkpoints/step_{full.Count}/model.safetensors"), new Runtime.Backends.Cpu.CpuBackend(1));
        using HrmModel mb = HrmCheckpoint.Load(P($"b/checkpoints/step_{full.Count}/model.safetensors"), new Runtime.Backends.Cpu.CpuBackend(1));
        foreach (TensorEntry e in ma.Layout.Entries) Assert.Equal(ma.ReadParameter(e.Name), mb.ReadParameter(e.Name));
        Assert.Equal(evals, Evals(P("b/metrics.jsonl"))); // each evaluation once, with the same numbers
        // The metric sums of the steps since the last log line are logged at each stop (log_interval 5: steps 6 and
        // the pass's end), where the uninterrupted run has no line.
        static bool TrainLineAt(string log, long step) => File.ReadAllLines(log).Any(l =>
            l.StartsWith($"{{\"step\":{step},\"train/", StringComparison.Ordinal));
        foreach (long step in (long[])[6, passEnd])
        {
            Assert.True(TrainLineAt(P("b/metrics.jsonl"), step), $"no train line at step {step}");
            Assert.False(TrainLineAt(P("a/metrics.jsonl"), step));
        }
    }

    [Fact]
    public void Compute_json_records_each_checkpoints_arithmetic_and_resume_follows_it()
    {
        string data = TrainingFixtures.Build4x4(P("data"));
        RunConfig cfg = TrainingFixtures.Tiny(data); // 2 threads, 2 checkpoints
        long first;
        using (Trainer a = Trainer.Create(cfg, P("a"), null, "cpu", TextWriter.Null, interactive: false, bf16Matmul: false))
        {
            Assert.Equal(ComputeJson("cpu", false, 2), File.ReadAllText(P("a/compute.json")));
            a.Run(TestContext.Current.CancellationToken);
            first = Directory.GetDirectories(P("a/checkpoints")).Select(d => long.Parse(Path.GetFileName(d)[5..],
                System.Globalization.CultureInfo.InvariantCulture)).Min();
        }
        // Runs cut short at the first checkpoint (as in Resume_continues_bit_for_bit).
        void CutShort(string dir, bool withCompute)
        {
            Directory.CreateDirectory(Path.Combine(dir, "checkpoints"));
            File.Copy(P("a/config.json"), Path.Combine(dir, "config.json"));
            if (withCompute) File.Copy(P("a/compute.json"), Path.Combine(dir, "compute.json"));
            CopyDir(P($"a/checkpoints/step_{first}"), Path.Combine(dir, "checkpoints", $"step_{first}"));
        }
        string Resume(string dir, string device, bool? bf16 = null, int? threads = null, bool? stream = null)
        {
            var o = new StringWriter();
            using Trainer t = Trainer.Resume(dir, device, o, interactive: false, bf16Matmul: bf16, threads: threads,
                bf16Stream: stream);
            t.Run();
            return o.ToString();
        }
        CutShort(P("same"), withCompute: true);
        string said = Resume(P("same"), "cpu", bf16: true); // the CPU computes fp32 whatever the flag: no change
        Assert.DoesNotContain("note:", said, StringComparison.Ordinal);
        Assert.Equal(ComputeJson("cpu", true, 2), File.ReadAllText(P("same/compute.json")));

        CutShort(P("threads"), withCompute: true);
        said = Resume(P("threads"), "cpu", threads: 1);
        Assert.Contains("note: the latest checkpoint was computed on cpu with 2 threads (fp32) and the run continues on " +
            "cpu with 1 threads (fp32)", said, StringComparison.Ordinal);
        Assert.Equal(ComputeJson("cpu", false, 1), File.ReadAllText(P("threads/compute.json")));

        CutShort(P("reference"), withCompute: true);
        said = Resume(P("reference"), "reference");
        Assert.Contains("continues on the reference backend (fp64)", said, StringComparison.Ordinal);
        Assert.Equal(ComputeJson("reference", false, 0), File.ReadAllText(P("reference/compute.json")));

        CutShort(P("old"), withCompute: false); // a run from before compute.json: fp32 GEMMs, as its default was
        said = Resume(P("old"), "cpu");
        Assert.DoesNotContain("note:", said, StringComparison.Ordinal); // on the CPU the GEMM choice changes nothing
        Assert.Equal(ComputeJson("cpu", false, 2), File.ReadAllText(P("old/compute.json")));

        // A run recorded with bf16 GEMMs keeps its residual stream (none where the record predates it) unless asked.
        string old = "{\"device\":\"cpu\",\"bf16_matmul\":true,\"threads\":2}", on = ComputeJson("cpu", true, 2);
        foreach ((string name, string record, bool? asked, bool kept) in new[]
            { ("bf16-old", old, (bool?)null, false), ("bf16-on", on, null, true), ("bf16-off", on, false, false) })
        {
            CutShort(P(name), withCompute: false);
            File.WriteAllText(P(name + "/compute.json"), record);
            Resume(P(name), "cpu", stream: asked);
            Assert.Equal(ComputeJson("cpu", true, 2, kept), File.ReadAllText(P(name + "/compute.json")));
        }
    }

    /// <summary>compute.json as a run without micro-batches records it; the stream by default as without stream
    /// flags (bf16 GEMMs: the bf16 stream too, the default).</summary>
    private static string ComputeJson(string device, bool bf16, int threads, bool? stream = null) =>
        $"{{\"device\":\"{device}\",\"bf16_matmul\":{(bf16 ? "true" : "false")},\"threads\":{threads}," +
        $"\"micro_batch\":0,\"bf16_stream\":{(stream ?? bf16 ? "true" : "false")}}}";

    [Fact]
    public void A_diverging_run_stops_with_the_step_and_keeps_the_last_good_weights()
    {
        string data = TrainingFixtures.Build4x4(P("data"));
        RunConfig cfg = TrainingFixtures.Tiny(data);
        SaveNanCheckpoint(cfg);
        using Trainer t = Trainer.Create(cfg, P("run"), P("nan.safetensors"), "cpu", TextWriter.Null, interactive: false);
        var e = Assert.Throws<TrainingDivergedException>(() => t.Run(TestContext.Current.CancellationToken));
        Assert.Contains("step 1", e.Message);
        Assert.True(File.Exists(P("run/checkpoints/nan_step_1/model.safetensors")));
    }

    [Fact]
    public void A_run_diverging_between_log_lines_stops_at_the_first_bad_step_with_the_weights_before_it()
    {
        string data = TrainingFixtures.Build4x4(P("data"));
        RunConfig cfg = TrainingFixtures.Tiny(data) with { LogInterval = 4 };
        SaveNanCheckpoint(cfg);
        using Trainer t = Trainer.Create(cfg, P("run"), P("nan.safetensors"), "cpu", TextWriter.Null, interactive: false);
        var e = Assert.Throws<TrainingDivergedException>(() => t.Run(TestContext.Current.CancellationToken));
        Assert.Contains("step 1:", e.Message, StringComparison.Ordinal);
        Assert.True(t.Step > 1, $"the loss was read at step {t.Step}: nothing ran past the bad step");
        Assert.Empty(t.Losses);
        // Every later step was skipped by both optimisers: the saved weights are the ones the run started from.
        using HrmModel start = HrmCheckpoint.Load(P("nan.safetensors"), new Runtime.Backends.Cpu.CpuBackend(1));
        using HrmModel saved = HrmCheckpoint.Load(P("run/checkpoints/nan_step_1/model.safetensors"), new Runtime.Backends.Cpu.CpuBackend(1));
        foreach (TensorEntry entry in start.Layout.Entries)
            Assert.Equal(start.ReadParameter(entry.Name), saved.ReadParameter(entry.Name));
    }

    [Fact]
    public void Losses_weights_and_logged_means_do_not_depend_on_the_log_interval()
    {
        string data = TrainingFixtures.Build4x4(P("data"));
        RunConfig every = TrainingFixtures.Tiny(data) with { LogInterval = 1 };
        RunConfig third = every with { LogInterval = 3 };
        using Trainer a = Trainer.Create(every, P("a"), null, "cpu", TextWriter.Null, interactive: false);
        using Trainer b = Trainer.Create(third, P("b"), null, "cpu", TextWriter.Null, interactive: false);
        a.Run(TestContext.Current.CancellationToken);
        b.Run(TestContext.Current.CancellationToken);
        Assert.True(a.Losses.Count > 6, $"only {a.Losses.Count} steps");
        Assert.Equal(a.Losses, b.Losses);
        foreach (TensorEntry entry in a.Model.Layout.Entries)
            Assert.Equal(a.Model.ReadParameter(entry.Name), b.Model.ReadParameter(entry.Name));
        // A line every third step (and the last); its lm_loss is the mean of the three per-step lines.
        List<MetricsEntry> la = TrainLines(P("a/metrics.jsonl")), lb = TrainLines(P("b/metrics.jsonl"));
        Assert.Equal([3, 6], lb.Take(2).Select(r => r.Step));
        Assert.Equal(a.Step, lb[^1].Step);
        foreach (string key in new[] { "train/lm_loss", "train/q_halt_loss", "train/q_continue_loss" })
        {
            double mean = (la[3].Values[key] + la[4].Values[key] + la[5].Values[key]) / 3;
            Assert.Equal(mean, lb[1].Values[key], 1e-12);
        }
    }

    [Fact]
    public void Host_reads_do_not_grow_with_the_number_of_steps()
    {
        string data = TrainingFixtures.Build4x4(P("data"));
        (long Steps, long Reads) Run(int epochs, string dir)
        {
            RunConfig cfg = TrainingFixtures.Tiny(data) with { Epochs = epochs, EvalInterval = epochs, LogInterval = 1000 };
            using Trainer t = Trainer.Create(cfg, P(dir), null, "cpu", TextWriter.Null, interactive: false, profile: true);
            t.Run();
            var backend = Assert.IsType<Runtime.Backends.ProfilingBackend>(t.Model.Backend);
            long reads = backend.Times().Where(r => r.Op is "Download" or "DownloadInts").Sum(r => r.Calls);
            return (t.Step, reads);
        }
        (long s1, long r1) = Run(2, "short");
        (long s2, long r2) = Run(4, "long");
        Assert.True(s2 >= 2 * s1 && s1 > 3, $"steps {s1} and {s2}");
        // One read of the metric sums at the last step, the evaluation and the checkpoint: the same for both runs.
        Assert.Equal(r1, r2);
    }

    [Fact]
    public void Evaluating_mid_run_keeps_the_training_carry_and_repeats_exactly()
    {
        string data = TrainingFixtures.Build4x4(P("data"));
        using Trainer t = Trainer.Create(TrainingFixtures.Tiny(data), P("run"), null, "cpu", TextWriter.Null, interactive: false);
        t.Run(TestContext.Current.CancellationToken);
        IReadOnlyDictionary<string, double> first = t.LastEval!;
        int b = t.Config.GlobalBatchSize, l = t.Model.Config.SeqLen;
        ActState before = new(b, l), after = new(b, l);
        var zh = new float[t.Model.Ws.ZH.Length];
        var zh2 = new float[zh.Length];
        t.Model.SaveCarry(before);
        t.Model.Backend.Download(t.Model.Ws.ZH, zh);
        IReadOnlyDictionary<string, double> again = t.EvaluateKeepingCarry();
        t.Model.SaveCarry(after);
        t.Model.Backend.Download(t.Model.Ws.ZH, zh2);
        Assert.Equal(first, again);
        Assert.Equal(before.Steps, after.Steps);
        Assert.Equal(before.Halted, after.Halted);
        Assert.Equal(before.Tokens, after.Tokens);
        Assert.Equal(before.Labels, after.Labels);
        Assert.Equal(before.PuzzleIds, after.PuzzleIds);
        Assert.Equal(zh, zh2);
    }

    [Fact]
    public void Resuming_from_a_bad_carry_names_the_file_and_the_value()
    {
        string data = TrainingFixtures.Build4x4(P("data"));
        RunConfig cfg = TrainingFixtures.Tiny(data);
        int seqLen;
        using (Trainer t = Trainer.Create(cfg, P("run"), null, "cpu", TextWriter.Null, interactive: false))
        {
            t.Run(TestContext.Current.CancellationToken);
            seqLen = t.Model.Config.SeqLen; // the data's
        }
        string path = Path.Combine(Trainer.LatestCheckpoint(P("run"))!, "train_state.safetensors");
        TrainingState st = TrainingState.Load(path, cfg.GlobalBatchSize, seqLen);
        st.Act.Tokens[5] = 1000;
        st.Save(path);
        var e = Assert.Throws<Runtime.Formats.HrmFormatException>(() => Trainer.Resume(P("run"), "cpu", TextWriter.Null, interactive: false));
        Assert.Contains("train_state.safetensors", e.Message, StringComparison.Ordinal);
        Assert.Contains("token 1000", e.Message, StringComparison.Ordinal);
    }

    /// <summary>nan.safetensors: the run's initial weights with one lm_head weight NaN (the first step's loss is NaN).</summary>
    private void SaveNanCheckpoint(RunConfig cfg)
    {
        using Trainer seed = Trainer.Create(cfg, P("seed"), null, "cpu", TextWriter.Null, interactive: false);
        float[] w = seed.Model.ReadParameter(ParameterLayout.Names.LmHead);
        w[3] = float.NaN;
        seed.Model.WriteParameter(ParameterLayout.Names.LmHead, w);
        HrmCheckpoint.Save(seed.Model, P("nan.safetensors"));
    }

    private static List<MetricsEntry> TrainLines(string path) =>
        MetricsLogReader.Read(path).Where(r => r.Values.ContainsKey("train/lm_loss")).ToList();

    private static void CopyDir(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
    }
}
