using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Hrm.Bench;

/// <summary>
/// The job of a benchmark class: one launch, <c>warmupCount</c> warm-up and <c>iterationCount</c> measured
/// iterations, run in-process. In-process because the out-of-process toolchain looks for a project named after the
/// assembly (<c>hrm-bench.csproj</c>; ours is <c>Hrm.Bench.csproj</c>) and would rebuild and copy libtorch (the
/// <c>compare</c> baseline) for every job. Unlike <c>[SimpleJob]</c>, it steps aside when the command line names
/// a job (<see cref="BenchmarkSuites"/> sets <see cref="Disabled"/>), so <c>--job dry</c> runs the dry job only
/// instead of both.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class HrmJobAttribute(int warmupCount, int iterationCount) : Attribute, IConfigSource
{
    /// <summary>True when the command line names the job; set before BenchmarkDotNet reads the attributes.</summary>
    public static bool Disabled { get; set; }

    public int WarmupCount { get; } = warmupCount;

    public int IterationCount { get; } = iterationCount;

    public IConfig Config => Disabled
        ? ManualConfig.CreateEmpty()
        : ManualConfig.CreateEmpty().AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(WarmupCount)
            .WithIterationCount(IterationCount).WithToolchain(InProcessEmitToolchain.Instance));
}
