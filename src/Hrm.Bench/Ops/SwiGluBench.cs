using BenchmarkDotNet.Attributes;
using Hrm.Runtime.Backends.Cpu;

namespace Hrm.Bench.Ops;

/// <summary>
/// <see cref="CpuOps.SwiGluForward"/> and <see cref="CpuOps.SwiGluBackward"/> over B·T rows of intermediate
/// width I (gate-up rows of 2I): Sudoku I = 1536 at B = 1 and 64 (T = 82), Maze/ARC B = 4 (T = 901), the
/// quickstart's I = 256 at B = 64, and one odd size. Shape printed as <c>NxI</c>.
/// </summary>
[MemoryDiagnoser]
[JsonExporterAttribute.Full]
[BenchmarkCategory("Cpu", "SwiGlu")]
[HrmJob(warmupCount: 2, iterationCount: 5)]
public class SwiGluBench : CpuOpBench
{
    private float[] _gateUp = [];   // (N, 2I)
    private float[] _act = [];      // (N, I)
    private float[] _dact = [];     // (N, I)
    private float[] _dgateUp = [];  // (N, 2I)

    [ParamsSource(nameof(Shapes))]
    public RowsShape Shape { get; set; } = new(1, 1);

    public static IEnumerable<RowsShape> Shapes() =>
        [new(82, 1536), new(64 * 82, 1536), new(4 * 901, 1536), new(64 * 82, 256), new(97, 389)];

    [GlobalSetup]
    public void Setup()
    {
        long n = (long)Shape.N * Shape.W;
        _gateUp = BenchData.Uniform(1, 2 * n, 3f);
        _dact = BenchData.Uniform(2, n);
        _act = new float[n];
        _dgateUp = new float[2 * n];
    }

    [Benchmark]
    public float Forward()
    {
        CpuOps.SwiGluForward(_act, _gateUp, Shape.N, Shape.W, Pool);
        return _act[0];
    }

    [Benchmark]
    public float Backward()
    {
        CpuOps.SwiGluBackward(_dgateUp, _dact, _gateUp, Shape.N, Shape.W, Pool);
        return _dgateUp[0];
    }
}
