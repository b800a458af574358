using Hrm.Runtime.Backends.Reference;
using Hrm.Runtime.Config;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;
using Hrm.Runtime.Numerics;

namespace Hrm.Runtime.Tests.Model;

public class ActTests
{
    [Fact]
    public void Fresh_model_q_logits_are_minus_five_and_evaluation_runs_exactly_max_steps()
    {
        HrmConfig cfg = ModelFixtures.Micro(2, 2);
        using var model = new HrmModel(cfg, new ReferenceBackend());
        model.Initialize(new HrmRandom(9));
        model.Reserve(3, training: false);
        (int[] tokens, int[] ids) = ModelFixtures.Inputs(cfg, 3, 2);
        ActState s = model.Evaluate(tokens, ids, maxSteps: 5);
        Assert.All(s.Steps, v => Assert.Equal(5, v));
        Assert.All(s.Halted, Assert.True);
        Assert.All(s.QHalt, v => Assert.Equal(-5f, v));
        Assert.All(s.QContinue, v => Assert.Equal(-5f, v));
    }

    [Fact]
    public void Evaluation_equals_running_segments_by_hand_from_the_initial_states()
    {
        HrmConfig cfg = ModelFixtures.Micro(2, 2);
        using var model = ModelFixtures.Create(cfg, new ReferenceBackend(), 2, training: false, seed: 3);
        (int[] tokens, int[] ids) = ModelFixtures.Inputs(cfg, 2, 8);
        model.Evaluate(tokens, ids, maxSteps: 3);
        var logits = new float[2 * cfg.SeqLen * cfg.VocabSize];
        model.ReadLogits(logits);

        var ws = model.Ws;
        int t = cfg.TotalSeqLen, c = cfg.HiddenSize;
        float[] hInit = model.ReadParameter(ParameterLayout.Names.HInit), lInit = model.ReadParameter(ParameterLayout.Names.LInit);
        var zH = new float[2 * t * c];
        var zL = new float[2 * t * c];
        for (int i = 0; i < 2 * t; i++)
        {
            hInit.CopyTo(zH, i * c);
            lInit.CopyTo(zL, i * c);
        }
        model.Backend.Upload(zH, ws.ZH);
        model.Backend.Upload(zL, ws.ZL);
        model.SetInputs(tokens, ids);
        for (int s = 0; s < 3; s++) model.Segment(record: false);
        var manual = new float[logits.Length];
        model.ReadLogits(manual);
        Assert.Equal(manual, logits);
    }

    [Fact]
    public void Recording_does_not_change_the_forward()
    {
        HrmConfig cfg = ModelFixtures.Micro(2, 3);
        using var model = ModelFixtures.Create(cfg, new ReferenceBackend(), 2, training: true, seed: 4);
        (int[] tokens, int[] ids) = ModelFixtures.Inputs(cfg, 2, 1);
        var a = new float[2 * cfg.SeqLen * cfg.VocabSize];
        var b = new float[a.Length];
        var carry = new float[2 * cfg.TotalSeqLen * cfg.HiddenSize];
        model.SetInputs(tokens, ids);
        model.Backend.Upload(carry.Select((_, i) => MathF.Sin(i)).ToArray(), model.Ws.ZH);
        model.Backend.Upload(carry.Select((_, i) => MathF.Cos(i)).ToArray(), model.Ws.ZL);
        model.Backend.Download(model.Ws.ZH, carry);
        var zl = new float[carry.Length];
        model.Backend.Download(model.Ws.ZL, zl);
        model.Segment(record: false);
        model.ReadLogits(a);
        model.Backend.Upload(carry, model.Ws.ZH);
        model.Backend.Upload(zl, model.Ws.ZL);
        model.Segment(record: true);
        model.ReadLogits(b);
        Assert.Equal(a, b);
    }

    [Fact]
    public void Training_halts_only_at_max_steps_while_q_is_untrained_and_computes_a_target()
    {
        HrmConfig cfg = ModelFixtures.Micro() with { HaltMaxSteps = 3, HaltExplorationProb = 0 };
        using var model = new HrmModel(cfg, new ReferenceBackend());
        model.Initialize(new HrmRandom(9));
        model.Reserve(2, training: true);
        var state = new ActState(2, cfg.SeqLen);
        var rng = new HrmRandom(1);
        (int[] tokens, int[] ids) = ModelFixtures.Inputs(cfg, 2, 2);
        (int[] tokens2, int[] ids2) = ModelFixtures.Inputs(cfg, 2, 3);
        model.ActStep(state, tokens, ids, default, training: true, rng);
        Assert.Equal([1, 1], state.Steps);
        Assert.Equal([false, false], state.Halted);
        // q_halt == q_continue == -5 everywhere, so the target is sigmoid(-5).
        Assert.All(state.TargetQContinue, v => Assert.Equal(1f / (1f + MathF.Exp(5f)), v, 6));
        model.ActStep(state, tokens2, ids2, default, training: true, rng);
        Assert.Equal(tokens, state.Tokens); // rows still thinking keep their data
        model.ActStep(state, tokens2, ids2, default, training: true, rng);
        Assert.Equal([3, 3], state.Steps);
        Assert.Equal([true, true], state.Halted);
        model.ActStep(state, tokens2, ids2, default, training: true, rng);
        Assert.Equal([1, 1], state.Steps); // halted rows were reset and took the new batch
        Assert.Equal(tokens2, state.Tokens);
    }

    [Theory]
    [InlineData(0.5f, -2f, true)]    // both rules halt
    [InlineData(0.5f, 3f, true)]     // q_halt > 0 halts although q_continue is larger (HRM's rule would continue)
    [InlineData(-0.5f, -3f, false)]  // q_halt < 0 continues although it beats q_continue (HRM's rule would halt)
    public void No_act_continue_halts_on_the_sign_of_q_halt_and_skips_the_target_segment(float halt, float cont, bool halts)
    {
        HrmConfig cfg = ModelFixtures.Micro() with { HaltMaxSteps = 4, HaltExplorationProb = 0, NoActContinue = true };
        using var model = new HrmModel(cfg, new ReferenceBackend());
        model.Initialize(new HrmRandom(9));
        model.WriteParameter(ParameterLayout.Names.QHeadBias, [halt, cont]); // the Q head's weights start at zero
        model.Reserve(2, training: true);
        var state = new ActState(2, cfg.SeqLen);
        Array.Fill(state.TargetQContinue, 42f);
        (int[] tokens, int[] ids) = ModelFixtures.Inputs(cfg, 2, 2);
        model.ActStep(state, tokens, ids, default, training: true, new HrmRandom(1));
        Assert.All(state.QHalt, v => Assert.Equal(halt, v, 5));
        Assert.All(state.Halted, h => Assert.Equal(halts, h));
        Assert.All(state.TargetQContinue, v => Assert.Equal(42f, v)); // no bootstrap forward ran
    }

    [Fact]
    public void Exploration_holds_back_halting_rows_until_their_minimum()
    {
        // Q says halt everywhere (bias halt > continue); with eps = 1 each row gets a minimum in [2, M].
        HrmConfig cfg = ModelFixtures.Micro() with { HaltMaxSteps = 6, HaltExplorationProb = 1 };
        using var model = new HrmModel(cfg, new ReferenceBackend());
        model.Initialize(new HrmRandom(9));
        model.WriteParameter(ParameterLayout.Names.QHeadBias, [5f, -5f]);
        const int batch = 16;
        model.Reserve(batch, training: true);
        var state = new ActState(batch, cfg.SeqLen);
        var rng = new HrmRandom(5);
        (int[] tokens, int[] ids) = ModelFixtures.Inputs(cfg, batch, 2);
        model.ActStep(state, tokens, ids, default, training: true, rng);
        Assert.All(state.Halted, Assert.False); // minimum is at least 2
        var haltSteps = new int[batch];
        for (int s = 2; s <= 6; s++)
        {
            model.ActStep(state, tokens, ids, default, training: true, rng);
            for (int b = 0; b < batch; b++)
                if (state.Halted[b] && haltSteps[b] == 0) haltSteps[b] = s;
            if (s < 6 && state.Halted.All(h => h)) break;
        }
        Assert.All(haltSteps, v => Assert.InRange(v, 2, 6));
        Assert.True(haltSteps.Distinct().Count() > 1, "exploration minima should differ between rows");
    }

    [Fact]
    public void Exploration_minimums_given_by_the_caller_replay_the_draws_of_a_generator()
    {
        // Q says halt everywhere; the minimums decide when each row halts. A run given the minimums a generator draws
        // (DrawExploration, the reference's order) halts exactly as the run that draws them itself.
        HrmConfig cfg = ModelFixtures.Micro() with { HaltMaxSteps = 5, HaltExplorationProb = 0.5 };
        const int batch = 12;
        (int[] tokens, int[] ids) = ModelFixtures.Inputs(cfg, batch, 2);
        var drawn = new List<int[]>();
        var halts = new List<string>[2];
        for (int replay = 0; replay < 2; replay++)
        {
            using var model = new HrmModel(cfg, new ReferenceBackend());
            model.Initialize(new HrmRandom(9));
            model.WriteParameter(ParameterLayout.Names.QHeadBias, [5f, -5f]);
            model.Reserve(batch, training: true);
            var state = new ActState(batch, cfg.SeqLen);
            halts[replay] = [];
            for (int s = 0; s < 6; s++)
            {
                if (replay == 0)
                {
                    var draws = new int[batch];
                    model.DrawExploration(new HrmRandom(5 + (ulong)s), draws);
                    drawn.Add(draws);
                    model.ActStep(state, tokens, ids, default, training: true, new HrmRandom(5 + (ulong)s));
                }
                else
                {
                    model.ActStep(state, tokens, ids, default, exploration: drawn[s]);
                }
                halts[replay].Add(string.Concat(state.Halted.Select(h => h ? '1' : '0')) + " " +
                    string.Join(",", state.Steps));
            }
            // One minimum per row, each 0 or in [2, halt_max_steps] (5), checked before anything changes.
            int[] steps = [.. state.Steps];
            Assert.Throws<ArgumentException>(() =>
                model.ActStep(state, tokens, ids, default, exploration: drawn[0].AsSpan(1)));
            Assert.Throws<ArgumentOutOfRangeException>(() =>
                model.ActStep(state, tokens, ids, default, exploration: [.. drawn[0].AsSpan(1), 6]));
            Assert.Throws<ArgumentOutOfRangeException>(() =>
                model.ActStep(state, tokens, ids, default, exploration: [1, .. drawn[0].AsSpan(1)]));
            Assert.Equal(steps, state.Steps);
        }
        Assert.Contains(drawn, d => d.Any(v => v == 0) && d.Any(v => v > 0)); // some rows explore, some do not
        Assert.Equal(halts[0], halts[1]);
        Assert.True(halts[0].Distinct().Count() > 2, string.Join(" ", halts[0]));
    }

    [Fact]
    public void Reserving_again_frees_the_previous_plan_and_a_wrong_batch_is_rejected()
    {
        HrmConfig cfg = ModelFixtures.Micro();
        using var model = new HrmModel(cfg, new ReferenceBackend());
        model.Reserve(2, training: true);
        long bytes = model.Backend.AllocatedBytes;
        model.Reserve(5, training: false);
        Assert.NotEqual(bytes, model.Backend.AllocatedBytes);
        model.Reserve(2, training: true);
        Assert.Equal(bytes, model.Backend.AllocatedBytes);
        (int[] tokens, int[] ids) = ModelFixtures.Inputs(cfg, 3, 1);
        Assert.Throws<ArgumentException>(() => model.SetInputs(tokens, ids));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.SetInputs(new int[2 * cfg.SeqLen], [0, 3]));
    }
}
