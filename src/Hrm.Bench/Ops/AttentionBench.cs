using BenchmarkDotNet.Attributes;
using Hrm.Runtime.Backends.Cpu;

namespace Hrm.Bench.Ops;

/// <summary>
/// <see cref="CpuOps.AttentionForward"/> and <see cref="CpuOps.AttentionBackward"/> (non-causal, flash-style) at
/// the shapes of <see cref="AttentionShape.Model"/>, and <see cref="CpuOps.RopeAttentionForward"/> (RoPE then
/// the forward; it rotates its own copy of qkv in place on every call, which real rotation tables keep bounded).
/// The backward's saved output and lse come from one forward in setup.
/// </summary>
[MemoryDiagnoser]
[JsonExporterAttribute.Full]
[BenchmarkCategory("Cpu", "Attention")]
[HrmJob(warmupCount: 2, iterationCount: 5)]
public class AttentionBench : CpuOpBench
{
    private float[] _qkv = [];   // (B, T, 3C)
    private float[] _out = [];   // (B, T, C)
    private float[] _lse = [];   // (B, NH, T)
    private float[] _dout = [];  // (B, T, C)
    private float[] _dqkv = [];  // (B, T, 3C)
    private float[] _qkvRope = [];  // (B, T, 3C), rotated in place by RopeForward
    private float[] _cos = [];   // (T, HS)
    private float[] _sin = [];   // (T, HS)

    [ParamsSource(nameof(Shapes))]
    public AttentionShape Shape { get; set; } = new(1, 1, 1, 2);

    public static IEnumerable<AttentionShape> Shapes() => AttentionShape.Model;

    [GlobalSetup]
    public void Setup()
    {
        AttentionShape s = Shape;
        long btc = (long)s.B * s.T * s.C;
        _qkv = BenchData.Uniform(1, 3 * btc, 2f);
        _dout = BenchData.Uniform(2, btc);
        _out = new float[btc];
        _lse = new float[(long)s.B * s.NH * s.T];
        _dqkv = new float[3 * btc];
        CpuOps.AttentionForward(_out, _lse, _qkv, s.B, s.T, s.NH, s.HS, Pool);
        _qkvRope = (float[])_qkv.Clone();
        (_cos, _sin) = (new float[s.T * s.HS], new float[s.T * s.HS]);
        int half = s.HS / 2;
        for (int p = 0; p < s.T; p++)
        {
            for (int i = 0; i < half; i++)
            {
                double angle = p / Math.Pow(10000.0, 2.0 * i / s.HS);
                _cos[p * s.HS + i] = _cos[p * s.HS + half + i] = (float)Math.Cos(angle);
                _sin[p * s.HS + i] = _sin[p * s.HS + half + i] = (float)Math.Sin(angle);
            }
        }
    }

    [Benchmark]
    public float Forward()
    {
        AttentionShape s = Shape;
        CpuOps.AttentionForward(_out, _lse, _qkv, s.B, s.T, s.NH, s.HS, Pool);
        return _out[0];
    }

    [Benchmark]
    public float RopeForward()
    {
        AttentionShape s = Shape;
        CpuOps.RopeAttentionForward(_out, _lse, _qkvRope, _cos, _sin, s.B, s.T, s.NH, s.HS, Pool);
        return _out[0];
    }

    [Benchmark]
    public float Backward()
    {
        AttentionShape s = Shape;
        CpuOps.AttentionBackward(_dqkv, _dout, _qkv, _out, _lse, s.B, s.T, s.NH, s.HS, Pool);
        return _dqkv[0];
    }
}
