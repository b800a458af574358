namespace Hrm.Runtime.Numerics;

/// <summary>
/// The reference's truncated LeCun normal (JAX/Flax style, spec 1.9): draws from a normal truncated at ±2
/// pre-truncation sigmas, rescaled so that the realised standard deviation equals <c>std</c>:
/// σ' = std / 0.87962566103423978; u ~ U(erf(−√2), erf(√2)); v = clip(erfinv(u)·√2·σ', ±2σ').
/// </summary>
public static class TruncatedNormal
{
    /// <summary>std / σ' for truncation at ±2 (Flax's constant).</summary>
    public const double StdCorrection = 0.87962566103423978;

    /// <summary>Hard bound in units of the requested std: 2/StdCorrection = 2.27369.</summary>
    public static double Bound => 2.0 / StdCorrection;

    /// <summary>Fills <paramref name="dst"/> with draws of realised standard deviation <paramref name="std"/>.</summary>
    public static void Fill(Span<float> dst, double std, HrmRandom rng)
    {
        if (std == 0)
        {
            dst.Clear();
            return;
        }
        double sigma = std / StdCorrection;
        double a = SpecialFunctions.Erf(-2 / Math.Sqrt(2)), b = SpecialFunctions.Erf(2 / Math.Sqrt(2));
        for (int i = 0; i < dst.Length; i++)
        {
            double u = rng.NextUniform(a, b);
            double v = SpecialFunctions.ErfInv(u) * Math.Sqrt(2) * sigma;
            dst[i] = (float)Math.Clamp(v, -2 * sigma, 2 * sigma);
        }
    }
}
