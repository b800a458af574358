using BenchmarkDotNet.Attributes;
using Hrm.Runtime.Config;
using Hrm.Runtime.Model;

namespace Hrm.Bench.E2E;

/// <summary>
/// A full ACT solve in evaluation mode, Sudoku config (T = 82): a fresh carry, HaltMaxSteps (16) segments, the
/// last segment's logits read back. The loop is <see cref="HrmModel.Evaluate"/>'s, with the
/// <see cref="ActState"/> created once in setup instead of per call.
/// </summary>
[MemoryDiagnoser]
[JsonExporterAttribute.Full]
[BenchmarkCategory("E2E", "Cpu")]
[HrmJob(warmupCount: 1, iterationCount: 3)]
public class ActSolveBench : IDisposable
{
    private BenchModel? _m;
    private ActState? _state;
    private float[] _logits = [];  // (B, L, V)

    [Params(1)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        HrmConfig config = HrmPresets.Get("sudoku-extreme-1k");
        _m = new BenchModel(config, Batch, training: false);
        _state = new ActState(Batch, config.SeqLen);
        _logits = new float[Batch * config.SeqLen * config.VocabSize];
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _m?.Dispose();
        _m = null;
        GC.SuppressFinalize(this);
    }

    [Benchmark]
    public float Solve()
    {
        HrmModel model = _m!.Model;
        int segments = model.Config.HaltMaxSteps;
        _state!.Reset();
        for (int s = 0; s < segments; s++)
            model.ActStep(_state, _m.Tokens, _m.Ids, default, training: false, maxSteps: segments);
        model.ReadLogits(_logits);
        return _logits[0];
    }
}
