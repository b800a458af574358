using Hrm.Runtime.Config;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Hrm.Bench.Torch.Tests;

/// <summary>
/// The TorchSharp twin (autograd, written from the spec) as a second opinion on our runtime: same weights and
/// inputs give the same logits and Q logits over two segments (within 1e-4 relative L2 norm) and the same
/// 1-step gradients of a fixed scalar loss for every parameter tensor and the puzzle rows (within 1e-3).
/// </summary>
public class TwinParityTests(ITestOutputHelper output)
{
    public static TheoryData<string> Configs => new() { "small", "small-learned", "sudoku" };

    /// <summary>
    /// small: tiny widths, 2x2 cycles, 3 puzzle ids, a zero-padded 2-position prefix; small-learned: the same with
    /// learned positions instead of RoPE; sudoku: the real Sudoku config.
    /// </summary>
    private static HrmConfig Config(string name) => name switch
    {
        "small" => HrmPresets.Get("tiny") with { NumPuzzleIdentifiers = 3, PuzzleEmbNdim = 96, SeqLen = 20 },
        "small-learned" => Config("small") with { PosEncodings = PosEncoding.Learned },
        _ => HrmPresets.Get("sudoku-extreme-1k"),
    };

    private static void RequireTorch()
    {
        bool ok = TorchNative.TryLoad(out string reason);
        Assert.SkipUnless(ok, reason);
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void Two_segments_give_the_same_logits_and_q_logits(string config)
    {
        RequireTorch();
        HrmConfig cfg = Config(config);
        const int batch = 2;
        using var f = new TwinFixture(cfg, batch, training: false, seed: 5);
        ActState state = f.Ours.Evaluate(f.Tokens, f.Ids, maxSteps: 2);
        var logits = new float[batch * cfg.SeqLen * cfg.VocabSize];
        f.Ours.ReadLogits(logits);
        float[] q = [state.QHalt[0], state.QContinue[0], state.QHalt[1], state.QContinue[1]];

        using DisposeScope scope = NewDisposeScope();
        using TwinCarry carry = f.Twin.InitialCarry(batch);
        Tensor tokens = f.Twin.Tokens(f.Tokens, batch), rows = f.Twin.PuzzleRows(f.Ids);
        TorchHrm.SegmentOutput o;
        using (no_grad())
        {
            f.Twin.Segment(carry, tokens, rows, grad: false);
            o = f.Twin.Segment(carry, tokens, rows, grad: false);
        }
        double relLogits = TwinFixture.RelNorm(TorchHrm.ToArray(o.Logits), logits);
        double relQ = TwinFixture.RelNorm(TorchHrm.ToArray(o.Q), q);
        output.WriteLine($"{config}: logits rel {relLogits:G3}, q rel {relQ:G3}");
        Assert.InRange(relLogits, 0, 1e-4);
        Assert.InRange(relQ, 0, 1e-4);
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void One_step_gradients_of_a_fixed_loss_match_for_every_parameter(string config)
    {
        RequireTorch();
        HrmConfig cfg = Config(config);
        const int batch = 2;
        using var f = new TwinFixture(cfg, batch, training: true, seed: 7);
        var rng = new Random(11);
        float[] r = Uniform(rng, batch * cfg.SeqLen * cfg.VocabSize), rq = Uniform(rng, 2 * batch);

        // Ours: segment 1 from H_init/L_init (no record), segment 2 recorded; loss = Σ r·logits + Σ rq·q.
        var state = new ActState(batch, cfg.SeqLen);
        f.Ours.ActStep(state, f.Tokens, f.Ids, default, training: false);
        f.Ours.Segment(record: true);
        f.Ours.Backend.Upload(r, f.Ours.LogitsGrad);
        f.Ours.Backend.Upload(rq, f.Ours.QGrad);
        f.Ours.ZeroGrads();
        f.Ours.Backward();

        // Twin: the same two segments with autograd on the second, then backward of the same scalar.
        using DisposeScope scope = NewDisposeScope();
        using TwinCarry carry = f.Twin.InitialCarry(batch);
        Tensor tokens = f.Twin.Tokens(f.Tokens, batch);
        Tensor rows = f.Twin.PuzzleRows(f.Ids);
        using (no_grad()) f.Twin.Segment(carry, tokens, rows, grad: false);
        rows.requires_grad_();
        TorchHrm.SegmentOutput o = f.Twin.Segment(carry, tokens, rows, grad: true);
        Tensor loss = (o.Logits * tensor(r, o.Logits.shape)).sum() + (o.Q * tensor(rq, o.Q.shape)).sum();
        f.Twin.ZeroGrad();
        loss.backward();

        double worst = 0;
        foreach (TensorEntry e in f.Ours.Layout.Entries)
        {
            if (e.Kind != TensorKind.Parameter) continue;
            var ours = new float[e.Count];
            f.Ours.Backend.Download(f.Ours.Grad(e.Name), ours);
            double rel = TwinFixture.RelNorm(f.Twin.ReadGrad(e.Name), ours);
            worst = Math.Max(worst, rel);
            Assert.True(rel < 1e-3, $"{e.Name}: relative error {rel:G3}");
        }
        var ourRows = new float[f.Ours.PuzzleRowsGrad.Length];
        f.Ours.Backend.Download(f.Ours.PuzzleRowsGrad, ourRows);
        double relRows = TwinFixture.RelNorm(TorchHrm.ToArray(rows.grad!), ourRows);
        output.WriteLine($"{config}: worst parameter gradient rel {worst:G3}, puzzle rows rel {relRows:G3}");
        Assert.InRange(relRows, 0, 1e-3);
    }

    private static float[] Uniform(Random rng, int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
}
