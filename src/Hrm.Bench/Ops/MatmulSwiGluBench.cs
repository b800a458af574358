using BenchmarkDotNet.Attributes;
using Hrm.Runtime.Backends.Cpu;

namespace Hrm.Bench.Ops;

/// <summary>
/// <see cref="CpuOps.MatmulSwiGluForward"/> (the gate-up projection and the SwiGLU of forwards that keep no
/// activations; fused for few rows) against the two ops it replaces, <see cref="CpuOps.MatmulForward"/> then
/// <see cref="CpuOps.SwiGluForward"/>, at the Sudoku width (512 → 2·1536) for M = B·T rows: Sudoku B = 1 (fused) and
/// 64, Maze/ARC B = 4 (both run the two ops), and one odd size. Shape printed as <c>MxKxI</c> (N = 2I).
/// </summary>
[MemoryDiagnoser]
[JsonExporterAttribute.Full]
[BenchmarkCategory("Cpu", "Matmul")]
[HrmJob(warmupCount: 2, iterationCount: 5)]
public class MatmulSwiGluBench : CpuOpBench
{
    private float[] _x = [];       // (M, K)
    private float[] _w = [];       // (2I, K)
    private float[] _gateUp = [];  // (M, 2I)
    private float[] _act = [];     // (M, I)

    [ParamsSource(nameof(Shapes))]
    public MatmulShape Shape { get; set; } = new(1, 1, 2);

    public static IEnumerable<MatmulShape> Shapes() =>
        [new(82, 512, 3072), new(64 * 82, 512, 3072), new(4 * 901, 512, 3072), new(97, 300, 778)];

    [GlobalSetup]
    public void Setup()
    {
        (int m, int k, int n) = (Shape.M, Shape.K, Shape.N);
        _x = BenchData.Uniform(1, (long)m * k);
        _w = BenchData.Uniform(2, (long)n * k, 0.05f);
        _gateUp = new float[(long)m * n];
        _act = new float[(long)m * (n / 2)];
    }

    [Benchmark]
    public float Fused()
    {
        CpuOps.MatmulSwiGluForward(_act, _gateUp, _x, _w, Shape.M, Shape.K, Shape.N / 2, Pool);
        return _act[0];
    }

    [Benchmark(Baseline = true)]
    public float TwoOps()
    {
        CpuOps.MatmulForward(_gateUp, _x, _w, Shape.M, Shape.K, Shape.N, Pool);
        CpuOps.SwiGluForward(_act, _gateUp, Shape.M, Shape.N / 2, Pool);
        return _act[0];
    }
}
