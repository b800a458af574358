using BenchmarkDotNet.Attributes;
using Hrm.Runtime.Backends.Cpu;

namespace Hrm.Bench.Ops;

/// <summary>
/// One <see cref="CpuOps.AdamATan2Step"/> over the Sudoku model's 27,275,266 dense parameters and over an odd
/// size (not a multiple of any vector width). Sudoku hyperparameters (lr 1e-4, betas 0.9/0.95, weight decay 1.0);
/// the step number advances with every call, as in training. Memory-bound: 4 streams read, 3 written.
/// </summary>
[MemoryDiagnoser]
[JsonExporterAttribute.Full]
[BenchmarkCategory("Cpu", "AdamATan2")]
[HrmJob(warmupCount: 2, iterationCount: 5)]
public class AdamATan2Bench : CpuOpBench
{
    private float[] _param = [];  // (N)
    private float[] _grad = [];   // (N)
    private float[] _m = [];      // (N)
    private float[] _v = [];      // (N)
    private int _step;

    [Params(27_275_266, 1_000_003)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _param = BenchData.Uniform(1, N, 0.05f);
        _grad = BenchData.Uniform(2, N, 1e-3f);
        _m = new float[N];
        _v = new float[N];
    }

    [Benchmark]
    public float Step()
    {
        CpuOps.AdamATan2Step(_param, _grad, _m, _v, 1e-4, 0.9, 0.95, 1.0, ++_step, Pool);
        return _param[0];
    }
}
