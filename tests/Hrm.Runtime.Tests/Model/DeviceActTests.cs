using Hrm.Runtime.Backends;
using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Config;
using Hrm.Runtime.Model;
using Hrm.Runtime.Numerics;
using Hrm.Runtime.Tests.TestUtil;

namespace Hrm.Runtime.Tests.Model;

/// <summary>
/// The ACT call on the workspace carry (nothing read back, what the trainer runs) against the host-state call and
/// against the halting rule of spec 1.10 worked out here from the Q logits each call returns.
/// </summary>
public sealed class DeviceActTests
{
    private const int Batch = 12;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Halting_follows_the_q_logits_and_the_reference_exploration_draws(bool noActContinue)
    {
        HrmConfig cfg = ModelFixtures.Micro() with { HaltMaxSteps = 5, HaltExplorationProb = 0.5, NoActContinue = noActContinue };
        using HrmModel model = ModelFixtures.Create(cfg, new CpuBackend(1), Batch, training: true, seed: 21);
        var state = new ActState(Batch, cfg.SeqLen);
        var rng = new HrmRandom(77);
        var oracle = new HrmRandom(77);
        int m = cfg.HaltMaxSteps;
        int halts = 0, continues = 0, heldBack = 0;
        for (int call = 0; call < 14; call++)
        {
            (int[] tokens, int[] ids) = ModelFixtures.Inputs(cfg, Batch, 100 + call);
            int[] labels = TestData.Ints(200 + call, Batch * cfg.SeqLen, 0, cfg.VocabSize);
            bool[] reset = (bool[])state.Halted.Clone();
            int[] steps = (int[])state.Steps.Clone();
            int[] before = (int[])state.Tokens.Clone();
            model.ActStep(state, tokens, ids, labels, training: true, rng);
            // The reference's draws: B uniform doubles (explore?), then B minimums in [2, M].
            var explore = new bool[Batch];
            for (int b = 0; b < Batch; b++) explore[b] = oracle.NextDouble() < cfg.HaltExplorationProb;
            for (int b = 0; b < Batch; b++)
            {
                int minSteps = oracle.NextInt(2, m + 1);
                int s = (reset[b] ? 0 : steps[b]) + 1;
                bool says = noActContinue ? state.QHalt[b] > 0 : state.QHalt[b] > state.QContinue[b];
                bool want = (s >= m || says) && s >= (explore[b] ? minSteps : 0);
                Assert.Equal(s, state.Steps[b]);
                Assert.Equal(want, state.Halted[b]);
                int[] rowWant = reset[b] ? tokens : before;
                Assert.Equal(rowWant.AsSpan(b * cfg.SeqLen, cfg.SeqLen).ToArray(), state.Tokens.AsSpan(b * cfg.SeqLen, cfg.SeqLen).ToArray());
                Assert.Equal(reset[b] ? ids[b] : state.PuzzleIds[b], state.PuzzleIds[b]);
                if (reset[b])
                    Assert.Equal(labels.AsSpan(b * cfg.SeqLen, cfg.SeqLen).ToArray(), state.Labels.AsSpan(b * cfg.SeqLen, cfg.SeqLen).ToArray());
                if (want) halts++;
                else continues++;
                if (says && !want && s < m) heldBack++;
            }
        }
        Assert.True(halts > 5 && continues > 5, $"halts {halts}, continues {continues}: the rule is not exercised");
        Assert.True(heldBack > 0, "no row was held back by exploration");
    }

    [Fact]
    public void The_workspace_carry_call_is_the_host_state_call_bit_for_bit()
    {
        HrmConfig cfg = ModelFixtures.Micro() with { HaltMaxSteps = 4, HaltExplorationProb = 0.3 };
        using HrmModel a = ModelFixtures.Create(cfg, new CpuBackend(1), Batch, training: true, seed: 5);
        using HrmModel b = ModelFixtures.Create(cfg, new CpuBackend(1), Batch, training: true, seed: 5);
        var state = new ActState(Batch, cfg.SeqLen);
        var seen = new ActState(Batch, cfg.SeqLen);
        HrmRandom ra = new(3), rb = new(3);
        int l = cfg.SeqLen, v = cfg.VocabSize;
        for (int call = 0; call < 8; call++)
        {
            (int[] tokens, int[] ids) = ModelFixtures.Inputs(cfg, Batch, 300 + call);
            int[] labels = TestData.Ints(400 + call, Batch * l, 0, v);
            a.ActStep(state, tokens, ids, labels, training: true, ra);
            b.ActStep(tokens, ids, labels, training: true, rb);
            b.SaveCarry(seen);
            Assert.Equal(state.Steps, seen.Steps);
            Assert.Equal(state.Halted, seen.Halted);
            Assert.Equal(state.Tokens, seen.Tokens);
            Assert.Equal(state.Labels, seen.Labels);
            Assert.Equal(state.PuzzleIds, seen.PuzzleIds);
            float[] la = new float[Batch * l * v], lb = new float[la.Length];
            a.ReadLogits(la);
            b.ReadLogits(lb);
            Assert.Equal(la, lb);
            var target = new float[Batch];
            b.Backend.Download(b.Ws.Target, target);
            Assert.Equal(state.TargetQContinue, target);
        }
    }

    [Fact]
    public void A_reserved_workspace_starts_with_every_row_halted_and_loads_a_saved_carry_back()
    {
        HrmConfig cfg = ModelFixtures.Micro();
        using HrmModel model = ModelFixtures.Create(cfg, new CpuBackend(1), Batch, training: false, seed: 8);
        var fresh = new ActState(Batch, cfg.SeqLen);
        Array.Fill(fresh.Halted, false);
        model.SaveCarry(fresh);
        Assert.All(fresh.Halted, Assert.True);
        Assert.All(fresh.Steps, s => Assert.Equal(0, s));

        (int[] tokens, int[] ids) = ModelFixtures.Inputs(cfg, Batch, 9);
        model.ActStep(tokens, ids, default, training: false);
        var saved = new ActState(Batch, cfg.SeqLen);
        model.SaveCarry(saved);
        Assert.Equal(tokens, saved.Tokens);
        Assert.All(saved.Labels, x => Assert.Equal(0, x));
        model.ResetActCarry();
        model.LoadCarry(saved);
        var again = new ActState(Batch, cfg.SeqLen);
        model.SaveCarry(again);
        Assert.Equal(saved.Steps, again.Steps);
        Assert.Equal(saved.Halted, again.Halted);
        Assert.Equal(saved.Tokens, again.Tokens);
        Assert.Equal(saved.PuzzleIds, again.PuzzleIds);

        var wrong = new ActState(Batch + 1, cfg.SeqLen);
        Assert.Throws<ArgumentException>(() => model.LoadCarry(wrong));
        int[] bad = (int[])tokens.Clone();
        bad[3] = cfg.VocabSize; // validated before anything is uploaded, even in a row that would not be taken
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => model.ActStep(bad, ids, default, training: false));
        Assert.Contains("token", e.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => model.ActStep(tokens, ids, default, training: true, new HrmRandom(1)));
    }

    [Fact]
    public void Reserve_tells_the_backend_the_shapes_to_reserve_scratch_for()
    {
        HrmConfig cfg = ModelFixtures.Micro();
        var backend = new RecordingBackend(1);
        using var model = new HrmModel(cfg, backend);
        model.Initialize(new HrmRandom(1));
        model.Reserve(3, training: false);
        model.Reserve(5, training: true);
        Assert.Equal(
            [
                new ScratchShapes(3, cfg.TotalSeqLen, cfg.SeqLen, cfg.HiddenSize, cfg.NumHeads, cfg.HeadDim, cfg.Intermediate, cfg.VocabSize, false),
                new ScratchShapes(5, cfg.TotalSeqLen, cfg.SeqLen, cfg.HiddenSize, cfg.NumHeads, cfg.HeadDim, cfg.Intermediate, cfg.VocabSize, true),
            ],
            backend.Reserved);
        // The GEMM weights: four per block, all distinct views of the parameters.
        Assert.Equal(4 * (cfg.HLayers + cfg.LLayers), backend.ReservedWeights.Distinct().Count());
        Assert.Contains(backend.ReservedWeights, w => w.Length == 3L * cfg.HiddenSize * cfg.HiddenSize);
    }
}
