using BenchmarkDotNet.Attributes;
using Hrm.Runtime.Threading;

namespace Hrm.Bench.Ops;

/// <summary>
/// Base of the CPU op benchmarks: a <see cref="WorkerPool"/> with one thread per core, created on first use (in
/// the derived class's [GlobalSetup]) and disposed in [GlobalCleanup].
/// </summary>
public abstract class CpuOpBench : IDisposable
{
    private WorkerPool? _pool;

    /// <summary>The pool every op of the benchmark runs on.</summary>
    protected WorkerPool Pool => _pool ??= new WorkerPool(Environment.ProcessorCount);

    [GlobalCleanup]
    public void Dispose()
    {
        _pool?.Dispose();
        _pool = null;
        GC.SuppressFinalize(this);
    }
}
