using BenchmarkDotNet.Attributes;
using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Model;

namespace Hrm.Bench.Ops;

/// <summary>
/// <see cref="CpuOps.RopeForward"/> and <see cref="CpuOps.RopeBackward"/>, in place on the Q and K parts of qkv
/// (B,T,3C), at the shapes of <see cref="AttentionShape.Model"/>. Each call is a rotation, so repeated calls keep
/// the data's magnitude.
/// </summary>
[MemoryDiagnoser]
[JsonExporterAttribute.Full]
[BenchmarkCategory("Cpu", "Rope")]
[HrmJob(warmupCount: 2, iterationCount: 5)]
public class RopeBench : CpuOpBench
{
    private float[] _qkv = [];   // (B, T, 3C)
    private float[] _dqkv = [];  // (B, T, 3C)
    private float[] _cos = [];   // (T, HS)
    private float[] _sin = [];   // (T, HS)

    [ParamsSource(nameof(Shapes))]
    public AttentionShape Shape { get; set; } = new(1, 1, 1, 2);

    public static IEnumerable<AttentionShape> Shapes() => AttentionShape.Model;

    [GlobalSetup]
    public void Setup()
    {
        AttentionShape s = Shape;
        long n = 3L * s.B * s.T * s.C;
        _qkv = BenchData.Uniform(1, n);
        _dqkv = BenchData.Uniform(2, n);
        _cos = new float[(long)s.T * s.HS];
        _sin = new float[_cos.Length];
        RopeTable.Build(_cos, _sin, s.T, s.HS, 10000.0);
    }

    [Benchmark]
    public float Forward()
    {
        AttentionShape s = Shape;
        CpuOps.RopeForward(_qkv, _cos, _sin, s.B, s.T, s.NH, s.HS, Pool);
        return _qkv[0];
    }

    [Benchmark]
    public float Backward()
    {
        AttentionShape s = Shape;
        CpuOps.RopeBackward(_dqkv, _cos, _sin, s.B, s.T, s.NH, s.HS, Pool);
        return _dqkv[0];
    }
}
