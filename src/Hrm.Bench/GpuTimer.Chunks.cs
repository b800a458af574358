using Hrm.Runtime.Backends.Cuda;
using Hrm.Runtime.Config;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Numerics;

namespace Hrm.Bench;

public static partial class GpuTimer
{
    /// <summary>The row counts the <c>--chunks</c> rows try (<see cref="CudaBackendOptions.SwiGluChunkRows"/>,
    /// <see cref="CudaBackendOptions.BlockChunkRows"/>).</summary>
    private static readonly int[] Chunks = [2048, 4096, 8192];

    /// <summary>
    /// Row chunks against none: the gate/up GEMM + SwiGLU (<see cref="CudaBackend.MatmulSwiGluForward"/>) whole and in
    /// chunks (<see cref="CudaBackendOptions.SwiGluChunkRows"/>) alone on Sudoku's rows at batch <paramref name="big"/>
    /// (a bf16 input, as the no-grad forwards' residual stream; not recorded, then recorded), then a segment forward
    /// and a training step with those chunks, and with the whole block after its attention in chunks
    /// (<see cref="CudaBackendOptions.BlockChunkRows"/>), against the rows without chunks (a segment again here).
    /// Unless <paramref name="selected"/> (<c>--chunks</c>; the whole table, whose stage has a time limit, times the
    /// training step without chunks elsewhere) only the two chunked training steps.
    /// </summary>
    private static void ChunkRows(TextWriter o, CudaBackendOptions bf16, HrmConfig cfg, int big, bool selected)
    {
        int m = big * cfg.TotalSeqLen, k = cfg.HiddenSize, inter = cfg.Intermediate;
        bool toy = m <= 8192; // the smoke run's sizes: chunks of 128 rows
        int chosen = toy ? 128 : 4096;
        int[] tried = toy ? [chosen] : Chunks;
        if (!selected)
        {
            TrainingStep(o, bf16 with { SwiGluChunkRows = chosen }, cfg, big);
            TrainingStep(o, bf16 with { BlockChunkRows = chosen }, cfg, big);
            return;
        }
        foreach (int rows in (int[])[0, .. tried])
            SwiGluOp(o, bf16 with { SwiGluChunkRows = rows }, big, m, k, inter, keep: false);
        foreach (int rows in new[] { 0, chosen })
            SwiGluOp(o, bf16 with { SwiGluChunkRows = rows }, big, m, k, inter, keep: true);
        Segment(o, bf16, cfg, big);
        Segment(o, bf16 with { SwiGluChunkRows = chosen }, cfg, big);
        foreach (int rows in tried) Segment(o, bf16 with { BlockChunkRows = rows }, cfg, big);
        TrainingStep(o, bf16, cfg, big);
        TrainingStep(o, bf16 with { SwiGluChunkRows = chosen }, cfg, big);
        TrainingStep(o, bf16 with { BlockChunkRows = chosen }, cfg, big);
    }

    /// <summary>One <see cref="CudaBackend.MatmulSwiGluForward"/> on M rows (<paramref name="batch"/> sequences): inp
    /// (M, K) bf16, weight (2I, K) fp32 (its bf16 copy made once), gateUp (M, 2I) and act (M, I) bf16.</summary>
    private static void SwiGluOp(TextWriter o, CudaBackendOptions options, int batch, int m, int k, int inter,
        bool keep)
    {
        using CudaBackend backend = CudaBackend.Create(options);
        Buf inp = Bf16Buffer(backend, (long)m * k, "inp", random: true);               // (M, K) bf16
        Buf gateUp = Bf16Buffer(backend, 2L * m * inter, "gate_up", random: false);    // (M, 2I) bf16
        Buf act = Bf16Buffer(backend, (long)m * inter, "act", random: false);          // (M, I) bf16
        Buf weight = backend.Allocate(2L * inter * k, "w_gate_up");                    // (2I, K)
        var rng = new Random(2);
        float[] w = new float[weight.Length];
        for (int i = 0; i < w.Length; i++) w[i] = (float)((rng.NextDouble() * 2 - 1) / Math.Sqrt(k));
        backend.Upload(w, weight);
        backend.BeginWeightReuse();
        double ms = Time(backend, () => backend.MatmulSwiGluForward(act, gateUp, inp, weight, m, k, inter, keep), 11,
            out long launches);
        backend.EndWeightReuse();
        int chunk = backend.SwiGluChunk(m, bf16GateUp: true);
        string how = chunk == 0 ? "whole" : $"chunks of {chunk:N0} rows (option {options.SwiGluChunkRows:N0})";
        Row(o, $"gate/up GEMM + SwiGLU (bf16), M={m:N0}, K={k}, 2I={2 * inter}, {(keep ? "recorded" : "no-grad")}, " +
            $"{how}, {launches} launches", batch, ms, 2.0 * m * k * 2 * inter);
    }

    /// <summary>A bf16 view of <paramref name="count"/> elements over a float region: random bf16 values in [-1, 1) or
    /// the region as allocated.</summary>
    private static Buf Bf16Buffer(CudaBackend backend, long count, string name, bool random)
    {
        Buf words = backend.Allocate((count + 1) / 2, name);
        if (random)
        {
            var rng = new Random(1);
            float[] pairs = new float[words.Length];
            for (int i = 0; i < pairs.Length; i++)
            {
                uint lo = BFloat16.FromFloat((float)(rng.NextDouble() * 2 - 1));
                uint hi = BFloat16.FromFloat((float)(rng.NextDouble() * 2 - 1));
                pairs[i] = BitConverter.UInt32BitsToSingle(lo | (hi << 16));
            }
            backend.Upload(pairs, words);
        }
        return new Buf(words.Address, count, sizeof(ushort));
    }

    private static string Gemms(CudaBackendOptions options) =>
        !options.Bf16Matmul ? "fp32 GEMMs"
        : (options.Bf16Intermediates ? "bf16 GEMMs" : "bf16 GEMMs, fp32 intermediates") +
        (options.TuneGemms ? ", tuned GEMMs" : "") + (options.Bf16Stream ? "" : ", fp32 no-grad residual stream") +
        (options.Bf16Intermediates && !options.Bf16RecordedQkv ? ", fp32 recorded qkv" : "") +
        (options.FusedModuleMaxRows > 0 ? ", fused module kernel" : "") +
        (options.SwiGluChunkRows > 0 ? $", gate/up + SwiGLU in chunks of {options.SwiGluChunkRows:N0} rows" : "") +
        (options.BlockChunkRows > 0 ? $", block after attention in chunks of {options.BlockChunkRows:N0} rows" : "");
}
