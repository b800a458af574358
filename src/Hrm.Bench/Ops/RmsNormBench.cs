using BenchmarkDotNet.Attributes;
using Hrm.Runtime.Backends.Cpu;

namespace Hrm.Bench.Ops;

/// <summary>
/// <see cref="CpuOps.AddRmsNormForward"/> (the post-norm residual add) and <see cref="CpuOps.RmsNormBackward"/>
/// over B·T rows: Sudoku width 512 at B = 1 and 64 (T = 82), Maze/ARC B = 4 (T = 901), the quickstart's width 64
/// at B = 64, and one odd size.
/// </summary>
[MemoryDiagnoser]
[JsonExporterAttribute.Full]
[BenchmarkCategory("Cpu", "RmsNorm")]
[HrmJob(warmupCount: 2, iterationCount: 5)]
public class RmsNormBench : CpuOpBench
{
    private const float Eps = 1e-5f;
    private float[] _a = [];     // (N, C)
    private float[] _b = [];     // (N, C)
    private float[] _out = [];   // (N, C)
    private float[] _rstd = [];  // (N)
    private float[] _dout = [];  // (N, C)
    private float[] _dinp = [];  // (N, C)

    [ParamsSource(nameof(Shapes))]
    public RowsShape Shape { get; set; } = new(1, 1);

    public static IEnumerable<RowsShape> Shapes() =>
        [new(82, 512), new(64 * 82, 512), new(4 * 901, 512), new(64 * 82, 64), new(97, 300)];

    [GlobalSetup]
    public void Setup()
    {
        long n = (long)Shape.N * Shape.W;
        _a = BenchData.Uniform(1, n);
        _b = BenchData.Uniform(2, n);
        _dout = BenchData.Uniform(3, n);
        _out = new float[n];
        _rstd = new float[Shape.N];
        _dinp = new float[n];
        CpuOps.AddRmsNormForward(_out, _rstd, _a, _b, Shape.N, Shape.W, Eps, Pool);
    }

    [Benchmark]
    public float Forward()
    {
        CpuOps.AddRmsNormForward(_out, _rstd, _a, _b, Shape.N, Shape.W, Eps, Pool);
        return _out[0];
    }

    [Benchmark]
    public float Backward()
    {
        CpuOps.RmsNormBackward(_dinp, _dout, _out, _rstd, Shape.N, Shape.W, Pool);
        return _dinp[0];
    }
}
