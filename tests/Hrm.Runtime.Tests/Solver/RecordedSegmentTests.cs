using Hrm.Runtime.Config;
using Hrm.Runtime.Model;
using Hrm.Runtime.Solver;
using Hrm.Runtime.Tests.Model;
using Hrm.Runtime.Tests.TestUtil;

namespace Hrm.Runtime.Tests.Solver;

/// <summary>
/// The solver's segments and Evaluate's fixed run of segments as recorded sequences (<see cref="Hrm.Runtime.Backends.IHrmBackend.RunRecorded"/>, CUDA graphs on the
/// GPU), checked on the CPU with <see cref="RecordingBackend"/>: replaying the recorded ops, without the model's
/// host code in between, gives the same predictions and logits bit for bit as running the segments op by op.
/// </summary>
public sealed class RecordedSegmentTests : IDisposable
{
    private readonly TinyCheckpoint _ckpt = new(seed: 13, TinyCheckpoint.Sudoku4() with { HaltMaxSteps = 6 });

    public void Dispose() => _ckpt.Dispose();

    [Theory]
    [InlineData(HaltingMode.Fixed, 1)]
    [InlineData(HaltingMode.Fixed, 4)]
    [InlineData(HaltingMode.Adaptive, 4)] // compaction: several row counts, one recording each
    public void Replayed_segments_equal_segments_run_op_by_op(HaltingMode halting, int slots)
    {
        HrmConfig c = _ckpt.Config;
        (int[] tokens, int[] ids) = ModelFixtures.Inputs(c, 9, seed: 5);
        var options = new SolverOptions { Halting = halting, MinSteps = 2, BatchSlots = slots, Threads = 2 };
        using HrmSolver plain = HrmSolver.Load(_ckpt.Path, options with { Device = SolverDevice.Cpu });
        var backend = new RecordingBackend(threads: 2);
        using HrmSolver recorded = HrmSolver.Load(_ckpt.Path, options, backend, "cpu-recording");
        TokenPrediction[] expected = plain.Predict(tokens, ids), got = recorded.Predict(tokens, ids);
        for (int r = 0; r < expected.Length; r++) SolverEquivalenceTests.AssertSame(expected[r], got[r]);
        Assert.Empty(backend.Sequences.Fallbacks);
        Assert.True(backend.Sequences.Count >= 1, "no segment was recorded");
        Assert.True(backend.Sequences.Replays > 0, "no segment was replayed");
        // One slot: every segment but the first (the warm-up) is a replay.
        if (slots == 1) Assert.Equal(expected.Sum(p => p.Segments) - 1, backend.Sequences.Replays);
    }

    [Fact]
    public void Evaluate_replaying_its_segments_equals_act_calls_run_one_by_one()
    {
        HrmConfig c = _ckpt.Config;
        const int batch = 3, steps = 4;
        (int[] tokens, int[] ids) = ModelFixtures.Inputs(c, batch, seed: 8);
        using HrmModel plain = _ckpt.LoadModel(batch);
        var byHand = new ActState(batch, c.SeqLen);
        for (int s = 0; s < steps; s++) plain.ActStep(byHand, tokens, ids, default, training: false, maxSteps: steps);
        float[] expected = Logits(plain);
        var backend = new RecordingBackend(threads: 2);
        using HrmModel recorded = HrmCheckpoint.Load(_ckpt.Path, backend);
        recorded.Reserve(batch, training: false);
        for (int call = 0; call < 3; call++) // warm-up, recording + replay, replay
        {
            ActState got = recorded.Evaluate(tokens, ids, steps);
            Assert.Equal(expected, Logits(recorded));
            Assert.Equal(byHand.QHalt, got.QHalt);
            Assert.Equal(byHand.QContinue, got.QContinue);
            Assert.Equal(byHand.Steps, got.Steps);
            Assert.Equal(byHand.Halted, got.Halted);
        }
        Assert.Equal(2, backend.Sequences.Replays);
        Assert.Empty(backend.Sequences.Fallbacks);
    }

    private static float[] Logits(HrmModel m)
    {
        var logits = new float[m.Ws.Batch * m.Config.SeqLen * m.Config.VocabSize];
        m.ReadLogits(logits);
        return logits;
    }
}
