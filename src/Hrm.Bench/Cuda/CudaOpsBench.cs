using BenchmarkDotNet.Attributes;
using Hrm.Runtime.Backends.Cuda;

namespace Hrm.Bench.Cuda;

/// <summary>
/// CUDA benchmarks (category <c>Cuda</c>), a placeholder until the CUDA backend lands: for now only
/// <see cref="CudaDevice.Synchronize"/> (make the context current, <c>cuCtxSynchronize</c>) with nothing queued,
/// the floor under every synchronised launch. Op and segment benchmarks on the CUDA backend join this class when
/// it exists. <c>Program</c> leaves the category out, with a
/// one-line reason, when <see cref="CudaDevice.TryCreate"/> fails.
/// </summary>
[MemoryDiagnoser]
[JsonExporterAttribute.Full]
[BenchmarkCategory("Cuda")]
[HrmJob(warmupCount: 2, iterationCount: 5)]
public class CudaOpsBench : IDisposable
{
    private CudaDevice? _device;

    [GlobalSetup]
    public void Setup()
    {
        if (!CudaDevice.TryCreate(0, out _device, out string reason))
            throw new InvalidOperationException($"CudaOpsBench needs a CUDA device: {reason}");
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _device?.Dispose();
        _device = null;
        GC.SuppressFinalize(this);
    }

    [Benchmark]
    public int Synchronize()
    {
        _device!.Synchronize();
        return _device.Ordinal;
    }
}
