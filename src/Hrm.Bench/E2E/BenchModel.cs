using Hrm.Runtime.Backends;
using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Config;
using Hrm.Runtime.Model;
using Hrm.Runtime.Numerics;

namespace Hrm.Bench.E2E;

/// <summary>A freshly initialised model with random inputs, built once per benchmark.</summary>
public sealed class BenchModel : IDisposable
{
    public BenchModel(HrmConfig config, int batch, bool training, int threads = 0)
        : this(config, new CpuBackend(threads), batch, training)
    {
    }

    /// <summary>The same on any backend (the model takes ownership of it).</summary>
    public BenchModel(HrmConfig config, IHrmBackend backend, int batch, bool training)
    {
        Config = config;
        Model = new HrmModel(config, backend);
        Model.Initialize(new HrmRandom(1));
        Model.Reserve(batch, training);
        var r = new HrmRandom(2);
        Tokens = new int[batch * config.SeqLen];
        for (int i = 0; i < Tokens.Length; i++) Tokens[i] = r.NextInt(1, config.VocabSize);
        Ids = new int[batch];
        Model.SetInputs(Tokens, Ids);
        var g = new float[batch * config.SeqLen * config.VocabSize];
        for (int i = 0; i < g.Length; i++) g[i] = (float)(r.NextDouble() - 0.5) * 1e-3f;
        if (training)
        {
            Model.Backend.Upload(g, Model.LogitsGrad);
            Model.Backend.Upload([0.01f, -0.01f], Model.QGrad.Slice(0, 2));
        }
    }

    public HrmConfig Config { get; }

    public HrmModel Model { get; }

    public int[] Tokens { get; }

    public int[] Ids { get; }

    /// <summary>One segment forward (no recording).</summary>
    public void Forward() => Model.Segment(record: false);

    /// <summary>One recorded segment forward and the 1-step backward.</summary>
    public void ForwardBackward()
    {
        Model.Segment(record: true);
        Model.Backward();
    }

    public void Dispose() => Model.Dispose();
}
