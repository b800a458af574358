using System.Globalization;
using Hrm.Bench.E2E;
using Hrm.Runtime.Backends;
using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Config;

namespace Hrm.Bench;

/// <summary>
/// <c>hrm-bench profile [preset] [batch] [segments] [threads]</c>: where a segment forward's time goes, op by op
/// (<see cref="ProfilingBackend"/> around the CPU backend), after one warm-up segment. Defaults: the Sudoku
/// config, batch 1, 16 segments (the solve of <c>compare</c>).
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
            $"{preset}, batch {batch}, {segments} segment forwards, {(threads == 0 ? Environment.ProcessorCount : threads)} threads"));
        o.Write(backend.Report());
    }
}
