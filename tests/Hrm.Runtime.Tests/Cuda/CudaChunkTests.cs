using Hrm.Runtime.Backends.Cuda;
using Hrm.Runtime.Config;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;
using Hrm.Runtime.Numerics;
using Hrm.Runtime.Tests.Model;
using Hrm.Runtime.Tests.TestUtil;
using static Hrm.Runtime.Tests.TestUtil.BackendBuffers;

namespace Hrm.Runtime.Tests.Cuda;

/// <summary>
/// Row chunks on the GPU (GPU only): the gate/up GEMM + SwiGLU in chunks
/// (<see cref="CudaBackendOptions.SwiGluChunkRows"/>) against the same op whole, and the model with both kinds of
/// chunks (<see cref="CudaBackendOptions.BlockChunkRows"/>: the block after its attention) against the model without.
/// Each row's result is the unchunked one's up to the order of the GEMM's sums (cuBLASLt may pick another algorithm
/// for the chunk's row count; the CPU emulator's GEMMs sum exactly, so there all are bitwise equal). A row in the
/// wrong place is O(1) off, so the tolerances below cannot hide it. The chunk arithmetic itself needs no GPU.
/// </summary>
[Collection("Cuda")]
public sealed class CudaChunkTests(CudaFixture cuda, ITestOutputHelper output)
{
    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData(300, 64, 40, 128, 128)]  // 3 chunks: 128, 128, 44
    [InlineData(700, 96, 80, 300, 256)]  // the option rounded down to 256: 3 chunks of 256, 256, 188
    [InlineData(1030, 32, 24, 512, 384)] // 3 even chunks: 384, 384, 262
    [InlineData(128, 64, 40, 128, 0)]    // no more rows than a chunk: whole
    [InlineData(300, 64, 40, 50, 128)]   // below 128: 128
    public void Chunked_gate_up_and_swiglu_match_the_whole_op(int m, int k, int inter, int option, int chunk)
    {
        using CudaBackend whole = Backend(0), chunked = Backend(option);
        Assert.Equal(chunk, chunked.SwiGluChunk(m, bf16GateUp: true));
        Assert.Equal(0, chunked.SwiGluChunk(m, bf16GateUp: false)); // fp32 storage: never chunked
        float[] x = TestData.Floats(1, m * k), w = TestData.Floats(2, 2 * inter * k, 0.3f);
        int chunks = chunk == 0 ? 1 : (m + chunk - 1) / chunk;
        foreach (bool keep in new[] { false, true })
        {
            (float[] act0, float[] gu0) = Run(whole, x, w, m, k, inter, keep, bf16Inp: true, out _);
            (float[] act1, float[] gu1) = Run(chunked, x, w, m, k, inter, keep, bf16Inp: true, out long launches);
            Assert.Equal(2 * chunks, launches);                // a GEMM and a SwiGLU per chunk (the weight's copy kept)
            AssertRowsClose(act0, act1, m, inter, $"act, keepGateUp {keep}");
            if (keep) AssertRowsClose(gu0, gu1, m, 2 * inter, "gateUp (kept)");
            else if (chunk > 0)
            {
                // every chunk's product went over the first chunk's rows; the rest is as it was (NaN-free zeros)
                Assert.All(gu1.AsSpan(2 * chunk * inter).ToArray(), v => Assert.Equal(0f, v));
            }
            // an fp32 input: converted to bf16 once for all chunks
            (act1, _) = Run(chunked, x, w, m, k, inter, keep, bf16Inp: false, out launches);
            Assert.Equal(2 * chunks + 1, launches);
            (act0, _) = Run(whole, x, w, m, k, inter, keep, bf16Inp: false, out _);
            AssertRowsClose(act0, act1, m, inter, $"act from an fp32 input, keepGateUp {keep}");
        }
    }

    [Theory]
    [InlineData(62_976, 4096, 3968)] // Sudoku at batch 768: 16 chunks, 15 of 3,968 rows and one of 3,456
    [InlineData(62_976, 0, 0)]       // off
    [InlineData(62_976, -5, 0)]
    [InlineData(4096, 4096, 0)]      // no more rows than a chunk
    [InlineData(4097, 4096, 2048 + 128)]
    [InlineData(1000, 1, 128)]       // at least 128
    [InlineData(1000, 200, 128)]     // rounded down to 128
    public void Chunks_are_even_multiples_of_128_rows_within_the_option(int m, int option, int expected)
    {
        int chunk = CudaBackend.EvenChunk(m, option);
        Assert.Equal(expected, chunk);
        if (chunk == 0) return;
        Assert.Equal(0, chunk % 128);
        Assert.True(chunk <= Math.Max(128, option), "above the option");
        int chunks = (m + chunk - 1) / chunk;
        Assert.Equal((m + Math.Max(128, option / 128 * 128) - 1) / Math.Max(128, option / 128 * 128), chunks);
    }

    // The whole model with both kinds of chunks (Sudoku's widths at batch 4: 328 rows; 1 H and 1 L cycle, which keeps
    // the emulator's time down: the recorded segment's two module calls are recorded, the Q-target segment's are not)
    // against the same model without: an ACT step and the 1-step backward. The recorded blocks run whole with the
    // gate/up GEMM + SwiGLU in chunks of 128 rows (128, 128, 72; gate/up kept, h1 an fp32 input whose bf16 copy the
    // add + RMSNorm wrote), the other blocks after their attention in chunks of 256 and 72 rows, the first of which
    // the op splits again (128, 128).
    [Trait("Category", "Gpu")]
    [Fact]
    public void A_training_step_with_chunks_matches_one_without()
    {
        HrmConfig cfg = HrmPresets.Get("sudoku-extreme-1k") with { HCycles = 1, LCycles = 1 };
        const int batch = 4;
        int rows = batch * cfg.TotalSeqLen;
        var logits = new float[2][];
        var grads = new float[2][];
        for (int i = 0; i < 2; i++)
        {
            CudaBackend gpu = i == 0 ? Backend(0, 0, bf16Attention: true) : Backend(128, 256, bf16Attention: true);
            using HrmModel m = ModelFixtures.Create(cfg, gpu, batch, training: true, seed: 3);
            Assert.Equal(i == 0 ? 0 : 128, gpu.SwiGluChunk(rows, bf16GateUp: true));
            Assert.Equal(i == 0 ? 0 : 256, gpu.BlockChunkRows(rows, cfg.TotalSeqLen, cfg.HeadDim, record: false));
            Assert.Equal(0, gpu.BlockChunkRows(rows, cfg.TotalSeqLen, cfg.HeadDim, record: true));
            var state = new ActState(batch, cfg.SeqLen);
            (int[] tokens, int[] ids) = ModelFixtures.Inputs(cfg, batch, seed: 101);
            m.ActStep(state, tokens, ids, default, training: true, new HrmRandom(7));
            logits[i] = new float[batch * cfg.SeqLen * cfg.VocabSize];
            m.ReadLogits(logits[i]);
            gpu.Upload(TestData.Floats(8, logits[i].Length, 1e-2f), m.LogitsGrad);
            gpu.Upload(TestData.Floats(9, 2 * batch, 0.1f), m.QGrad);
            m.ZeroGrads();
            m.Backward();
            grads[i] = Down(gpu, m.Grads);
        }
        AssertClose(logits[0], logits[1], 2e-2, "logits");
        AssertClose(grads[0], grads[1], 2e-2, "dense gradients");
    }

    // A no-grad segment with the blocks after their attention in chunks (Sudoku at batch 2: 128 and 36 rows; 2 H
    // and 1 L cycle: 16 blocks): six launches more per block and nothing else, as every op reads its bf16 operands as
    // they are (a bf16 copy made again per chunk would show here), and the same logits.
    [Trait("Category", "Gpu")]
    [Fact]
    public void A_chunked_no_grad_segment_queues_six_ops_a_chunk_and_no_conversions()
    {
        HrmConfig cfg = HrmPresets.Get("sudoku-extreme-1k") with { LCycles = 1 };
        const int batch = 2;
        var logits = new float[2][];
        var launches = new long[2];
        for (int i = 0; i < 2; i++)
        {
            CudaBackend gpu = Backend(0, i == 0 ? 0 : 128, bf16Attention: true);
            using HrmModel m = ModelFixtures.Create(cfg, gpu, batch, training: false, seed: 4);
            (int[] tokens, int[] ids) = ModelFixtures.Inputs(cfg, batch, seed: 102);
            m.SetInputs(tokens, ids);
            gpu.BeginWeightReuse(); // the weights' bf16 copies made once, in the first segment
            m.Segment(record: false);
            long before = gpu.Launches;
            m.Segment(record: false);
            launches[i] = gpu.Launches - before;
            gpu.EndWeightReuse();
            logits[i] = new float[batch * cfg.SeqLen * cfg.VocabSize];
            m.ReadLogits(logits[i]);
        }
        output.WriteLine($"launches per segment: {launches[0]} whole, {launches[1]} in chunks");
        int blocks = (cfg.HLayers + cfg.LLayers * cfg.LCycles) * cfg.HCycles;
        Assert.Equal(launches[0] + 6 * blocks, launches[1]);
        AssertClose(logits[0], logits[1], 2e-2, "logits after 2 segments");
    }

    // Evaluate with the blocks in chunks inside its CUDA graph (a toy config with head size 64, so the bf16 residual
    // stream and the chunks apply: 3 sequences of 82 positions, chunks of 128 and 118 rows): the captured graph
    // replays without a fallback, each call bitwise the first, and as the model without chunks or graphs.
    [Trait("Category", "Gpu")]
    [Fact]
    public void Evaluate_replays_chunked_blocks_in_its_graph()
    {
        HrmConfig cfg = HrmPresets.Get("tiny") with
        {
            HiddenSize = 128, NumHeads = 2, HLayers = 1, LLayers = 1, PuzzleEmbNdim = 128, HaltMaxSteps = 3,
        };
        const int batch = 3;
        (int[] tokens, int[] ids) = ModelFixtures.Inputs(cfg, batch, seed: 103);
        CudaBackend chunked = Backend(128, 128, bf16Attention: true);
        using HrmModel a = ModelFixtures.Create(cfg, chunked, batch, training: false, seed: 5);
        using HrmModel b = ModelFixtures.Create(cfg, Backend(0, 0, bf16Attention: true, graphs: false), batch,
            training: false, seed: 5);
        Assert.Equal(128, chunked.BlockChunkRows(batch * cfg.TotalSeqLen, cfg.TotalSeqLen, cfg.HeadDim, false));
        var want = new float[batch * cfg.SeqLen * cfg.VocabSize];
        b.Evaluate(tokens, ids);
        b.ReadLogits(want);
        float[]? first = null;
        for (int call = 0; call < 3; call++) // warm-up, capture + replay, replay
        {
            a.Evaluate(tokens, ids);
            var got = new float[want.Length];
            a.ReadLogits(got);
            first ??= got;
            Assert.Equal(first, got);
        }
        Assert.Equal(2, chunked.GraphReplays);
        Assert.Empty(chunked.GraphFallbacks);
        AssertClose(want, first!, 2e-2, "logits, chunks and graphs against neither");
    }

    /// <summary>One call on fresh buffers: (act, gateUp) on the host, and the kernels and GEMMs it queued.</summary>
    private static (float[] Act, float[] GateUp) Run(CudaBackend gpu, float[] x, float[] w, int m, int k, int inter,
        bool keep, bool bf16Inp, out long launches)
    {
        Buf inp = bf16Inp ? UpBf16(gpu, x) : Up(gpu, x);                 // (M, K)
        Buf weight = Up(gpu, w);                                          // (2I, K)
        Buf gateUp = UpBf16(gpu, new float[2 * m * inter]);               // (M, 2I) bf16, zeros
        Buf act = AllocBf16(gpu, (long)m * inter);                        // (M, I) bf16
        gpu.BeginWeightReuse();
        gpu.MatmulSwiGluForward(act, gateUp, inp, weight, m, k, inter);   // converts the weight once
        long before = gpu.Launches;
        gpu.MatmulSwiGluForward(act, gateUp, inp, weight, m, k, inter, keep);
        launches = gpu.Launches - before;
        gpu.EndWeightReuse();
        return (DownBf16(gpu, act), DownBf16(gpu, gateUp));
    }

    /// <summary>Row by row: within two bf16 roundings of the product per row (relative L2 over the row).</summary>
    private void AssertRowsClose(float[] expected, float[] actual, int rows, int width, string what)
    {
        double worst = 0;
        for (int r = 0; r < rows; r++)
        {
            double rel = TensorAssert.RelNorm(TestData.ToDouble(expected.AsSpan(r * width, width).ToArray()),
                actual.AsSpan(r * width, width).ToArray());
            worst = Math.Max(worst, rel);
        }
        output.WriteLine($"{what}: worst row's relative L2 difference {worst:E2}");
        Assert.True(worst <= 2e-2, $"{what}: a row {worst:E3} off");
    }

    private void AssertClose(float[] expected, float[] actual, double tol, string what)
    {
        Assert.All(actual, v => Assert.True(float.IsFinite(v), $"{what}: non-finite value"));
        double rel = TensorAssert.RelNorm(TestData.ToDouble(expected), actual);
        output.WriteLine($"{what}: relative L2 difference {rel:E2}");
        Assert.True(rel <= tol, $"{what}: {rel:E3} > {tol:E1}");
    }

    private CudaBackend Backend(int swiGluRows, int blockRows = 0, bool bf16Attention = false, bool graphs = true)
    {
        cuda.BackendOrSkip(bf16Attention); // warms the kernel cache of this attention path
        return cuda.Bf16MatmulBackendOrSkip(new CudaBackendOptions
        {
            Bf16Attention = bf16Attention, SwiGluChunkRows = swiGluRows, BlockChunkRows = blockRows, Graphs = graphs,
        });
    }
}
