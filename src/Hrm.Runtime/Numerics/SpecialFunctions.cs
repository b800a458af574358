namespace Hrm.Runtime.Numerics;

/// <summary>erf and its inverse in double (series for |x| ≤ 2, a continued fraction for erfc beyond; ~1e-14).</summary>
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

    /// <summary>The inverse error function on (−1, 1): a Giles initial guess refined by Newton steps.</summary>
    public static double ErfInv(double y)
    {
        if (y <= -1) return y == -1 ? double.NegativeInfinity : double.NaN;
        if (y >= 1) return y == 1 ? double.PositiveInfinity : double.NaN;
        double w = -Math.Log((1.0 - y) * (1.0 + y)), x;
        if (w < 5)
        {
            w -= 2.5;
            double p = 2.81022636e-08;
            p = 3.43273939e-07 + p * w; p = -3.5233877e-06 + p * w; p = -4.39150654e-06 + p * w;
            p = 0.00021858087 + p * w; p = -0.00125372503 + p * w; p = -0.00417768164 + p * w;
            p = 0.246640727 + p * w; p = 1.50140941 + p * w;
            x = p * y;
        }
        else
        {
            w = Math.Sqrt(w) - 3;
            double p = -0.000200214257;
            p = 0.000100950558 + p * w; p = 0.00134934322 + p * w; p = -0.00367342844 + p * w;
            p = 0.00573950773 + p * w; p = -0.0076224613 + p * w; p = 0.00943887047 + p * w;
            p = 1.00167406 + p * w; p = 2.83297682 + p * w;
            x = p * y;
        }
        for (int i = 0; i < 3; i++)
        {
            double err = Erf(x) - y;
            x -= err / (2 / Math.Sqrt(Math.PI) * Math.Exp(-x * x));
        }
        return x;
    }
}
