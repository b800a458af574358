using System.Globalization;
using Hrm.Bench.E2E;
using Hrm.Runtime.Backends.Cuda;
using Hrm.Runtime.Backends.Cuda.Interop;
using Hrm.Runtime.Config;
using Hrm.Runtime.Memory;
using static Hrm.Runtime.Memory.ParameterLayout;

namespace Hrm.Bench;

/// <summary>
/// <c>hrm-bench gpu</c>: the CUDA backend at the issue's sizes, timed with CUDA events on the backend's stream
/// (median of a few repeats after one warm-up), printed as a markdown table with TFLOP/s. FLOPs: a block
/// application on S positions is 2·S·3,407,872 + 4·S²·512 per sample (spec 4.2); a segment forward is 24 of them,
/// a training step 64 (recorded segment 24, Q-target segment 24, 1-step backward 16); attention is 4·B·NH·T²·HS
/// forward and twice that backward.
/// </summary>
public static class GpuTimer
{
    public static int Run(TextWriter o, bool bf16Attention)
    {
        var options = new CudaBackendOptions { Bf16Attention = bf16Attention };
        if (!CudaBackend.TryCreate(options, out CudaBackend? probe, out string reason))
        {
            o.WriteLine($"hrm-bench gpu: no CUDA device: {reason}");
            return 1;
        }
        string device = probe.DeviceDescription;
        probe.Dispose();
        o.WriteLine($"device: {device}; attention {(bf16Attention ? "bf16 (kernel2)" : "fp32 (kernel1)")}, GEMMs fp32");
        o.WriteLine();
        o.WriteLine("| case | batch | median ms | TFLOP/s |");
        o.WriteLine("|---|---:|---:|---:|");
        HrmConfig sudoku = HrmPresets.Get("sudoku-extreme-1k");
        foreach (int batch in new[] { 1, 64, 768 }) Segment(o, options, sudoku, batch);
        TrainingStep(o, options, sudoku, 768);
        Attention(o, options, 768, 901, 8, 64);
        return 0;
    }

    private static double BlockFlops(int s) => 2.0 * s * 3_407_872 + 4.0 * s * s * 512;

    private static void Segment(TextWriter o, CudaBackendOptions options, HrmConfig cfg, int batch)
    {
        var backend = CudaBackend.Create(options);
        using var m = new BenchModel(cfg, backend, batch, training: false);
        double ms = Time(backend, () => m.Forward(), batch >= 256 ? 5 : 11);
        Row(o, $"segment forward, Sudoku (T={cfg.TotalSeqLen})", batch, ms, batch * BlockFlops(cfg.TotalSeqLen) * 24);
    }

    private static void TrainingStep(TextWriter o, CudaBackendOptions options, HrmConfig cfg, int batch)
    {
        var backend = CudaBackend.Create(options);
        using var m = new BenchModel(cfg, backend, batch, training: true);
        long dense = m.Model.Layout.DenseElements;
        Buf adamM = backend.Allocate(dense, "AdamATan2 m"), adamV = backend.Allocate(dense, "AdamATan2 v");
        int step = 0;
        void Step()
        {
            m.Model.ZeroGrads();
            m.Model.Segment(record: true);
            m.Model.Segment(record: false); // stands in for the Q-target segment (same work, no recording)
            m.Model.Backward();
            backend.AdamATan2Step(m.Model.Params.Slice(0, dense), m.Model.Grads, adamM, adamV, 1e-4, 0.9, 0.95,
                0.1, ++step);
            backend.SignSgdRows(m.Model.Param(Names.PuzzleEmb), m.Model.PuzzleRowsGrad, m.Model.PuzzleIdsBuffer,
                batch, cfg.PuzzleEmbNdim, 1e-2, 0.1);
        }
        double ms = Time(backend, Step, 3);
        Row(o, "training step (2 segments + 1-step backward + optimisers), Sudoku", batch, ms,
            batch * BlockFlops(cfg.TotalSeqLen) * 64);
    }

    private static void Attention(TextWriter o, CudaBackendOptions options, int b, int t, int nh, int hs)
    {
        using CudaBackend backend = CudaBackend.Create(options);
        long c = (long)nh * hs;
        Buf qkv = backend.Allocate(3L * b * t * c, "qkv"), output = backend.Allocate(b * t * c, "out");
        Buf lse = backend.Allocate((long)b * nh * t, "lse"), dout = backend.Allocate(b * t * c, "dout");
        Buf dqkv = backend.Allocate(3L * b * t * c, "dqkv");
        // Random values in a 16M-float chunk, uploaded over the buffers piece by piece (qkv is 4 GiB at B=768).
        Random rng = new(1);
        float[] chunk = new float[1 << 24];
        for (int i = 0; i < chunk.Length; i++) chunk[i] = (float)(rng.NextDouble() * 2 - 1);
        foreach (Buf buf in new[] { qkv, dout })
        {
            for (long at = 0; at < buf.Length; at += chunk.Length)
            {
                int n = (int)Math.Min(chunk.Length, buf.Length - at);
                backend.Upload(chunk.AsSpan(0, n), buf.Slice(at, n));
            }
        }
        double fwd = Time(backend, () => backend.AttentionForward(output, lse, qkv, b, t, nh, hs), 5);
        double bwd = Time(backend, () => backend.AttentionBackward(dqkv, dout, qkv, output, lse, b, t, nh, hs), 5);
        double flop = 4.0 * b * nh * (double)t * t * hs;
        string kind = backend.UsesBf16Attention(hs) ? "bf16" : "fp32";
        Row(o, $"attention forward ({kind}), T={t}, NH={nh}, HS={hs}", b, fwd, flop);
        Row(o, $"attention backward ({kind}), T={t}, NH={nh}, HS={hs}", b, bwd, 2 * flop);
    }

    /// <summary>Median milliseconds of <paramref name="reps"/> runs after one warm-up, from CUDA events.</summary>
    private static double Time(CudaBackend backend, Action run, int reps)
    {
        run();
        backend.Synchronize();
        using var start = CudaEvent.Create(backend.Device.Context);
        using var end = CudaEvent.Create(backend.Device.Context);
        var ms = new double[reps];
        for (int i = 0; i < reps; i++)
        {
            start.Record(backend.Stream);
            run();
            end.Record(backend.Stream);
            end.Synchronize();
            ms[i] = CudaEvent.ElapsedMilliseconds(start, end);
        }
        Array.Sort(ms);
        return ms[reps / 2];
    }

    private static void Row(TextWriter o, string name, int batch, double ms, double flops) =>
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {batch} | {ms:F2} | {flops / ms / 1e9:F1} |"));
}
