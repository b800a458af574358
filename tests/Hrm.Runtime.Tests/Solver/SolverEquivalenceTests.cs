using Hrm.Runtime.Config;
using Hrm.Runtime.Model;
using Hrm.Runtime.Numerics;
using Hrm.Runtime.Solver;
using Hrm.Runtime.Tests.Model;

namespace Hrm.Runtime.Tests.Solver;

/// <summary>
/// The solver against <see cref="HrmModel.Evaluate"/> (what <c>hrm predict</c> runs), and against itself under
/// compaction and continuous batching. Everything is compared bit for bit: the CPU backend computes every row
/// independently of the others (per-row attention and norms; the GEMM reduces each output element in a fixed
/// order whatever the row count), so a row's result cannot depend on how many rows share the batch.
/// </summary>
public sealed class SolverEquivalenceTests : IDisposable
{
    private readonly TinyCheckpoint _ckpt = new();

    public void Dispose() => _ckpt.Dispose();

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(8)]
    public void Fixed_halting_equals_model_evaluate_for_any_slot_count(int slots)
    {
        HrmConfig c = _ckpt.Config;
        const int rows = 8, steps = 3;
        (int[] tokens, int[] ids) = ModelFixtures.Inputs(c, rows, seed: 40 + slots);
        Expected[] expected = Evaluate(tokens, ids, steps);
        using HrmSolver solver = Load(new SolverOptions { MaxSteps = steps, BatchSlots = slots });
        TokenPrediction[] got = solver.Predict(tokens, ids);
        Assert.Equal(rows, got.Length);
        for (int r = 0; r < rows; r++)
        {
            Assert.Equal(expected[r].Tokens, got[r].Tokens);
            Assert.Equal(expected[r].QHalt, got[r].QHaltLogit);
            Assert.Equal(expected[r].QContinue, got[r].QContinueLogit);
            Assert.Equal(steps, got[r].Segments);
        }
    }

    [Fact]
    public void Adaptive_halting_with_a_margin_that_is_never_met_equals_fixed_halting()
    {
        (int[] tokens, int[] ids) = ModelFixtures.Inputs(_ckpt.Config, 10, seed: 7);
        using HrmSolver fixedSolver = Load(new SolverOptions { BatchSlots = 4 });
        using HrmSolver never = Load(new SolverOptions
        {
            BatchSlots = 4, Halting = HaltingMode.Adaptive, HaltMargin = float.PositiveInfinity,
        });
        TokenPrediction[] a = fixedSolver.Predict(tokens, ids), b = never.Predict(tokens, ids);
        for (int r = 0; r < a.Length; r++)
        {
            Assert.Equal(_ckpt.Config.HaltMaxSteps, b[r].Segments);
            AssertSame(a[r], b[r]);
        }
    }

    [Fact]
    public void Compaction_and_joining_rows_never_change_a_rows_result()
    {
        HrmConfig c = _ckpt.Config with { HaltMaxSteps = 8 };
        using var ckpt = new TinyCheckpoint(seed: 13, c);
        (int[] tokens, int[] ids) = ModelFixtures.Inputs(c, 12, seed: 3);
        var adaptive = new SolverOptions { Halting = HaltingMode.Adaptive, MinSteps = 2 };
        using HrmSolver alone = HrmSolver.Load(ckpt.Path, adaptive with { Device = SolverDevice.Cpu, BatchSlots = 1 });
        using HrmSolver shared = HrmSolver.Load(ckpt.Path, adaptive with { Device = SolverDevice.Cpu, BatchSlots = 5 });
        TokenPrediction[] batched = shared.Predict(tokens, ids);
        int l = c.SeqLen;
        for (int r = 0; r < 12; r++)
        {
            AssertSame(alone.Predict(tokens.AsSpan(r * l, l), ids.AsSpan(r, 1))[0], batched[r]);
        }
        // The test means something only if rows finished at different times while others joined.
        Assert.True(batched.Select(p => p.Segments).Distinct().Count() >= 3,
            "segments used: " + string.Join(",", batched.Select(p => p.Segments)));
    }

    [Fact]
    public void Adaptive_rows_halt_by_the_policy_applied_to_their_last_q_logits()
    {
        using HrmSolver solver = Load(new SolverOptions { Halting = HaltingMode.Adaptive, MinSteps = 2, BatchSlots = 3 });
        (int[] tokens, int[] ids) = ModelFixtures.Inputs(_ckpt.Config, 9, seed: 21);
        foreach (TokenPrediction p in solver.Predict(tokens, ids))
        {
            Assert.InRange(p.Segments, 2, _ckpt.Config.HaltMaxSteps);
            if (p.Segments < _ckpt.Config.HaltMaxSteps) Assert.True(p.QHaltLogit > p.QContinueLogit);
            Assert.Equal(Logits.Sigmoid(p.QHaltLogit), p.HaltConfidence);
        }
    }

    /// <summary>Equal outputs, bit for bit (the time taken aside).</summary>
    internal static void AssertSame(TokenPrediction expected, TokenPrediction actual)
    {
        Assert.Equal(expected.Tokens, actual.Tokens);
        Assert.Equal(expected.QHaltLogit, actual.QHaltLogit);
        Assert.Equal(expected.QContinueLogit, actual.QContinueLogit);
        Assert.Equal(expected.Segments, actual.Segments);
        Assert.Equal(expected.StableSince, actual.StableSince);
    }

    private HrmSolver Load(SolverOptions options) =>
        HrmSolver.Load(_ckpt.Path, options with { Device = SolverDevice.Cpu, Threads = 2 });

    private sealed record Expected(int[] Tokens, float QHalt, float QContinue);

    /// <summary>model.Evaluate on all rows at once, then argmax, as <c>hrm predict</c> computes it.</summary>
    private Expected[] Evaluate(int[] tokens, int[] ids, int steps)
    {
        HrmConfig c = _ckpt.Config;
        int rows = ids.Length, l = c.SeqLen, v = c.VocabSize;
        using HrmModel model = _ckpt.LoadModel(rows);
        ActState s = model.Evaluate(tokens, ids, steps);
        var logits = new float[rows * l * v];
        model.ReadLogits(logits);
        var result = new Expected[rows];
        for (int r = 0; r < rows; r++)
        {
            int[] t = new int[l];
            for (int i = 0; i < l; i++) t[i] = Logits.ArgMax<float>(logits.AsSpan((r * l + i) * v, v));
            result[r] = new Expected(t, s.QHalt[r], s.QContinue[r]);
        }
        return result;
    }
}
