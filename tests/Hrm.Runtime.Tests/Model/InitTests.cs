using Hrm.Runtime.Backends.Reference;
using Hrm.Runtime.Config;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;
using Hrm.Runtime.Numerics;

namespace Hrm.Runtime.Tests.Model;

public class InitTests
{
    [Fact]
    public void Initialisation_follows_the_reference()
    {
        var cfg = new HrmConfig { HLayers = 1, LLayers = 1 };
        using var model = new HrmModel(cfg, new ReferenceBackend());
        model.Initialize(new HrmRandom(1));
        AssertTruncNormal(model.ReadParameter("model.inner.H_level.layers.0.self_attn.qkv_proj.weight"), 1 / Math.Sqrt(512));
        AssertTruncNormal(model.ReadParameter("model.inner.L_level.layers.0.mlp.down_proj.weight"), 1 / Math.Sqrt(1536));
        AssertTruncNormal(model.ReadParameter(ParameterLayout.Names.EmbedTokens), 1 / Math.Sqrt(512));
        Assert.All(model.ReadParameter(ParameterLayout.Names.QHeadWeight), v => Assert.Equal(0f, v));
        Assert.All(model.ReadParameter(ParameterLayout.Names.QHeadBias), v => Assert.Equal(-5f, v));
        Assert.All(model.ReadParameter(ParameterLayout.Names.PuzzleEmb), v => Assert.Equal(0f, v));
        float[] hInit = model.ReadParameter(ParameterLayout.Names.HInit);
        Assert.All(hInit, v => Assert.Equal(BFloat16.Round(v), v));
        Assert.All(hInit, v => Assert.InRange(v, -2.28f, 2.28f));
        Assert.NotEqual(hInit, model.ReadParameter(ParameterLayout.Names.LInit));
    }

    [Fact]
    public void Same_seed_same_weights_other_seed_other_weights()
    {
        HrmConfig cfg = ModelFixtures.Micro();
        using var a = new HrmModel(cfg, new ReferenceBackend());
        using var b = new HrmModel(cfg, new ReferenceBackend());
        using var c = new HrmModel(cfg, new ReferenceBackend());
        a.Initialize(new HrmRandom(3));
        b.Initialize(new HrmRandom(3));
        c.Initialize(new HrmRandom(4));
        Assert.Equal(a.ReadParameter(ParameterLayout.Names.LmHead), b.ReadParameter(ParameterLayout.Names.LmHead));
        Assert.NotEqual(a.ReadParameter(ParameterLayout.Names.LmHead), c.ReadParameter(ParameterLayout.Names.LmHead));
    }

    [Fact]
    public void Erf_and_its_inverse_are_accurate()
    {
        Assert.Equal(0.8427007929497149, SpecialFunctions.Erf(1.0), 14);
        Assert.Equal(-0.9953222650189527, SpecialFunctions.Erf(-2.0), 14);
        Assert.Equal(0.9999779095030014, SpecialFunctions.Erf(3.0), 14);
        Assert.Equal(0.9999999845827421, SpecialFunctions.Erf(4.0), 14);
        foreach (double y in new[] { -0.9545, -0.5, -1e-3, 0.0, 0.3, 0.9, 0.9999 })
            Assert.Equal(y, SpecialFunctions.Erf(SpecialFunctions.ErfInv(y)), 13);
    }

    private static void AssertTruncNormal(float[] v, double std)
    {
        double bound = TruncatedNormal.Bound * std;
        double sum = 0, sq = 0;
        foreach (float x in v)
        {
            Assert.InRange(Math.Abs(x), 0, bound * (1 + 1e-6));
            sum += x;
            sq += (double)x * x;
        }
        double mean = sum / v.Length, realized = Math.Sqrt(sq / v.Length - mean * mean);
        Assert.InRange(realized / std, 0.99, 1.01);
        Assert.InRange(Math.Abs(mean) / std, 0, 0.01);
    }
}
