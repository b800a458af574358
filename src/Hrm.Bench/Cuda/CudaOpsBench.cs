using BenchmarkDotNet.Attributes;
using Hrm.Bench.E2E;
using Hrm.Runtime.Backends.Cuda;
using Hrm.Runtime.Config;

namespace Hrm.Bench.Cuda;

/// <summary>
/// CUDA end-to-end benchmarks (category <c>Cuda</c>), Sudoku config (T = 82) on <see cref="CudaBackend"/>:
/// one segment forward and one recorded segment + 1-step backward, each followed by a device synchronise so the
/// time is the GPU's. <c>Program</c> leaves the category out, with a one-line reason, when no device is usable.
/// Per-kernel GPU timings (CUDA events, TFLOP/s) are in <c>hrm-bench gpu</c>.
/// </summary>
[MemoryDiagnoser]
[JsonExporterAttribute.Full]
[BenchmarkCategory("Cuda", "E2E")]
[HrmJob(warmupCount: 2, iterationCount: 5)]
public class CudaOpsBench : IDisposable
{
    private BenchModel? _m;
    private CudaBackend? _backend;

    [Params(1, 64, 768)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        if (!CudaBackend.TryCreate(new CudaBackendOptions(), out _backend, out string reason))
            throw new InvalidOperationException($"CudaOpsBench needs a CUDA device: {reason}");
        _m = new BenchModel(HrmPresets.Get("sudoku-extreme-1k"), _backend!, Batch, training: true);
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _m?.Dispose(); // owns the backend
        _m = null;
        _backend = null;
        GC.SuppressFinalize(this);
    }

    [Benchmark]
    public int SegmentForward()
    {
        _m!.Forward();
        _backend!.Synchronize();
        return _m.Model.Batch;
    }

    [Benchmark]
    public int SegmentForwardBackward()
    {
        _m!.ForwardBackward();
        _backend!.Synchronize();
        return _m.Model.Batch;
    }
}
