using BenchmarkDotNet.Attributes;
using Hrm.Runtime.Backends.Cpu;

namespace Hrm.Bench.Ops;

/// <summary>
/// <see cref="CpuOps.MatmulForward"/> and <see cref="CpuOps.MatmulBackward"/> on the model's GEMMs: rows
/// M = B·T for Sudoku B = 1 and 64 (T = 82) and Maze/ARC B = 4 (T = 901), against the QKV (512→1536), gate-up
/// (512→3072), down (1536→512) and output (512→512) projections of the Sudoku width; plus one odd size.
/// </summary>
[MemoryDiagnoser]
[JsonExporterAttribute.Full]
[BenchmarkCategory("Cpu", "Matmul")]
[HrmJob(warmupCount: 2, iterationCount: 5)]
public class MatmulBench : CpuOpBench
{
    private float[] _x = [];   // (M, K)
    private float[] _w = [];   // (N, K)
    private float[] _y = [];   // (M, N)
    private float[] _dy = [];  // (M, N)
    private float[] _dx = [];  // (M, K)
    private float[] _dw = [];  // (N, K), accumulated

    [ParamsSource(nameof(Shapes))]
    public MatmulShape Shape { get; set; } = new(1, 1, 1);

    public static IEnumerable<MatmulShape> Shapes()
    {
        foreach (int m in (int[])[82, 64 * 82, 4 * 901])
        {
            yield return new MatmulShape(m, 512, 1536); // QKV
            yield return new MatmulShape(m, 512, 3072); // gate-up
            yield return new MatmulShape(m, 1536, 512); // down
            yield return new MatmulShape(m, 512, 512);  // output
        }
        yield return new MatmulShape(97, 300, 777);
    }

    [GlobalSetup]
    public void Setup()
    {
        (int m, int k, int n) = (Shape.M, Shape.K, Shape.N);
        _x = BenchData.Uniform(1, (long)m * k);
        _w = BenchData.Uniform(2, (long)n * k, 0.05f);
        _dy = BenchData.Uniform(3, (long)m * n, 1e-3f);
        _y = new float[(long)m * n];
        _dx = new float[(long)m * k];
        _dw = new float[(long)n * k];
    }

    [Benchmark]
    public float Forward()
    {
        CpuOps.MatmulForward(_y, _x, _w, Shape.M, Shape.K, Shape.N, Pool);
        return _y[0];
    }

    [Benchmark]
    public float Backward()
    {
        CpuOps.MatmulBackward(_dx, _dw, _dy, _x, _w, Shape.M, Shape.K, Shape.N, Pool);
        return _dx[0];
    }
}
