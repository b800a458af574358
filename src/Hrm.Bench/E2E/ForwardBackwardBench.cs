using BenchmarkDotNet.Attributes;
using Hrm.Runtime.Config;

namespace Hrm.Bench.E2E;

/// <summary>A recorded segment forward plus the 1-step backward, Sudoku config (T = 82).</summary>
[MemoryDiagnoser]
[JsonExporterAttribute.Full]
[BenchmarkCategory("E2E", "Cpu")]
[HrmJob(warmupCount: 1, iterationCount: 3)]
public class ForwardBackwardBench : IDisposable
{
    private BenchModel? _m;

    [Params(32)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup() => _m = new BenchModel(HrmPresets.Get("sudoku-extreme-1k"), Batch, training: true);

    [GlobalCleanup]
    public void Dispose()
    {
        _m?.Dispose();
        _m = null;
        GC.SuppressFinalize(this);
    }

    [Benchmark]
    public int ForwardBackward()
    {
        _m!.ForwardBackward();
        return _m.Model.Batch;
    }
}
