using BenchmarkDotNet.Attributes;
using Hrm.Runtime.Config;

namespace Hrm.Bench.E2E;

/// <summary>One segment forward (24 block applications + heads), Sudoku config (T = 82).</summary>
[MemoryDiagnoser]
[JsonExporterAttribute.Full]
[BenchmarkCategory("E2E", "Cpu")]
[HrmJob(warmupCount: 2, iterationCount: 5)]
public class SegmentForwardBench : IDisposable
{
    private BenchModel? _m;

    [Params(1, 64)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup() => _m = new BenchModel(HrmPresets.Get("sudoku-extreme-1k"), Batch, training: false);

    [GlobalCleanup]
    public void Dispose()
    {
        _m?.Dispose();
        _m = null;
        GC.SuppressFinalize(this);
    }

    [Benchmark]
    public int SegmentForward()
    {
        _m!.Forward();
        return _m.Model.Batch;
    }
}
