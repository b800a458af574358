using System.Runtime.Intrinsics;

namespace Hrm.Runtime.Numerics;

/// <summary>erf and its inverse in double (erf: series for |x| ≤ 2, a continued fraction for erfc beyond; ~1e-14).
/// </summary>
public static class SpecialFunctions
{
    /// <summary>The error function.</summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return double.NaN;
        double ax = Math.Abs(x);
        if (ax > 6) return Math.Sign(x);
        if (ax <= 2)
        {
            // erf x = 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1))
            double term = x, sum = x, x2 = x * x;
            for (int n = 1; n < 200; n++)
            {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
            }
            return 2 / Math.Sqrt(Math.PI) * sum;
        }
        // erfc by continued fraction (Lentz) for 2 < |x| ≤ 6.
        double f = ax, c = ax, d = 0;
        for (int k = 1; k < 2000; k++)
        {
            double a = k / 2.0;
            d = ax + a * d;
            d = 1 / d;
            c = ax + a / c;
            double delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1) < 1e-16) break;
        }
        double erfc = Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / f;
        return Math.Sign(x) * (1 - erfc);
    }

    /// <summary>
    /// The inverse error function on (−1, 1). For |y| &lt; 0.9966 with |erfinv y| ≤ 1.5 (every draw of <see
    /// cref="TruncatedNormal"/>): Giles' single-precision guess (relative error at most about 1.3e-7 there) and one
    /// Halley step, whose erf is the all-positive series (2/√π)·e^(−x²)·Σ 2ⁿx^(2n+1)/(2n+1)!! (no cancellation; the
    /// exponential is also the step's slope): within about 10 ulps of the true value (mpmath, 20,000 draws of the
    /// truncated normal; the Newton steps over <see cref="Erf"/>'s alternating series this replaced were within about
    /// 15). Elsewhere three Newton steps over <see cref="Erf"/>.
    /// </summary>
    public static double ErfInv(double y)
    {
        if (y <= -1) return y == -1 ? double.NegativeInfinity : double.NaN;
        if (y >= 1) return y == 1 ? double.PositiveInfinity : double.NaN;
        double w = -Math.Log((1.0 - y) * (1.0 + y));
        if (w >= 5) return NewtonSteps(GilesTail(w) * y, y);
        double x = GilesCentral(w) * y;
        if (Math.Abs(x) > SeriesMax) return NewtonSteps(x, y);
        double z = x * x, z2 = z * z;
        // The series in z = x² as its even and odd terms in z², two chains of 13 multiply-adds.
        ReadOnlySpan<double> d = PositiveSeries;
        double even = d[^2], odd = d[^1];
        for (int n = d.Length - 4; n >= 0; n -= 2)
        {
            even = Math.FusedMultiplyAdd(even, z2, d[n]);
            odd = Math.FusedMultiplyAdd(odd, z2, d[n + 1]);
        }
        double s = Math.FusedMultiplyAdd(odd, z, even);
        double slope = TwoOverSqrtPi * Math.Exp(-z);
        double delta = (slope * x * s - y) / slope;
        return x - delta / (1 + x * delta);
    }

    /// <summary>
    /// x[i] = <see cref="ErfInv(double)"/>(y[i]), bitwise, four at a time in 256-bit vectors where the hardware has
    /// them (the same operations lane by lane; lanes outside the series' range take the scalar function).
    /// </summary>
    /// <exception cref="ArgumentException">x is shorter than y.</exception>
    public static void ErfInv(ReadOnlySpan<double> y, Span<double> x)
    {
        if (x.Length < y.Length)
            throw new ArgumentException($"x holds {x.Length} values, y {y.Length}: x must hold at least as many",
                nameof(x));
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= y.Length - 4; i += 4) ErfInv4(y.Slice(i, 4), x.Slice(i, 4));
        }
        for (; i < y.Length; i++) x[i] = ErfInv(y[i]);
    }

    /// <summary><see cref="ErfInv(double)"/>'s series path on four values, the others redone by it.</summary>
    private static void ErfInv4(ReadOnlySpan<double> y4, Span<double> x4)
    {
        Vector256<double> y = Vector256.Create(y4), one = Vector256<double>.One;
        Vector256<double> t = (one - y) * (one + y);
        Vector256<double> w = -Vector256.Create(Math.Log(t[0]), Math.Log(t[1]), Math.Log(t[2]), Math.Log(t[3]));
        Vector256<double> x = GilesCentral(w) * y;
        Vector256<double> z = x * x, z2 = z * z;
        ReadOnlySpan<double> d = PositiveSeries;
        Vector256<double> even = Vector256.Create(d[^2]), odd = Vector256.Create(d[^1]);
        for (int n = d.Length - 4; n >= 0; n -= 2)
        {
            even = Vector256.FusedMultiplyAdd(even, z2, Vector256.Create(d[n]));
            odd = Vector256.FusedMultiplyAdd(odd, z2, Vector256.Create(d[n + 1]));
        }
        Vector256<double> s = Vector256.FusedMultiplyAdd(odd, z, even);
        Vector256<double> e = Vector256.Create(Math.Exp(-z[0]), Math.Exp(-z[1]), Math.Exp(-z[2]), Math.Exp(-z[3]));
        Vector256<double> slope = Vector256.Create(TwoOverSqrtPi) * e;
        Vector256<double> delta = (slope * x * s - y) / slope;
        (x - delta / (one + x * delta)).CopyTo(x4);
        // |y| ≥ 1, NaN, the tail (w ≥ 5) and |x| past the series' range: the scalar function (which for the others
        // computes exactly the above).
        Vector256<double> series = Vector256.LessThan(w, Vector256.Create(5.0))
            & Vector256.LessThanOrEqual(Vector256.Abs(x), Vector256.Create(SeriesMax));
        uint lanes = series.ExtractMostSignificantBits();
        if (lanes == 0b1111) return;
        for (int k = 0; k < 4; k++)
        {
            if ((lanes & (1u << k)) == 0) x4[k] = ErfInv(y4[k]);
        }
    }

    private static double NewtonSteps(double x, double y)
    {
        for (int i = 0; i < 3; i++)
        {
            double err = Erf(x) - y;
            x -= err / (TwoOverSqrtPi * Math.Exp(-x * x));
        }
        return x;
    }

    /// <summary>Giles' erfinv(y)/y for w = −ln((1 − y)(1 + y)) &lt; 5.</summary>
    private static double GilesCentral(double w)
    {
        w -= 2.5;
        double p = 2.81022636e-08;
        p = 3.43273939e-07 + p * w; p = -3.5233877e-06 + p * w; p = -4.39150654e-06 + p * w;
        p = 0.00021858087 + p * w; p = -0.00125372503 + p * w; p = -0.00417768164 + p * w;
        p = 0.246640727 + p * w; return 1.50140941 + p * w;
    }

    /// <summary><see cref="GilesCentral(double)"/> on four lanes (the same operations: no fused multiply-adds).
    /// </summary>
    private static Vector256<double> GilesCentral(Vector256<double> w)
    {
        w -= Vector256.Create(2.5);
        Vector256<double> p = Vector256.Create(2.81022636e-08);
        p = Vector256.Create(3.43273939e-07) + p * w;
        p = Vector256.Create(-3.5233877e-06) + p * w;
        p = Vector256.Create(-4.39150654e-06) + p * w;
        p = Vector256.Create(0.00021858087) + p * w;
        p = Vector256.Create(-0.00125372503) + p * w;
        p = Vector256.Create(-0.00417768164) + p * w;
        p = Vector256.Create(0.246640727) + p * w;
        return Vector256.Create(1.50140941) + p * w;
    }

    /// <summary>Giles' erfinv(y)/y for w ≥ 5.</summary>
    private static double GilesTail(double w)
    {
        w = Math.Sqrt(w) - 3;
        double p = -0.000200214257;
        p = 0.000100950558 + p * w; p = 0.00134934322 + p * w; p = -0.00367342844 + p * w;
        p = 0.00573950773 + p * w; p = -0.0076224613 + p * w; p = 0.00943887047 + p * w;
        p = 1.00167406 + p * w; return 2.83297682 + p * w;
    }

    private static readonly double TwoOverSqrtPi = 2 / Math.Sqrt(Math.PI);

    /// <summary>|erfinv y| up to which <see cref="ErfInv(double)"/> takes the series: there its 26 terms reach
    /// 1e-18 of the sum.</summary>
    private const double SeriesMax = 1.5;

    /// <summary>2ⁿ/(2n+1)!! for n = 0..25, each the double nearest the exact fraction.</summary>
    private static ReadOnlySpan<double> PositiveSeries =>
    [
        1.0, 0.6666666666666666, 0.26666666666666666, 0.0761904761904762, 0.016931216931216932,
        0.0030784030784030783, 0.0004736004736004736, 6.314672981339648e-05, 7.4290270368701745e-06,
        7.820028459863341e-07, 7.447646152250801e-08, 6.476214045435479e-09, 5.180971236348383e-10,
        3.8377564713691727e-11, 2.6467286009442573e-12, 1.7075668393188757e-13, 1.0348889935265912e-14,
        5.913651391580522e-16, 3.196568319773255e-17, 1.6392658050119255e-18, 7.996418561033783e-20,
        3.719264446992458e-21, 1.6530064208855367e-22, 7.034069876108667e-24, 2.8710489290239454e-25,
        1.1259015407937041e-26
    ];
}
