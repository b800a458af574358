using Hrm.Runtime.Backends;
using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Backends.Reference;
using Hrm.Runtime.Loss;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;
using Hrm.Runtime.Numerics;
using Hrm.Runtime.Tests.TestUtil;
using Hrm.Train.Training;

namespace Hrm.Train.Tests.Training;

/// <summary>
/// Three ACT training steps against the PyTorch reference HRM itself (<see cref="ReferenceFixture"/> rope-fp32:
/// the reference's ACT wrapper, ACTLossHead and autograd, forward_dtype float32, exploration off): the carry streams
/// from step to step, so rows halt at different steps (by q_halt &gt; q_continue or at halt_max_steps) and take the
/// next batch's row; at each step the halting, the step counts, the metrics, the three losses and the gradient of
/// (1/B)·loss w.r.t. every parameter and the puzzle-embedding rows must be the reference's, and so must the puzzle
/// embeddings after its sparse SignSGD step (the dense weights stay put: the reference's AdamATan2 is a CUDA
/// extension, not run here).
/// </summary>
public sealed class ReferenceTrainingParityTests(ITestOutputHelper output)
{
    // Measured 2026-11-30: losses within 6.3e-7 (CPU backend) and 7.8e-7 (reference backend, double), gradients within
    // 3.2e-6 and 3.1e-6 relative (the worst tensor): PyTorch's own fp32 rounding. The table after SignSGD: equal on
    // the CPU backend, 3.9e-8 on the reference backend (its double table rounded to float at the end).
    [Theory]
    [InlineData("cpu", 1e-5, 1e-4)]
    [InlineData("reference", 1e-5, 1e-4)]
    public void Training_steps_give_the_reference_losses_and_gradients(string device, double lossTol, double gradTol)
    {
        using ReferenceFixture f = ReferenceFixture.Open("rope-fp32");
        IHrmBackend backend = device == "cpu" ? new CpuBackend(2) : new ReferenceBackend();
        using HrmModel m = HrmCheckpoint.Load(f.CheckpointPath, backend, f.Config with { HaltExplorationProb = 0 });
        int batch = f.Ints("train/step1/puzzle_identifiers").Length, l = m.Config.SeqLen, v = m.Config.VocabSize;
        m.Reserve(batch, training: true);
        var act = new ActState(batch, l);
        var loss = new HrmLoss(batch, l, v);
        var logits = new float[batch * l * v];
        var dLogits = new float[logits.Length];
        var dq = new float[2 * batch];
        double worstLoss = 0, worstGrad = 0, worstTable = 0;
        float[] signSgd = f.Floats("train/signsgd_lr_weight_decay"); // lr, weight decay
        // The run's all_config.yaml, read as `hrm train --config` reads it, says the same rates (no warmup, no decay).
        RunConfig run = RunConfigJson.Parse(File.ReadAllText(f.ConfigPath), [], [], f.ConfigPath);
        Assert.Equal(((float)run.PuzzleEmbLr, (float)run.PuzzleEmbWeightDecay, 0, 1.0), (signSgd[0], signSgd[1],
            run.LrWarmupSteps, run.LrMinRatio));
        for (int step = 1; step <= 3; step++)
        {
            string pre = $"train/step{step}";
            m.ActStep(act, f.Ints($"{pre}/inputs"), f.Ints($"{pre}/puzzle_identifiers"), f.Ints($"{pre}/labels"),
                training: true, new HrmRandom(1));
            Assert.Equal(f.Ints($"{pre}/halted"), act.Halted.Select(h => h ? 1 : 0));
            Assert.Equal(f.Ints($"{pre}/steps"), act.Steps);
            m.ReadLogits(logits);
            LossParts parts = loss.Compute(logits, act.Labels, act.QHalt, act.QContinue, act.TargetQContinue, true,
                batch, dLogits, dq);
            (string Name, double Ours)[] losses =
                [("lm_loss", parts.LmLoss), ("q_halt_loss", parts.QHaltLoss), ("q_continue_loss", parts.QContinueLoss)];
            var metrics = new HrmMetrics(); // ACTLossHead's metrics of this call: the halted rows with labels
            metrics.Add(loss, parts, act.Halted, act.Steps, act.QHalt);
            double[] ourMetrics =
                [metrics.Count, metrics.Accuracy, metrics.ExactAccuracy, metrics.QHaltAccuracy, metrics.Steps];
            float[] theirMetrics = f.Floats($"{pre}/metrics"); // in metricNames' order
            string[] metricNames = ["count", "accuracy", "exact_accuracy", "q_halt_accuracy", "steps"];
            for (int i = 0; i < ourMetrics.Length; i++)
            {
                Assert.True(Math.Abs(ourMetrics[i] - theirMetrics[i]) < 1e-6,
                    $"step {step}, {metricNames[i]}: ours {ourMetrics[i]}, the reference's {theirMetrics[i]}");
            }
            foreach ((string name, double ours) in losses)
            {
                double theirs = f.Floats($"{pre}/{name}")[0], rel = Math.Abs(ours - theirs) / Math.Abs(theirs);
                worstLoss = Math.Max(worstLoss, rel);
                Assert.True(rel < lossTol, $"step {step} {name}: ours {ours}, the reference's {theirs} ({rel:G3})");
            }

            m.Backend.Upload(dLogits, m.LogitsGrad);
            m.Backend.Upload(dq, m.QGrad);
            m.ZeroGrads();
            m.Backward();
            var grads = new List<(string Name, float[] Ours)>();
            foreach (TensorEntry e in m.Layout.Entries.Where(e => e.Kind == TensorKind.Parameter))
            {
                var g = new float[e.Count];
                m.Backend.Download(m.Grad(e.Name), g);
                grads.Add((e.Name, g));
            }
            var rows = new float[batch * m.Config.PuzzleEmbNdim];
            m.Backend.Download(m.PuzzleRowsGrad, rows);
            grads.Add(("model.inner.puzzle_emb.local_weights", rows));
            Assert.Equal(grads.Count, f.GradientNames(pre).Count());
            foreach ((string name, float[] ours) in grads)
            {
                double rel = ReferenceFixture.RelNorm(ours, f.Floats($"{pre}/grad/{name}"));
                worstGrad = Math.Max(worstGrad, rel);
                Assert.True(rel < gradTol, $"step {step}: gradient of {name} {rel:G3} from the reference's");
            }
            // The reference's sparse SignSGD step (train_batch runs it after every backward): both sum the rows of a
            // puzzle (rows 0 and 1 share one) before the sign, so the table must agree to the last bit where the sign
            // does, and within rounding elsewhere.
            m.Backend.SignSgdRows(m.Param(ParameterLayout.Names.PuzzleEmb), m.PuzzleRowsGrad, m.PuzzleIdsBuffer, batch,
                m.Config.PuzzleEmbNdim, signSgd[0], signSgd[1]);
            double relTable = ReferenceFixture.RelNorm(m.ReadParameter(ParameterLayout.Names.PuzzleEmb),
                f.Floats($"{pre}/puzzle_emb_after_signsgd"));
            worstTable = Math.Max(worstTable, relTable);
            Assert.True(relTable < 1e-6,
                $"step {step}: the puzzle embeddings after SignSGD are {relTable:G3} from the reference's");
            output.WriteLine($"step {step}: halted {string.Concat(act.Halted.Select(h => h ? '1' : '0'))}, steps " +
                $"{string.Join(",", act.Steps)}, lm_loss {parts.LmLoss:G8}");
        }
        output.WriteLine($"{device}: worst loss {worstLoss:G3}, worst gradient {worstGrad:G3}, worst table after " +
            $"SignSGD {worstTable:G3} (relative)");
    }
}
