using Hrm.Runtime.Config;
using Hrm.Runtime.Loss;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;
using Hrm.Runtime.Numerics;
using Hrm.Train.Training;

namespace Hrm.Bench.Torch.Tests;

/// <summary>
/// Whole training steps against the twin's (autograd loss, AdamATan2 and SignSGD written with torch ops): the same
/// loss trajectory over a few steps, which covers the ACT bookkeeping, the loss, both optimisers and the streaming
/// carry. Exploration is off so that halting is decided by the Q logits alone, as in both implementations.
/// </summary>
public class TwinTrainingTests(ITestOutputHelper output)
{
    [Fact]
    public void Training_steps_give_the_same_loss_trajectory()
    {
        Assert.SkipUnless(TorchNative.TryLoad(out string reason), reason);
        HrmConfig cfg = HrmPresets.Get("tiny") with
        {
            NumPuzzleIdentifiers = 3, SeqLen = 20, HaltMaxSteps = 3, HaltExplorationProb = 0,
        };
        const int batch = 4, steps = 4;
        const double lr = 1e-4, wd = 1.0;
        using var f = new TwinFixture(cfg, batch, training: true, seed: 13);
        using var twin = new TorchTrainer(f.Twin, batch) { Lr = lr, PuzzleEmbLr = lr, WeightDecay = wd, PuzzleEmbWeightDecay = wd };
        HrmModel m = f.Ours;
        Buf adamM = m.Backend.Allocate(m.Layout.DenseElements, "m"), adamV = m.Backend.Allocate(m.Layout.DenseElements, "v");
        m.Backend.Fill(adamM, 0f);
        m.Backend.Fill(adamV, 0f);
        var act = new ActState(batch, cfg.SeqLen);
        var loss = new HrmLoss(batch, cfg.SeqLen, cfg.VocabSize);
        var logits = new float[batch * cfg.SeqLen * cfg.VocabSize];
        var dLogits = new float[logits.Length];
        var dq = new float[2 * batch];
        var rng = new Random(3);
        for (int step = 1; step <= steps; step++)
        {
            // A fresh loader batch each step; only halted rows take it.
            int[] tokens = Enumerable.Range(0, batch * cfg.SeqLen).Select(_ => rng.Next(cfg.VocabSize)).ToArray();
            int[] labels = tokens.Select(t => rng.Next(4) == 0 ? HrmLoss.IgnoreLabel : (t + 1) % cfg.VocabSize).ToArray();
            int[] ids = Enumerable.Range(0, batch).Select(_ => rng.Next(cfg.NumPuzzleIdentifiers)).ToArray();

            m.ActStep(act, tokens, ids, labels, training: true, new HrmRandom(1));
            m.ReadLogits(logits);
            double ours = loss.Compute(logits, act.Labels, act.QHalt, act.QContinue, act.TargetQContinue, true, batch,
                dLogits, dq).Total;
            m.Backend.Upload(dLogits, m.LogitsGrad);
            m.Backend.Upload(dq, m.QGrad);
            m.ZeroGrads();
            m.Backward();
            m.Backend.AdamATan2Step(m.Params.Slice(0, m.Layout.DenseElements), m.Grads, adamM, adamV, lr, 0.9, 0.95, wd, step);
            m.Backend.SignSgdRows(m.Param(ParameterLayout.Names.PuzzleEmb), m.PuzzleRowsGrad, m.PuzzleIdsBuffer, batch,
                cfg.PuzzleEmbNdim, lr, wd);

            double theirs = twin.Step(tokens, labels, ids, batch);
            double rel = Math.Abs(ours - theirs) / Math.Abs(theirs);
            string halted = string.Concat(act.Halted.Select(h => h ? '1' : '0'));
            output.WriteLine($"step {step}: loss ours {ours:G8}, twin {theirs:G8}, rel {rel:G3}, halted {halted}");
            Assert.True(rel < 1e-4, $"step {step}: loss {ours} vs the twin's {theirs}");
        }
        string[] checkedAfter = [ParameterLayout.Names.LmHead, ParameterLayout.Names.PuzzleEmb, ParameterLayout.Names.QHeadBias];
        foreach (string name in checkedAfter)
        {
            double rel = TwinFixture.RelNorm(f.Twin.Read(name), m.ReadParameter(name));
            output.WriteLine($"{name} after {steps} steps: rel {rel:G3}");
            Assert.True(rel < 1e-4, $"{name} after {steps} steps: relative difference {rel:G3}");
        }
        m.Backend.Free(adamM);
        m.Backend.Free(adamV);
    }
}
