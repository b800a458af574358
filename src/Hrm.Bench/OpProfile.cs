using System.Globalization;
using Hrm.Bench.Compare;
using Hrm.Bench.E2E;
using Hrm.Runtime.Backends;
using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Backends.Cuda;
using Hrm.Runtime.Config;
using Hrm.Train.Training;
using Hrm.Runtime.Model;
using Hrm.Runtime.Numerics;

namespace Hrm.Bench;

/// <summary>
/// <c>hrm-bench profile [preset] [batch] [segments] [threads]</c>: where a segment forward's time goes, op by op
/// (<see cref="ProfilingBackend"/> around the CPU backend), after one warm-up segment. Defaults: the Sudoku
/// config, batch 1, 16 segments (the solve of <c>compare</c>).
/// <c>hrm-bench profile-train [preset] [batch] [steps] [threads]</c>: the same for the training step of
/// <c>compare</c> (<see cref="OurTrainingStep"/>), after one warm-up step. Defaults: Sudoku, batch 32, 3 steps.
/// <c>hrm-bench gpu-profile-train [preset] [batch] [steps] [--fp32-gemms]</c>: that training step on the CUDA backend,
/// bf16 GEMMs unless told, every op waited for (<see cref="CudaBackendOptions.SynchronizeEachOp"/>) so that its wall
/// time is its device time plus one launch and one wait. Defaults: Sudoku, batch 768, 2 steps.
/// <c>hrm-bench gpu-profile [preset] [batch] [segments] [--fp32-gemms]</c>: the segment forwards of <c>profile</c> on
/// the CUDA backend, likewise every op waited for (at batch 1 each op's time is mostly launch and wait: compare ops
/// with each other, not with the graph-replayed solve). Defaults: Sudoku, batch 1, 16 segments.
/// </summary>
public static class OpProfile
{
    public static void Run(TextWriter o, string preset, int batch, int segments, int threads)
    {
        HrmConfig cfg = HrmPresets.Get(preset);
        var backend = new ProfilingBackend(new CpuBackend(threads));
        using var m = new BenchModel(cfg, backend, batch, training: false);
        m.Forward(); // warm-up: JIT, packing scratch
        backend.ResetTimes();
        for (int i = 0; i < segments; i++) m.Forward();
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{preset}, batch {batch}, {segments} segment forwards, {Threads(threads)} threads"));
        o.Write(backend.Report());
    }

    public static void RunTraining(TextWriter o, string preset, int batch, int steps, int threads)
    {
        HrmConfig cfg = HrmPresets.Get(preset);
        var backend = new ProfilingBackend(new CpuBackend(threads));
        using var model = new HrmModel(cfg, backend);
        model.Initialize(new HrmRandom(1));
        using var step = new OurTrainingStep(model, batch);
        (int[] tokens, int[] labels, int[] ids) = OurTrainingStep.Inputs(cfg, batch); // (B, L), (B, L), (B)
        step.Step(tokens, labels, ids); // warm-up
        backend.ResetTimes();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < steps; i++) step.Step(tokens, labels, ids);
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{preset}, batch {batch}, {steps} training steps, {Threads(threads)} threads, " +
            $"{sw.Elapsed.TotalMilliseconds / steps:F1} ms/step"));
        o.Write(backend.Report());
    }

    public static int RunGpu(TextWriter o, string preset, int batch, int segments, bool bf16Matmul)
    {
        HrmConfig cfg = HrmPresets.Get(preset);
        if (!TryCuda(o, "gpu-profile", bf16Matmul, bf16Intermediates: true, out CudaBackend? cuda)) return 1;
        var backend = new ProfilingBackend(cuda);
        using var m = new BenchModel(cfg, backend, batch, training: false);
        m.Forward(); // warm-up: kernels loaded, scratch grown, GEMM plans made
        backend.ResetTimes();
        long launches = cuda.Launches;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < segments; i++) m.Forward();
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{preset}, batch {batch}, {segments} segment forwards on {cuda.DeviceDescription}, " +
            $"{(bf16Matmul ? "bf16" : "fp32")} GEMMs, every op waited for: {sw.Elapsed.TotalMilliseconds / segments:F2} " +
            $"ms/segment, {(cuda.Launches - launches) / segments} launches/segment"));
        o.Write(backend.Report());
        return 0;
    }

    private static bool TryCuda(TextWriter o, string command, bool bf16Matmul, bool bf16Intermediates,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out CudaBackend? cuda)
    {
        var options = new CudaBackendOptions
        {
            Bf16Matmul = bf16Matmul, Bf16Intermediates = bf16Intermediates, SynchronizeEachOp = true,
        };
        if (CudaBackend.TryCreate(options, out cuda, out string reason)) return true;
        o.WriteLine($"hrm-bench {command}: no CUDA device: {reason}");
        return false;
    }

    public static int RunGpuTraining(TextWriter o, string preset, int batch, int steps, bool bf16Matmul,
        bool bf16Intermediates = true)
    {
        HrmConfig cfg = HrmPresets.Get(preset);
        if (!TryCuda(o, "gpu-profile-train", bf16Matmul, bf16Intermediates, out CudaBackend? cuda)) return 1;
        var backend = new ProfilingBackend(cuda);
        using var model = new HrmModel(cfg, backend);
        model.Initialize(new HrmRandom(1));
        using var step = new OurTrainingStep(model, batch);
        (int[] tokens, int[] labels, int[] ids) = OurTrainingStep.Inputs(cfg, batch); // (B, L), (B, L), (B)
        step.Step(tokens, labels, ids); // warm-up: kernels loaded, scratch grown, GEMM plans made
        backend.ResetTimes();
        long launches = cuda.Launches;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < steps; i++) step.Step(tokens, labels, ids);
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{preset}, batch {batch}, {steps} training steps on {cuda.DeviceDescription}, " +
            $"{(bf16Matmul ? "bf16" : "fp32")} GEMMs{(cuda.Bf16Intermediates ? " and intermediates" : "")}, every op waited for: {sw.Elapsed.TotalMilliseconds / steps:F1} ms/step, " +
            $"{(cuda.Launches - launches) / steps} launches/step"));
        o.Write(backend.Report());
        return 0;
    }

    private static int Threads(int threads) => threads == 0 ? Environment.ProcessorCount : threads;
}
