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

    /// <summary>erfinv of the double nearest each y, from mpmath at 40 digits.</summary>
    public static TheoryData<double, double> ErfInvValues => new()
    {
        { -0.9545, -1.4142152904710776 },
        { -0.5, -0.47693627620446987 },
        { -1e-3, -0.00088622715746655212 },
        { 1e-9, 8.8622692545275807e-10 },
        { 0.3, 0.27246271472675435 },
        { 0.7, 0.73286907795921678 },
        { 0.7917, 0.88971976249247844 }, // a Newton step instead of Halley's is 42 ulps off here
        { -0.6333, -0.63828549398754957 },
        { 0.1583, 0.14122297863252758 },
        { 0.9, 1.1630871536766742 },
        { 0.95, 1.3859038243496777 },
        { 0.99, 1.8213863677184495 },
        { -0.999, -2.3267537655135245 },
        { 0.9999, 2.7510639057120797 },
    };

    [Theory]
    [MemberData(nameof(ErfInvValues))]
    public void ErfInv_matches_high_precision_values(double y, double expected)
    {
        // The series path (|erfinv y| ≤ 1.5, every truncated-normal draw) within 16 ulps; the Newton steps over Erf
        // beyond it within 1e-13.
        double a = Math.Abs(expected), tolerance = a <= 1.5 ? 16 * (Math.BitIncrement(a) - a) : 1e-13 * a;
        Assert.InRange(SpecialFunctions.ErfInv(y), expected - tolerance, expected + tolerance);
    }

    [Fact]
    public void ErfInv_of_a_span_equals_the_scalar_function_bitwise()
    {
        // Draws of the truncated normal's range, the whole of (−1, 1), the tails, the edges and beyond, NaN; a length
        // that leaves a scalar remainder.
        var rng = new HrmRandom(5);
        var y = new double[4003];
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = (i % 4) switch
            {
                0 => rng.NextUniform(-0.9545, 0.9545),
                1 => rng.NextUniform(-1, 1),
                2 => Math.CopySign(1 - Math.Pow(10, -rng.NextUniform(1, 12)), rng.NextDouble() - 0.5),
                _ => rng.NextUniform(-0.99, 0.99),
            };
        }
        double[] special = [-1, 1, 1.5, -2, double.NaN, 0, -0.0, 0.9966, -0.99661, 0.966105146];
        special.CopyTo(y, 100);
        var x = new double[y.Length];
        SpecialFunctions.ErfInv(y, x);
        for (int i = 0; i < y.Length; i++)
        {
            Assert.Equal(BitConverter.DoubleToInt64Bits(SpecialFunctions.ErfInv(y[i])),
                BitConverter.DoubleToInt64Bits(x[i]));
        }
        Assert.Throws<ArgumentException>(() => SpecialFunctions.ErfInv(y, new double[y.Length - 1]));
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
