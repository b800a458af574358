using System.Reflection;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using Hrm.Runtime.Backends.Cuda;

namespace Hrm.Bench;

/// <summary>
/// Runs the BenchmarkDotNet classes of this assembly through <see cref="BenchmarkSwitcher"/> (all its options:
/// <c>--filter</c>, <c>--anyCategories</c>, <c>--job</c>, <c>--list</c>, ...). Classes of category <c>Cuda</c> are
/// left out, with one line saying why, when no CUDA device can be opened (BenchmarkDotNet has no skip attribute).
/// A job named on the command line replaces the classes' <see cref="HrmJobAttribute"/> jobs and runs in-process.
/// </summary>
public static class BenchmarkSuites
{
    /// <summary>The category whose classes need a CUDA device.</summary>
    public const string CudaCategory = "Cuda";

    // BenchmarkDotNet options that define a job; any of them replaces the classes' own jobs.
    private static readonly string[] JobOptions =
        ["--job", "-j", "--launchCount", "--warmupCount", "--iterationCount", "--invocationCount", "--strategy",
         "--runtimes", "-r"];

    public static int Run(string[] args, TextWriter log)
    {
        Type[] types = typeof(BenchmarkSuites).Assembly.GetTypes().Where(IsBenchmark).ToArray();
        if (types.Any(IsCuda) && !CudaAvailable(out string reason))
        {
            log.WriteLine($"Cuda benchmarks skipped: {reason.ReplaceLineEndings(" ")}");
            types = types.Where(t => !IsCuda(t)).ToArray();
        }
        if (args.Any(a => JobOptions.Contains(a.Split('=')[0], StringComparer.OrdinalIgnoreCase)))
        {
            HrmJobAttribute.Disabled = true;
            if (!args.Contains("--inProcess", StringComparer.OrdinalIgnoreCase)) args = [.. args, "--inProcess"];
        }
        BenchmarkSwitcher.FromTypes(types).Run(args);
        return 0;
    }

    private static bool CudaAvailable(out string reason)
    {
        if (!CudaDevice.TryCreate(0, out CudaDevice? device, out reason)) return false;
        device.Dispose();
        return true;
    }

    private static bool IsBenchmark(Type t) =>
        t is { IsClass: true, IsAbstract: false, IsPublic: true } &&
        t.GetMethods().Any(m => m.GetCustomAttribute<BenchmarkAttribute>() != null);

    private static bool IsCuda(Type t) =>
        t.GetCustomAttributes<BenchmarkCategoryAttribute>(inherit: true)
            .Any(a => a.Categories.Contains(CudaCategory, StringComparer.OrdinalIgnoreCase));
}
