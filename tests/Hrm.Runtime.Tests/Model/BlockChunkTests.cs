using Hrm.Runtime.Backends;
using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Config;
using Hrm.Runtime.Model;
using Hrm.Runtime.Numerics;
using Hrm.Runtime.Tests.TestUtil;
using static Hrm.Runtime.Tests.TestUtil.BackendBuffers;

namespace Hrm.Runtime.Tests.Model;

/// <summary>
/// A block's ops after its attention in row chunks (<see cref="IHrmBackend.BlockChunkRows"/>) on the CPU: a backend
/// that asks for chunks (<see cref="RecordingBackend.ChunkRows"/>) against the plain CPU backend, bitwise (every op
/// after the attention treats rows on their own, and the CPU GEMM sums each element in the same order for any row
/// count). An ACT training step (no-grad cycles, the recorded calls, the Q-target segment), the 1-step backward, and
/// a solver-style evaluation.
/// </summary>
public sealed class BlockChunkTests
{
    [Theory]
    [InlineData(3, 7)]   // 3 · 6 rows in chunks of 7: 7, 7, 4 (not aligned to sequences)
    [InlineData(4, 6)]   // one sequence a chunk
    [InlineData(2, 11)]  // 12 rows: 11, 1
    public void A_training_step_in_row_chunks_is_bitwise_the_unchunked_one(int batch, int chunk)
    {
        HrmConfig cfg = ModelFixtures.Micro(hCycles: 2, lCycles: 2);
        Assert.True(batch * cfg.TotalSeqLen > chunk); // so the chunked model does chunk
        var results = new float[2][][];
        for (int i = 0; i < 2; i++)
        {
            IHrmBackend backend = i == 0 ? new CpuBackend(2) : new RecordingBackend(2) { ChunkRows = chunk };
            using HrmModel m = ModelFixtures.Create(cfg, backend, batch, training: true, seed: 5);
            var state = new ActState(batch, cfg.SeqLen);
            (int[] tokens, int[] ids) = ModelFixtures.Inputs(cfg, batch, seed: 17);
            m.ActStep(state, tokens, ids, default, training: true, new HrmRandom(3));
            var logits = new float[batch * cfg.SeqLen * cfg.VocabSize];
            m.ReadLogits(logits);
            backend.Upload(TestData.Floats(21, logits.Length, 0.1f), m.LogitsGrad);
            backend.Upload(TestData.Floats(22, 2 * batch, 0.1f), m.QGrad);
            m.ZeroGrads();
            m.Backward();
            results[i] = [logits, state.QHalt, state.QContinue, state.TargetQContinue, Down(backend, m.Grads),
                Down(backend, m.PuzzleRowsGrad)];
        }
        string[] what =
            ["logits", "q_halt", "q_continue", "target q_continue", "dense gradients", "puzzle-row gradients"];
        for (int k = 0; k < what.Length; k++)
        {
            Assert.True(results[0][k].Length > 0, what[k]);
            Assert.True(results[0][k].AsSpan().SequenceEqual(results[1][k]), $"{what[k]} differ");
        }
    }

    [Fact]
    public void An_evaluation_in_row_chunks_is_bitwise_the_unchunked_one()
    {
        HrmConfig cfg = ModelFixtures.Micro(hCycles: 2, lCycles: 2);
        const int batch = 3;
        var logits = new float[2][];
        for (int i = 0; i < 2; i++)
        {
            IHrmBackend backend = i == 0 ? new CpuBackend(2) : new RecordingBackend(2) { ChunkRows = 5 };
            using HrmModel m = ModelFixtures.Create(cfg, backend, batch, training: false, seed: 6);
            (int[] tokens, int[] ids) = ModelFixtures.Inputs(cfg, batch, seed: 18);
            m.Evaluate(tokens, ids);
            logits[i] = new float[batch * cfg.SeqLen * cfg.VocabSize];
            m.ReadLogits(logits[i]);
        }
        Assert.Equal(logits[0], logits[1]);
    }
}
