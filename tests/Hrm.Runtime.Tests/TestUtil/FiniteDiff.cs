namespace Hrm.Runtime.Tests.TestUtil;

/// <summary>
/// Central finite differences in double. For a function x ↦ y and a fixed random cotangent R, the scalar
/// loss is Σ y·R; its numeric derivative w.r.t. chosen entries of x is compared with an analytic gradient.
/// </summary>
public static class FiniteDiff
{
    /// <summary>Σ y·r.</summary>
    public static double Dot(ReadOnlySpan<double> y, ReadOnlySpan<double> r)
    {
        double s = 0;
        for (int i = 0; i < y.Length; i++) s += y[i] * r[i];
        return s;
    }

    /// <summary>
    /// Checks analytic[i] ≈ (loss(x+h·e_i) − loss(x−h·e_i)) / 2h for up to <paramref name="samples"/> indices
    /// (all when x is small), perturbing <paramref name="x"/> in place and restoring it.
    /// </summary>
    public static void Check(double[] x, ReadOnlySpan<double> analytic, Func<double> loss, string what,
        int samples = 64, double h = 1e-5, double tol = 1e-6, int seed = 7)
    {
        Assert.Equal(x.Length, analytic.Length);
        var rng = new Random(seed);
        int n = Math.Min(samples, x.Length);
        double maxErr = 0;
        for (int s = 0; s < n; s++)
        {
            int i = x.Length <= samples ? s : rng.Next(x.Length);
            double keep = x[i];
            x[i] = keep + h;
            double lp = loss();
            x[i] = keep - h;
            double lm = loss();
            x[i] = keep;
            double num = (lp - lm) / (2 * h);
            double err = Math.Abs(num - analytic[i]) / Math.Max(1.0, Math.Abs(num));
            maxErr = Math.Max(maxErr, err);
            if (err > tol)
                Assert.Fail($"{what}: d/dx[{i}] numeric {num:G10} vs analytic {analytic[i]:G10} (rel err {err:G3})");
        }
        Assert.True(maxErr <= tol);
    }
}
