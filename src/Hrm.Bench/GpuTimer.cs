using System.Diagnostics;
using System.Globalization;
using Hrm.Bench.Compare;
using Hrm.Bench.E2E;
using Hrm.Runtime.Backends.Cuda;
using Hrm.Runtime.Backends.Cuda.Interop;
using Hrm.Runtime.Config;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;
using Hrm.Runtime.Numerics;

namespace Hrm.Bench;

/// <summary>
/// <c>hrm-bench gpu</c>: the CUDA backend at the issue's sizes, timed with CUDA events on the backend's stream
/// (median of a few repeats after one warm-up), printed as a markdown table with TFLOP/s. FLOPs: a block
/// application on S positions is 2·S·3,407,872 + 4·S²·512 per sample (spec 4.2); a segment forward is 24 of them,
/// a training step 64 (recorded segment 24, Q-target segment 24, 1-step backward 16); attention is 4·B·NH·T²·HS
/// forward and twice that backward. The batch-1 solve is wall clock (what a caller waits for), with fp32 and with bf16
/// GEMMs, each with and without CUDA graphs (the rows without say how many kernels and GEMMs one solve queues).
/// </summary>
public static partial class GpuTimer
{
    /// <param name="o">Where the table goes.</param>
    /// <param name="bf16Attention">bf16 tensor-core attention (kernel2) or fp32 (kernel1).</param>
    /// <param name="smoke">Every case at toy sizes (a 2-layer model with head size 64, batches 1 and 2, attention
    /// at B = 1): checks in seconds that the whole table runs (for example on the CPU emulator of tests/gpu-emu);
    /// its numbers mean nothing.</param>
    /// <param name="only">Only some rows: "fused" (the fused module kernel's rows and stage times, and the unfused
    /// rows they compare with: <c>hrm-bench gpu --fused</c>), "short-attention" (<c>--short-attention</c>: the
    /// Sudoku attention's kernels at batch 768, and a training step with and without the recorded bf16 q/k/v),
    /// "chunks" (<c>--chunks</c>: row chunks for the L2 cache against none); empty: the whole table.</param>
    public static int Run(TextWriter o, bool bf16Attention, bool smoke = false,
        IReadOnlyCollection<string>? only = null)
    {
        var options = new CudaBackendOptions { Bf16Attention = bf16Attention };
        if (!CudaBackend.TryCreate(options, out CudaBackend? probe, out string reason))
        {
            o.WriteLine($"hrm-bench gpu: no CUDA device: {reason}");
            return 1;
        }
        string device = probe.DeviceDescription;
        probe.Dispose();
        o.WriteLine($"device: {device}; attention {(bf16Attention ? "bf16 (kernel2)" : "fp32 (kernel1)")}; GEMMs " +
            "fp32 (cuBLAS) unless the case says bf16 (cuBLASLt, fp32 accumulation)");
        if (smoke) o.WriteLine("smoke run: toy sizes (C=128, 2 heads of 64, 1+1 layers, batch <= 2); the numbers mean nothing");
        o.WriteLine();
        o.WriteLine("| case | batch | median ms | TFLOP/s |");
        o.WriteLine("|---|---:|---:|---:|");
        HrmConfig sudoku = smoke
            ? HrmPresets.Get("tiny") with { HiddenSize = 128, NumHeads = 2, HLayers = 1, LLayers = 1, PuzzleEmbNdim = 128 }
            : HrmPresets.Get("sudoku-extreme-1k");
        int big = smoke ? 2 : 768;
        CudaBackendOptions bf16 = options with { Bf16Matmul = true };
        if (only is { Count: > 0 })
        {
            Selected(o, only, bf16, sudoku, big);
            return 0;
        }
        AllRows(o, options, bf16, sudoku, big, smoke);
        o.WriteLine();
        foreach (string line in Notes) o.WriteLine(line);
        return 0;
    }

    /// <summary>
    /// The fused module kernel (module_fused.cu: a module call per launch, grid-wide barriers between its stages) at
    /// batch 1 against the same ops unfused: a segment, its stage times (a note), the solve with and without graphs
    /// at the kernel's default split (4 warps per GEMM tile), then 1 and 2, then half the resident grid.
    /// </summary>
    private static void FusedRows(TextWriter o, CudaBackendOptions bf16, HrmConfig sudoku)
    {
        CudaBackendOptions fused = bf16 with { FusedModuleMaxRows = 4096 };
        Segment(o, bf16, sudoku, 1);
        Segment(o, fused, sudoku, 1);
        FusedStages(fused, sudoku); // before the rows below: the one thing no GPU has measured yet
        Solve(o, fused with { Graphs = false }, sudoku);
        Solve(o, fused, sudoku);
        SolveGraphOps(fused, sudoku, "fused module kernel");
        Solve(o, fused, sudoku, b => b.FusedModuleSplitK = 1, "1 warp per GEMM tile");
        Solve(o, fused, sudoku, b => b.FusedModuleSplitK = 2, "2 warps per GEMM tile");
        Solve(o, fused, sudoku, b => b.FusedModuleGridCap = b.DeviceSmCount / 2, "grid capped at half the SMs");
    }

    /// <summary>Lines printed after the table: what the GEMM tuning found in the rows marked "tuned", the fused module
    /// kernel's stage times, the batch-1 solve's graph op by op.</summary>
    private static readonly List<string> Notes = [];

    /// <summary>Sums up <see cref="CudaBackend.GemmTunings"/> for the case <paramref name="name"/>.</summary>
    private static void NoteTuning(string name, CudaBackend backend)
    {
        IReadOnlyList<GemmTuning> t = backend.GemmTunings;
        if (t.Count == 0) return;
        double first = t.Sum(x => x.FirstMs), chosen = t.Sum(x => x.ChosenMs);
        Notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"gemm tuning, {name}: {t.Count} shapes timed, {t.Count(x => x.Chosen != 0)} changed; one call of each: " +
            $"{chosen:F3} ms tuned vs {first:F3} ms with the heuristic's first ({first / chosen:F3}x)"));
        foreach (GemmTuning x in t.Where(x => x.Chosen != 0)) Notes.Add("  " + x);
    }

    private static double BlockFlops(int s) => 2.0 * s * 3_407_872 + 4.0 * s * s * 512;

    private static void Segment(TextWriter o, CudaBackendOptions options, HrmConfig cfg, int batch)
    {
        var backend = CudaBackend.Create(options);
        using var m = new BenchModel(cfg, backend, batch, training: false);
        backend.BeginWeightReuse(); // as Evaluate: the bf16 weight copies are made once
        double ms = Time(backend, () => m.Forward(), batch >= 256 ? 5 : 11, out long launches);
        backend.EndWeightReuse();
        Row(o, $"segment forward, Sudoku (T={cfg.TotalSeqLen}), {Gemms(options)}, {launches:N0} launches", batch, ms,
            batch * BlockFlops(cfg.TotalSeqLen) * 24);
    }

    private static void TrainingStep(TextWriter o, CudaBackendOptions options, HrmConfig cfg, int batch,
        int microBatch = 0, string what = "Sudoku")
    {
        var backend = CudaBackend.Create(options);
        int rows = microBatch > 0 ? microBatch : batch;
        using var m = new BenchModel(cfg, backend, rows, training: true);
        using var step = new OurTrainingStep(m.Model, batch, microBatch); // the trainer's step: nothing is read back
        (int[] tokens, int[] labels, int[] ids) = OurTrainingStep.Inputs(cfg, batch);
        double ms = Time(backend, () => step.Run(tokens, labels, ids), 3, out long launches);
        if (options.Bf16Matmul && options.TuneGemms) NoteTuning($"training step, {what}, batch {batch}", backend);
        string split = microBatch > 0 && microBatch < batch ? $", {batch / microBatch} micro-batches of {microBatch}" : "";
        Row(o, $"training step (ACT step: 2 segments, loss, 1-step backward, optimisers), {what} (T={cfg.TotalSeqLen})" +
            $"{split}, {Gemms(options)}, {launches:N0} launches", batch, ms,
            batch * BlockFlops(cfg.TotalSeqLen) * 64);
    }

    /// <summary>
    /// The solver's batch-1 loop, wall clock: a fresh carry, then per segment the segment (a CUDA graph when
    /// <see cref="CudaBackendOptions.Graphs"/>) and the Q and token logits read back, HaltMaxSteps (16) times.
    /// </summary>
    private static void Solve(TextWriter o, CudaBackendOptions options, HrmConfig cfg, Action<CudaBackend>? tune = null,
        string note = "")
    {
        var backend = CudaBackend.Create(options);
        tune?.Invoke(backend);
        using var m = new BenchModel(cfg, backend, 1, training: false);
        int steps = cfg.HaltMaxSteps;
        float[] q = new float[2], logits = new float[cfg.SeqLen * cfg.VocabSize];
        int[] fresh = [1];
        void Run()
        {
            m.Model.ResetRows(1, fresh);
            for (int s = 0; s < steps; s++)
            {
                m.Model.SegmentRows(1);
                m.Model.ReadQRows(1, q);
                m.Model.ReadLogitsRows(1, logits);
            }
        }
        backend.BeginWeightReuse(); // as the solver, which owns the model for its whole run
        Run();
        long launches = backend.Launches;
        Run(); // the segment's graph is captured during the second segment of the first run
        launches = backend.Launches - launches; // without graphs: the kernels and GEMMs of one solve
        var ms = new double[11];
        for (int i = 0; i < ms.Length; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            Run();
            ms[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }
        backend.EndWeightReuse();
        if (options.Bf16Matmul && options.TuneGemms && options.Graphs) NoteTuning("solve, batch 1", backend);
        Array.Sort(ms);
        string how = options.Graphs ? $"CUDA graphs ({backend.GraphCount} alive, " +
            $"{(backend.GraphFallbacks.Count == 0 ? "no fallback" : "fallback: " + backend.GraphFallbacks[0])})"
            : $"no graphs, {launches:N0} launches";
        if (options.FusedModuleMaxRows > 0)
            how += (backend.FusedModuleCalls > 0 ? "" : " (it did not run)") + (note.Length > 0 ? $", {note}" : "");
        Row(o, $"solve, {steps} segments + reads, wall clock, {Gemms(options)}, {how}", 1, ms[ms.Length / 2],
            steps * BlockFlops(cfg.TotalSeqLen) * 24);
    }

    /// <summary>
    /// The fused module kernel's stages at batch 1 (a note after the table): per stage the mean over 20 segments of
    /// block 0's global-timer stamps around it in the segment's last launch (the last H call: the input add, then each
    /// layer's stages, each up to the end of its grid barrier), and one grid barrier alone at the kernel's grid.
    /// </summary>
    private static void FusedStages(CudaBackendOptions options, HrmConfig cfg)
    {
        var backend = CudaBackend.Create(options);
        using var m = new BenchModel(cfg, backend, 1, training: false);
        backend.BeginWeightReuse();
        m.Forward();
        backend.FusedModuleStamping = true;
        string[] names = ["qkv", "attention", "o_proj", "norm", "gate/up + SwiGLU", "down", "norm"];
        var sums = new double[names.Length + 2]; // the stages, the input add, the whole launch
        const int runs = 20;
        int layers = 0, inputs = 0;
        for (int r = 0; r < runs && backend.FusedModuleRefusal is null; r++)
        {
            m.Forward();
            // The segment's last launch: start, [the input add,] 7 per layer (the last layer's last: block 0's end).
            long[] st = backend.FusedModuleStamps();
            if (st.Length < 8) break;
            layers = (st.Length - 1) / 7;
            int s0 = (st.Length - 1) % 7 == 1 ? 2 : 1;
            if (s0 == 2) (sums[names.Length], inputs) = (sums[names.Length] + st[1] - st[0], inputs + 1);
            sums[names.Length + 1] += st[^1] - st[0];
            for (int l = 0; l < layers; l++)
                for (int i = 0; i < names.Length; i++) sums[i] += st[s0 + 7 * l + i] - st[s0 - 1 + 7 * l + i];
        }
        backend.FusedModuleStamping = false;
        if (backend.FusedModuleRefusal is not null || layers == 0)
        {
            Notes.Add("fused module kernel stages: not measured (" + (backend.FusedModuleRefusal ?? "no stamps") + ")");
            backend.EndWeightReuse();
            return;
        }
        (int grid, double barrierUs) = backend.TimeGridBarrier(1, cfg.TotalSeqLen, cfg.NumHeads, cfg.Intermediate, 2000);
        backend.EndWeightReuse();
        var line = new System.Text.StringBuilder(string.Create(CultureInfo.InvariantCulture,
            $"fused module kernel, batch 1 (T={cfg.TotalSeqLen}), grid {grid}, us per stage incl. its barrier, " +
            $"mean of {runs} launches x {layers} layers:"));
        for (int i = 0; i < names.Length; i++)
        {
            line.Append(string.Create(CultureInfo.InvariantCulture,
                $" {names[i]} {sums[i] / 1000.0 / runs / layers:F2};"));
        }
        line.Append(string.Create(CultureInfo.InvariantCulture,
            $" input add {sums[names.Length] / 1000.0 / Math.Max(1, inputs):F2}; the launch " +
            $"{sums[names.Length + 1] / 1000.0 / runs:F2} (block 0's view); one grid barrier alone {barrierUs:F2}"));
        Notes.Add(line.ToString());
    }

    /// <summary>
    /// <see cref="HrmModel.Evaluate"/> at batch 1, wall clock: the first ACT call (inputs staged), then the other
    /// HaltMaxSteps − 1 segments as one recorded sequence (one CUDA graph when <see cref="CudaBackendOptions.Graphs"/>)
    /// and the Q logits read; the token logits read after it.
    /// </summary>
    private static void Evaluate(TextWriter o, CudaBackendOptions options, HrmConfig cfg)
    {
        var backend = CudaBackend.Create(options);
        using var m = new BenchModel(cfg, backend, 1, training: false);
        float[] logits = new float[cfg.SeqLen * cfg.VocabSize];
        void Run()
        {
            m.Model.Evaluate(m.Tokens, m.Ids);
            m.Model.ReadLogits(logits);
        }
        Run();
        Run(); // captured here
        var ms = new double[11];
        for (int i = 0; i < ms.Length; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            Run();
            ms[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }
        Array.Sort(ms);
        int steps = cfg.HaltMaxSteps;
        string how = options.Graphs ? $"segments 2-{steps} as one CUDA graph " +
            $"({(backend.GraphFallbacks.Count == 0 ? "no fallback" : "fallback: " + backend.GraphFallbacks[0])})" : "no graphs";
        Row(o, $"evaluate, {steps} segments, wall clock, {how}", 1, ms[ms.Length / 2],
            steps * BlockFlops(cfg.TotalSeqLen) * 24);
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
        double fwd = Time(backend, () => backend.AttentionForward(output, lse, qkv, b, t, nh, hs), 5, out _);
        double bwd = Time(backend, () => backend.AttentionBackward(dqkv, dout, qkv, output, lse, b, t, nh, hs), 5, out _);
        double flop = 4.0 * b * nh * (double)t * t * hs;
        string kind = backend.UsesBf16Attention(hs) ? "bf16" : "fp32";
        Row(o, $"attention forward ({kind}), T={t}, NH={nh}, HS={hs}, fp32 qkv (pack + kernel2)", b, fwd, flop);
        Row(o, $"attention backward ({kind}), T={t}, NH={nh}, HS={hs}", b, bwd, 2 * flop);
        if (!backend.UsesBf16Attention(hs)) return;
        // The bf16 qkv the no-grad forwards' GEMM writes (bf16 intermediates): read in place by kernel5, no pack; with
        // RoPE (the model's no-grad forward at this T) Q and K rotated into scratch first (attention_rope_rows_kernel1).
        Buf words = backend.Allocate((3L * b * t * c + 1) / 2, "qkv16");
        var pairs = new float[chunk.Length];
        for (int i = 0; i < pairs.Length; i++)
        {
            uint lo = BFloat16.FromFloat(chunk[i]), hi = BFloat16.FromFloat(chunk[(i + 7919) % chunk.Length]);
            pairs[i] = BitConverter.UInt32BitsToSingle(lo | (hi << 16));
        }
        for (long at = 0; at < words.Length; at += pairs.Length)
        {
            int n = (int)Math.Min(pairs.Length, words.Length - at);
            backend.Upload(pairs.AsSpan(0, n), words.Slice(at, n));
        }
        Buf qkv16 = new(words.Address, 3L * b * t * c, sizeof(ushort));
        double fwd16 = Time(backend, () => backend.AttentionForward(output, lse, qkv16, b, t, nh, hs), 5, out _);
        Row(o, $"attention forward (bf16), T={t}, NH={nh}, HS={hs}, bf16 qkv read in place (kernel5, no pack)", b,
            fwd16, flop);
        if (!backend.Bf16QkvForward(t, hs)) return;
        Buf cos = backend.Allocate((long)t * hs, "cos"), sin = backend.Allocate((long)t * hs, "sin");
        backend.Upload(chunk.AsSpan(0, t * hs), cos);
        backend.Upload(chunk.AsSpan(t * hs, t * hs), sin);
        double rope = Time(backend, () => backend.RopeAttentionForward(output, lse, qkv16, cos, sin, b, t, nh, hs,
            keepRotated: false), 5, out long launches);
        Row(o, $"RoPE + attention forward (bf16), T={t}, NH={nh}, HS={hs}, bf16 qkv, no-grad ({launches} launches)", b,
            rope, flop);
    }

    /// <summary>Median milliseconds of <paramref name="reps"/> runs after one warm-up, from CUDA events; also the
    /// kernels and GEMMs one timed run queued (<see cref="CudaBackend.Launches"/>).</summary>
    private static double Time(CudaBackend backend, Action run, int reps, out long launches)
    {
        run();
        backend.Synchronize();
        long before = backend.Launches;
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
        launches = (backend.Launches - before) / reps;
        Array.Sort(ms);
        return ms[reps / 2];
    }

    private static readonly Stopwatch Since = Stopwatch.StartNew();

    /// <summary>A table row, and on stderr when it was done (seconds since the start: a stage that runs out of time
    /// shows which row took it).</summary>
    private static void Row(TextWriter o, string name, int batch, double ms, double flops)
    {
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {batch} | {ms:F2} | {flops / ms / 1e9:F1} |"));
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"hrm-bench gpu: {Since.Elapsed.TotalSeconds:F1} s: {name}, batch {batch}"));
    }
}
