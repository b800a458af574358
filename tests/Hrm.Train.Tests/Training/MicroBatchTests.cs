using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Config;
using Hrm.Runtime.Loss;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;
using Hrm.Runtime.Numerics;
using Hrm.Train.Data;
using Hrm.Train.Training;

namespace Hrm.Train.Tests.Training;

/// <summary>Training steps taken in micro-batches (gradient accumulation): <see cref="TrainingStep"/>,
/// micro_batch_size and the trainer's automatic choice.</summary>
public sealed class MicroBatchTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("hrm-micro-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string P(string name) => Path.Combine(_dir.FullName, name);

    /// <summary>One side of a comparison: a model on the CPU, its step, the data stream and exploration generator.</summary>
    private sealed class Side : IDisposable
    {
        public Side(RunConfig cfg, PuzzleDataset data, int microBatch)
        {
            Model = new HrmModel(cfg.Arch, new CpuBackend(1));
            Model.Initialize(new HrmRandom(cfg.Seed));
            // A Q head that halts some rows early (the reference's init, zero weights, halts none before the maximum
            // in a few steps): rows then sit at different steps in every micro-batch.
            var rng = new HrmRandom(5);
            float[] q = new float[2 * cfg.Arch.HiddenSize];
            for (int i = 0; i < q.Length; i++) q[i] = (float)rng.NextUniform(-1, 1);
            Model.WriteParameter(ParameterLayout.Names.QHeadWeight, q);
            Model.WriteParameter(ParameterLayout.Names.QHeadBias, [0f, 0f]);
            Step = new TrainingStep(Model, cfg.GlobalBatchSize, LossType.StablemaxCrossEntropy, slots: 1, microBatch);
            Sampler = new TrainSampler(data, cfg.GlobalBatchSize, cfg.EvalInterval, cfg.Seed);
            Explore = new HrmRandom(cfg.Seed ^ 0x1234);
            int b = cfg.GlobalBatchSize, l = cfg.Arch.SeqLen;
            (Tokens, Labels, Ids) = (new int[b * l], new int[b * l], new int[b]);
            Sampler.StartPass();
        }

        public HrmModel Model { get; }
        public TrainingStep Step { get; }
        public TrainSampler Sampler { get; }
        public HrmRandom Explore { get; }
        public int[] Tokens { get; }
        public int[] Labels { get; }
        public int[] Ids { get; }

        /// <summary>One step on the next batch; returns its total loss.</summary>
        public double Run(int step)
        {
            Assert.True(Sampler.NextBatch(Tokens, Labels, Ids), "the pass ran out of batches");
            var s = new StepSettings(3e-3, 3e-3, 0.9, 0.95, 0.01, 0.01);
            Step.Run(Tokens, Ids, Labels, Explore, s, step, slot: 0);
            var sums = new double[ActMetricSums.Doubles(1)];
            Step.ReadSums(sums);
            Step.ClearSums();
            return sums[ActMetricSums.Fixed];
        }

        public void Dispose()
        {
            Step.Dispose();
            Model.Dispose();
        }
    }

    private (RunConfig Cfg, PuzzleDataset Data) Setup()
    {
        string data = TrainingFixtures.Build4x4(P("data"), train: 128);
        PuzzleDataset train = PuzzleDataset.Open(data, "train");
        DatasetMetadata md = train.Metadata;
        RunConfig cfg = TrainingFixtures.Tiny(data);
        cfg = cfg with
        {
            Arch = cfg.Arch with
            {
                VocabSize = md.VocabSize, SeqLen = md.SeqLen, NumPuzzleIdentifiers = md.NumPuzzleIdentifiers,
                HaltExplorationProb = 0.5, // rows with an exploration minimum in every micro-batch
                HaltMaxSteps = 4,          // rows halt at different steps (q_halt, exploration, the maximum)
            },
        };
        return (cfg, train);
    }

    [Fact]
    public void A_step_in_micro_batches_has_the_whole_batchs_loss_gradients_and_carry()
    {
        (RunConfig cfg, PuzzleDataset data) = Setup();
        using (data)
        {
            using var whole = new Side(cfg, data, microBatch: 0);
            using var parts = new Side(cfg, data, microBatch: 4);
            Assert.Equal(1, whole.Step.MicroBatches);
            Assert.Equal(4, parts.Step.MicroBatches);
            Assert.Equal(4, parts.Model.Ws.Batch); // the activations of 4 rows, not 16
            double lossWhole = whole.Run(1), lossParts = parts.Run(1);
            // The forward of a row does not depend on the rows beside it (CPU GEMMs reduce per element in a fixed
            // order): the per-row losses are bitwise equal, only their sum is associated differently.
            Assert.Equal(lossWhole, lossParts, lossWhole * 1e-13);
            float[] gw = Download(whole.Model, whole.Model.Grads), gp = Download(parts.Model, parts.Model.Grads);
            Assert.True(RelL2(gp, gw) < 1e-6, $"dense gradients differ by {RelL2(gp, gw):E2} (relative L2)");
            Assert.True(Norm(gw) > 0);
            // SignSGD saw the same per-row gradients and ids of all 16 rows (the 4x4 set has one puzzle id: every
            // micro-batch adds to the same table row, which is updated once with the sign of the sum).
            Assert.Equal(whole.Model.ReadParameter(ParameterLayout.Names.PuzzleEmb),
                parts.Model.ReadParameter(ParameterLayout.Names.PuzzleEmb));
            AssertSameCarry(whole, parts, cfg, exact: true);

            // Later steps: the weights differ by rounding only, so the losses and halting stay together.
            for (int step = 2; step <= 8; step++)
            {
                double a = whole.Run(step), b = parts.Run(step);
                Assert.True(Math.Abs(a - b) <= 1e-4 * Math.Abs(a), $"step {step}: loss {a} whole, {b} in micro-batches");
            }
            AssertSameCarry(whole, parts, cfg, exact: false);
        }
    }

    [Fact]
    public void Micro_batches_take_every_divisor_and_refuse_the_rest()
    {
        (RunConfig cfg, PuzzleDataset data) = Setup();
        using (data)
        {
            foreach (int micro in new[] { 1, 2, 8, 16 })
            {
                using var side = new Side(cfg, data, micro);
                Assert.Equal(16 / micro, side.Step.MicroBatches);
                Assert.True(double.IsFinite(side.Run(1)));
            }
            // A bad token in the last micro-batch stops the step before the first one runs.
            using (var side = new Side(cfg, data, 4))
            {
                side.Run(1);
                int n = cfg.GlobalBatchSize, l = cfg.Arch.SeqLen;
                long z = (long)n * cfg.Arch.TotalSeqLen * cfg.Arch.HiddenSize;
                ActState before = new(n, l), after = new(n, l);
                float[] zb = new float[z], za = new float[z], scratch = new float[z];
                side.Step.SaveCarry(before, zb, scratch);
                Assert.True(side.Sampler.NextBatch(side.Tokens, side.Labels, side.Ids));
                side.Tokens[^1] = cfg.Arch.VocabSize;
                var e = Assert.Throws<ArgumentOutOfRangeException>(() => side.Step.Run(side.Tokens, side.Ids, side.Labels,
                    side.Explore, new StepSettings(1e-3, 1e-3, 0.9, 0.95, 0, 0), 2, 0));
                Assert.Contains($"row {n - 1}", e.Message, StringComparison.Ordinal);
                side.Step.SaveCarry(after, za, scratch);
                Assert.Equal(before.Steps, after.Steps);
                Assert.Equal(before.Tokens, after.Tokens);
                Assert.Equal(zb, za);
            }
            using var model = new HrmModel(cfg.Arch, new CpuBackend(1));
            foreach (int bad in new[] { 3, 5, 17, -1 })
            {
                var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
                    new TrainingStep(model, 16, LossType.StablemaxCrossEntropy, slots: 1, bad));
                Assert.Contains("divide the batch (16)", e.Message, StringComparison.Ordinal);
            }
        }
        RunConfig ok = TrainingFixtures.Tiny("d") with { MicroBatchSize = 4 };
        ok.Validate();
        var c = Assert.Throws<HrmConfigException>(() => (ok with { MicroBatchSize = 6 }).Validate());
        Assert.Contains("micro_batch_size", c.Message, StringComparison.Ordinal);
        Assert.Contains("divisor of global_batch_size (16)", c.Message, StringComparison.Ordinal);
        RunConfig parsed = RunConfigJson.Parse(RunConfigJson.Serialize(ok), ["micro_batch_size=8"], [], "test");
        Assert.Equal(8, parsed.MicroBatchSize);
        Assert.Throws<HrmConfigException>(() => RunConfigJson.Parse(RunConfigJson.Serialize(ok), ["micro_batch_size=-2"], [], "test"));
    }

    [Fact]
    public void A_run_in_micro_batches_evaluates_checkpoints_records_and_resumes_bit_for_bit()
    {
        string data = TrainingFixtures.Build4x4(P("data"));
        RunConfig cfg = TrainingFixtures.Tiny(data) with { MicroBatchSize = 4 };
        List<double> full;
        long first;
        using (Trainer a = Trainer.Create(cfg, P("a"), null, "cpu", TextWriter.Null, interactive: false))
        {
            a.Run(TestContext.Current.CancellationToken);
            full = a.Losses;
            Assert.NotNull(a.LastEval);
            Assert.True(a.LastEval!["eval/accuracy"] > 0);
            first = Directory.GetDirectories(P("a/checkpoints"))
                .Select(d => long.Parse(Path.GetFileName(d)[5..], System.Globalization.CultureInfo.InvariantCulture)).Min();
        }
        Assert.Contains("\"micro_batch\":4", File.ReadAllText(P("a/compute.json")), StringComparison.Ordinal);
        Directory.CreateDirectory(P("b/checkpoints"));
        File.Copy(P("a/config.json"), P("b/config.json"));
        File.Copy(P("a/compute.json"), P("b/compute.json"));
        File.Copy(P("a/metrics.jsonl"), P("b/metrics.jsonl"));
        CopyDir(P($"a/checkpoints/step_{first}"), P($"b/checkpoints/step_{first}"));
        var said = new StringWriter();
        using (Trainer b = Trainer.Resume(P("b"), "cpu", said, interactive: false))
        {
            b.Run(TestContext.Current.CancellationToken);
            Assert.Equal(full.Skip((int)first), b.Losses); // exact
        }
        Assert.DoesNotContain("note:", said.ToString(), StringComparison.Ordinal);
        using HrmModel ma = HrmCheckpoint.Load(P($"a/checkpoints/step_{full.Count}/model.safetensors"), new CpuBackend(1));
        using HrmModel mb = HrmCheckpoint.Load(P($"b/checkpoints/step_{full.Count}/model.safetensors"), new CpuBackend(1));
        foreach (TensorEntry e in ma.Layout.Entries) Assert.Equal(ma.ReadParameter(e.Name), mb.ReadParameter(e.Name));

        // The same checkpoint resumed with the whole batch at once: the carry moves into the workspace, and the change
        // of arithmetic is said.
        Directory.Delete(P("b"), recursive: true);
        Directory.CreateDirectory(P("b/checkpoints"));
        File.Copy(P("a/config.json"), P("b/config.json"));
        File.Copy(P("a/compute.json"), P("b/compute.json"));
        CopyDir(P($"a/checkpoints/step_{first}"), P($"b/checkpoints/step_{first}"));
        said = new StringWriter();
        using (Trainer b = Trainer.Resume(P("b"), "cpu", said, interactive: false, microBatch: 16))
        {
            b.Run(TestContext.Current.CancellationToken);
            double[] expect = [.. full.Skip((int)first)];
            Assert.Equal(expect.Length, b.Losses.Count);
            for (int i = 0; i < expect.Length; i++)
                Assert.True(Math.Abs(b.Losses[i] - expect[i]) <= 1e-4 * Math.Abs(expect[i]), $"step {first + 1 + i}");
        }
        Assert.Contains("micro-batches of 4 rows and the run continues on cpu with 2 threads (fp32):", said.ToString(),
            StringComparison.Ordinal);
    }

    [Fact]
    public void The_automatic_choice_is_the_largest_divisor_that_fits()
    {
        static long Need(int rows) => 100L * rows + 50;
        Assert.Equal(768, MicroBatchChoice.Largest(768, Need, 76_850));
        Assert.Equal(384, MicroBatchChoice.Largest(768, Need, 76_849));
        Assert.Equal(48, MicroBatchChoice.Largest(768, Need, 5_000));
        Assert.Equal(1, MicroBatchChoice.Largest(768, Need, 150));
        Assert.Equal(768, MicroBatchChoice.Largest(768, Need, 100)); // nothing fits: the whole batch, whose allocation says why
        Assert.Equal(7, MicroBatchChoice.Largest(7, Need, 750)); // a prime batch: all or one row
        Assert.Equal(1, MicroBatchChoice.Largest(7, Need, 749));

        // On this machine the tiny run fits: auto takes the whole batch, says nothing and records 0.
        string data = TrainingFixtures.Build4x4(P("data"));
        var said = new StringWriter();
        using (Trainer t = Trainer.Create(TrainingFixtures.Tiny(data), P("run"), null, "cpu", said, interactive: false))
            Assert.Equal(1, t.MicroBatches);
        Assert.DoesNotContain("micro-batches", said.ToString(), StringComparison.Ordinal);
        Assert.Contains("\"micro_batch\":0", File.ReadAllText(P("run/compute.json")), StringComparison.Ordinal);
        // What the estimate counts: split, the carry bank of all rows comes on top of fewer activations.
        using var model = new HrmModel(TrainingFixtures.Tiny(data).Arch with { VocabSize = 6, SeqLen = 16, NumPuzzleIdentifiers = 1 },
            new CpuBackend(1));
        long whole = MicroBatchChoice.NeedBytes(model, 16, 16), quarter = MicroBatchChoice.NeedBytes(model, 16, 4);
        Assert.True(quarter < whole, $"{quarter} >= {whole}");
        Assert.True(whole >= model.ActivationBytes(16, training: true), "the estimate leaves out the activations");
    }

    private static void AssertSameCarry(Side a, Side b, RunConfig cfg, bool exact)
    {
        int n = cfg.GlobalBatchSize, l = cfg.Arch.SeqLen;
        long z = (long)n * cfg.Arch.TotalSeqLen * cfg.Arch.HiddenSize;
        ActState sa = new(n, l), sb = new(n, l);
        float[] za = new float[z], zla = new float[z], zb = new float[z], zlb = new float[z];
        a.Step.SaveCarry(sa, za, zla);
        b.Step.SaveCarry(sb, zb, zlb);
        Assert.Equal(sa.Steps, sb.Steps);
        Assert.Equal(sa.Halted, sb.Halted);
        Assert.Equal(sa.Tokens, sb.Tokens);
        Assert.Equal(sa.Labels, sb.Labels);
        Assert.Equal(sa.PuzzleIds, sb.PuzzleIds);
        if (exact)
        {
            Assert.Equal(za, zb);
            Assert.Equal(zla, zlb);
        }
        else
        {
            Assert.True(RelL2(zb, za) < 1e-3, $"z_H differs by {RelL2(zb, za):E2}");
            Assert.Contains(sa.Steps, s => s != sa.Steps[0]); // rows at different steps moved through the bank
        }
    }

    private static float[] Download(HrmModel m, Buf b)
    {
        var x = new float[b.Length];
        m.Backend.Download(b, x);
        return x;
    }

    private static double Norm(float[] a) => Math.Sqrt(a.Sum(v => (double)v * v));

    private static double RelL2(float[] a, float[] b)
    {
        double d = 0, n = 0;
        for (int i = 0; i < a.Length; i++)
        {
            d += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
            n += (double)b[i] * b[i];
        }
        return Math.Sqrt(d / Math.Max(n, 1e-300));
    }

    private static void CopyDir(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
    }
}
