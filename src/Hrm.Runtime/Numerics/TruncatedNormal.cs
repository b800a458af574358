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

    /// <summary>Draws per chunk of <see cref="Fill"/> (two 4 KB buffers on the stack).</summary>
    private const int Chunk = 512;

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
        // In chunks: the uniforms in the generator's order, then their inverse erf four at a time (bitwise the
        // scalar function's). u, x (Chunk): a chunk's uniforms and their erfinv.
        Span<double> u = stackalloc double[Chunk];
        Span<double> x = stackalloc double[Chunk];
        for (int i0 = 0; i0 < dst.Length; i0 += Chunk)
        {
            int n = Math.Min(Chunk, dst.Length - i0);
            for (int i = 0; i < n; i++) u[i] = rng.NextUniform(a, b);
            SpecialFunctions.ErfInv(u[..n], x);
            for (int i = 0; i < n; i++)
            {
                double v = x[i] * Math.Sqrt(2) * sigma;
                dst[i0 + i] = (float)Math.Clamp(v, -2 * sigma, 2 * sigma);
            }
        }
    }
}
