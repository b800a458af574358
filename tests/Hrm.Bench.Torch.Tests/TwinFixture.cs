using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Config;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;
using Hrm.Runtime.Numerics;

namespace Hrm.Bench.Torch.Tests;

/// <summary>
/// One set of weights in our runtime (CPU backend, 2 threads, fp32) and, through a safetensors checkpoint written by
/// <see cref="HrmCheckpoint.Save"/> and read by the twin's own reader, in the TorchSharp twin; random inputs.
/// </summary>
public sealed class TwinFixture : IDisposable
{
    private readonly string _path;

    public TwinFixture(HrmConfig config, int batch, bool training, int seed)
    {
        Config = config;
        Ours = new HrmModel(config, new CpuBackend(2));
        var rng = new Random(seed);
        foreach (TensorEntry e in Ours.Layout.Entries) Ours.WriteParameter(e.Name, RandomValues(e, config, rng));
        Ours.Reserve(batch, training);
        _path = Path.Combine(Path.GetTempPath(), $"hrm-twin-{Environment.ProcessId}-{Guid.NewGuid():N}.safetensors");
        HrmCheckpoint.Save(Ours, _path);
        Twin = TorchHrm.Load(_path);
        Tokens = new int[batch * config.SeqLen];
        for (int i = 0; i < Tokens.Length; i++) Tokens[i] = rng.Next(config.VocabSize);
        Ids = new int[batch];
        for (int i = 0; i < batch; i++) Ids[i] = rng.Next(config.NumPuzzleIdentifiers);
    }

    public HrmConfig Config { get; }

    public HrmModel Ours { get; }

    public TorchHrm Twin { get; }

    public int[] Tokens { get; }

    public int[] Ids { get; }

    public void Dispose()
    {
        Twin.Dispose();
        Ours.Dispose();
        File.Delete(_path);
    }

    /// <summary>
    /// Uniform values with the reference's init scale (1/sqrt(fan_in) for linear weights, 1/sqrt(D) for embeddings,
    /// 1 for H_init/L_init, rounded to bf16 as they are stored) and, unlike the reference init, random Q head and
    /// puzzle table, so every path carries signal. Much faster than the truncated normal on 27M values.
    /// </summary>
    private static float[] RandomValues(TensorEntry e, HrmConfig c, Random rng)
    {
        double std = e.Name switch
        {
            ParameterLayout.Names.HInit or ParameterLayout.Names.LInit => 1.0,
            ParameterLayout.Names.EmbedTokens or ParameterLayout.Names.EmbedPos => 1.0 / Math.Sqrt(c.HiddenSize),
            ParameterLayout.Names.QHeadBias or ParameterLayout.Names.PuzzleEmb => 0.5,
            _ => 1.0 / Math.Sqrt(e.Shape[1]),
        };
        double half = std * Math.Sqrt(3); // uniform(-a, a) has std a/sqrt(3)
        var values = new float[e.Count];
        for (int i = 0; i < values.Length; i++)
        {
            float v = (float)((rng.NextDouble() * 2 - 1) * half);
            values[i] = e.StoredAsBf16 ? BFloat16.Round(v) : v;
        }
        return values;
    }

    /// <summary>Relative L2 error ‖a − r‖ / ‖r‖, accumulated in double.</summary>
    public static double RelNorm(ReadOnlySpan<float> reference, ReadOnlySpan<float> actual)
    {
        Assert.Equal(reference.Length, actual.Length);
        double num = 0, den = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            Assert.True(float.IsFinite(actual[i]) && float.IsFinite(reference[i]), $"non-finite value at {i}");
            double d = (double)actual[i] - reference[i];
            num += d * d;
            den += (double)reference[i] * reference[i];
        }
        return Math.Sqrt(num / Math.Max(den, 1e-300));
    }
}
