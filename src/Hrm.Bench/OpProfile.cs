using System.Globalization;
using Hrm.Bench.Compare;
using Hrm.Bench.E2E;
using Hrm.Runtime.Backends;
using Hrm.Runtime.Backends.Cpu;
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

    private static int Threads(int threads) => threads == 0 ? Environment.ProcessorCount : threads;
}
