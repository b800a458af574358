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
/// ACT training steps against the PyTorch reference HRM itself (<see cref="ReferenceFixture"/> rope-fp32: the
/// reference's ACT wrapper, ACTLossHead and autograd, forward_dtype float32, halt_exploration_prob 0.5 with its draws
/// replayed): four steps with the stablemax loss, where the carry streams from step to step (at step 2 row 0 halts by
/// q_halt &gt; q_continue, row 1 would but its exploration minimum holds it to step 3, row 0 starts again on new data
/// at step 3), and one with the softmax loss. At each step the halting, the step counts, the Q logits and bootstrap
/// targets, the metrics, the three losses and the gradient of (1/B)·loss w.r.t. every parameter and the
/// puzzle-embedding rows must be the reference's, and so must the puzzle embeddings after its sparse SignSGD step
/// (the dense weights stay put: the reference's AdamATan2 is a CUDA extension, not run here).
/// </summary>
public sealed class ReferenceTrainingParityTests(ITestOutputHelper output)
{
    // Measured 2026-11-30 (README "Parity"): see the output lines; tolerances 1e-5 (losses, Q logits and targets)
    // and 1e-4 (gradients, worst tensor) against PyTorch's own fp32 rounding of a few 1e-7 to a few 1e-6.
    [Theory]
    [InlineData("train", 4, "cpu")]
    [InlineData("train", 4, "reference")]
    [InlineData("train_softmax", 1, "cpu")]
    [InlineData("train_softmax", 1, "reference")]
    public void Training_steps_give_the_reference_losses_and_gradients(string run, int steps, string device)
    {
        const double lossTol = 1e-5, gradTol = 1e-4;
        using ReferenceFixture f = ReferenceFixture.Open("rope-fp32");
        IHrmBackend backend = device == "cpu" ? new CpuBackend(2) : new ReferenceBackend();
        using HrmModel m = HrmCheckpoint.Load(f.CheckpointPath, backend, f.Config);
        Assert.True(m.ExploresWhenTraining); // halt_exploration_prob 0.5: the reference's draws are replayed
        int batch = f.Ints($"{run}/step1/puzzle_identifiers").Length, l = m.Config.SeqLen, v = m.Config.VocabSize;
        m.Reserve(batch, training: true);
        var act = new ActState(batch, l);
        bool softmax = run == "train_softmax";
        var loss = new HrmLoss(batch, l, v, softmax ? LossType.SoftmaxCrossEntropy : LossType.StablemaxCrossEntropy);
        var logits = new float[batch * l * v];
        var dLogits = new float[logits.Length];
        var dq = new float[2 * batch];
        double worstLoss = 0, worstQ = 0, worstGrad = 0, worstTable = 0;
        float[] signSgd = f.Floats("train/signsgd_lr_weight_decay"); // lr, weight decay
        // The run's all_config.yaml, read as `hrm train --config` reads it, says the same rates (no warmup, no decay)
        // and the stablemax loss.
        RunConfig config = RunConfigJson.Parse(File.ReadAllText(f.ConfigPath), [], [], f.ConfigPath);
        Assert.Equal(((float)config.PuzzleEmbLr, (float)config.PuzzleEmbWeightDecay, 0, 1.0, "stablemax_cross_entropy"),
            (signSgd[0], signSgd[1], config.LrWarmupSteps, config.LrMinRatio, config.LossType));
        for (int step = 1; step <= steps; step++)
        {
            string pre = $"{run}/step{step}";
            m.ActStep(act, f.Ints($"{pre}/inputs"), f.Ints($"{pre}/puzzle_identifiers"), f.Ints($"{pre}/labels"),
                exploration: f.Ints($"{pre}/min_halt_steps"));
            Assert.Equal(f.Ints($"{pre}/halted"), act.Halted.Select(h => h ? 1 : 0));
            Assert.Equal(f.Ints($"{pre}/steps"), act.Steps);
            (string Name, float[] Ours)[] qs =
            [
                ("q_halt_logits", act.QHalt), ("q_continue_logits", act.QContinue),
                ("target_q_continue", act.TargetQContinue),
            ];
            foreach ((string name, float[] ours) in qs)
            {
                double rel = ReferenceFixture.RelNorm(ours, f.Floats($"{pre}/{name}"));
                worstQ = Math.Max(worstQ, rel);
                Assert.True(rel < lossTol, $"step {step} {name}: {rel:G3} from the reference's");
            }
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
            if (softmax) continue; // that run took no SignSGD step
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
        }
        output.WriteLine($"{run} on {device}: worst loss {worstLoss:G3}, Q logits and targets {worstQ:G3}, gradient " +
            $"{worstGrad:G3}, table after SignSGD {worstTable:G3} (relative)");
    }
}
