using BenchmarkDotNet.Attributes;
using Hrm.Runtime.Backends.Cpu;

namespace Hrm.Bench.Ops;

/// <summary>
/// <see cref="CpuOps.EmbeddingForward"/> and <see cref="CpuOps.EmbeddingBackward"/>: Sudoku (L = 81, one 512-wide
/// puzzle row, V = 11) at B = 1 and 64, Maze (L = 900, V = 6) at B = 4, the quickstart (width 64) at B = 64, and an
/// odd size with two prefix positions, a partial puzzle row and a learned position table.
/// </summary>
[MemoryDiagnoser]
[JsonExporterAttribute.Full]
[BenchmarkCategory("Cpu", "Embedding")]
[HrmJob(warmupCount: 2, iterationCount: 5)]
public class EmbeddingBench : CpuOpBench
{
    private int[] _tokens = [];        // (B, L)
    private float[] _puzzleRows = [];  // (B, Pd)
    private float[] _tokTable = [];    // (V, C)
    private float[] _posTable = [];    // (T, C), or empty
    private float[] _x = [];           // (B, T, C)
    private float[] _dx = [];          // (B, T, C)
    private float[] _dTokTable = [];   // (V, C), accumulated
    private float[] _dPuzzleRows = []; // (B, Pd)
    private float[] _dPosTable = [];   // (T, C) accumulated, or empty

    [ParamsSource(nameof(Shapes))]
    public EmbeddingShape Shape { get; set; } = new(1, 1, 0, 0, 1, 1, false);

    public static IEnumerable<EmbeddingShape> Shapes() =>
    [
        new(1, 81, 1, 512, 512, 11, false),
        new(64, 81, 1, 512, 512, 11, false),
        new(4, 900, 1, 512, 512, 6, false),
        new(64, 81, 1, 64, 64, 11, false),
        new(3, 50, 2, 40, 24, 7, true),
    ];

    private float Scale => MathF.Sqrt(Shape.C);

    [GlobalSetup]
    public void Setup()
    {
        EmbeddingShape s = Shape;
        long btc = (long)s.B * s.T * s.C;
        _tokens = BenchData.Ints(1, (long)s.B * s.L, 0, s.V);
        _puzzleRows = BenchData.Uniform(2, (long)s.B * s.Pd, 0.1f);
        _tokTable = BenchData.Uniform(3, (long)s.V * s.C, 0.05f);
        _posTable = s.LearnedPos ? BenchData.Uniform(4, (long)s.T * s.C, 0.05f) : [];
        _dx = BenchData.Uniform(5, btc, 1e-3f);
        _x = new float[btc];
        _dTokTable = new float[_tokTable.Length];
        _dPuzzleRows = new float[_puzzleRows.Length];
        _dPosTable = new float[_posTable.Length];
    }

    [Benchmark]
    public float Forward()
    {
        EmbeddingShape s = Shape;
        CpuOps.EmbeddingForward(_x, _tokens, _puzzleRows, _tokTable, _posTable, s.B, s.L, s.P, s.Pd, s.C, s.V,
            Scale, Pool);
        return _x[0];
    }

    [Benchmark]
    public float Backward()
    {
        EmbeddingShape s = Shape;
        CpuOps.EmbeddingBackward(_dTokTable, _dPuzzleRows, _dPosTable, _dx, _tokens, s.B, s.L, s.P, s.Pd, s.C, s.V,
            Scale, Pool);
        return _dPuzzleRows[0];
    }
}
