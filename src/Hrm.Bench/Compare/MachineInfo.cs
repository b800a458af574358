using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TorchSharp;

namespace Hrm.Bench.Compare;

/// <summary>Where and when a comparison ran: CPU, cores, memory, OS, runtimes, threads and the load around it.</summary>
public sealed record MachineInfo(string Cpu, int Cores, double MemoryGiB, string Os, string DotNet, string TorchSharp,
    string LibTorch, int Threads, DateTime DateUtc, string LoadBefore, string LoadAfter, double Minutes)
{
    public string Summary => string.Create(CultureInfo.InvariantCulture,
        $"{Cpu}, {Cores} logical cores, {MemoryGiB:F0} GiB, {Os}, .NET {DotNet}, TorchSharp {TorchSharp} " +
        $"(libtorch {LibTorch}), {Threads} threads for both, load average {LoadBefore}");

    public static MachineInfo Collect(int threads)
    {
        string cpu = "unknown CPU";
        if (File.Exists("/proc/cpuinfo"))
        {
            string? line = File.ReadLines("/proc/cpuinfo")
                .FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            if (line != null) cpu = line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
        }
        // The widest vectors the JIT uses: what our kernels (and libtorch's) run on, which the model name may not say.
        // (AVX-512 may be present and still not used: the JIT leaves it off where it would slow the clock down.)
        string avx512 = Avx512F.IsSupported ? "AVX-512 present, not used" : "no AVX-512";
        cpu += Vector512.IsHardwareAccelerated ? " (512-bit vectors)"
            : Vector256.IsHardwareAccelerated ? $" (256-bit vectors, {avx512})"
            : " (128-bit vectors)";
        string ts = typeof(torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? typeof(torch).Assembly.GetName().Version?.ToString() ?? "?";
        int plus = ts.IndexOf('+', StringComparison.Ordinal);
        return new MachineInfo(cpu, Environment.ProcessorCount,
            GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024), RuntimeInformation.OSDescription,
            Environment.Version.ToString(), plus > 0 ? ts[..plus] : ts, torch.__version__, threads, DateTime.UtcNow,
            LoadAverage(), "", 0);
    }

    /// <summary>The 1-, 5- and 15-minute load averages (Linux), or "n/a".</summary>
    public static string LoadAverage() => File.Exists("/proc/loadavg")
        ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3))
        : "n/a";
}
