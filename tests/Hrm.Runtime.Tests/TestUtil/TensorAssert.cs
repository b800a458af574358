using System.Text;

namespace Hrm.Runtime.Tests.TestUtil;

/// <summary>
/// Compares an implementation with a reference two ways: per element |a−r| ≤ atol + rtol·|r|, and
/// normalised MSE Σ(a−r)²/Σr² ≤ maxNmse. NaN/Inf always fail. Failures list the first 5 mismatches.
/// </summary>
public static class TensorAssert
{
    /// <summary>Asserts <paramref name="actual"/> ≈ <paramref name="expected"/>.</summary>
    public static void Close(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, double atol, double rtol,
        double maxNmse = 1e-7, string what = "tensor")
    {
        var d = new double[actual.Length];
        for (int i = 0; i < d.Length; i++) d[i] = actual[i];
        Close(expected, d, atol, rtol, maxNmse, what);
    }

    /// <summary>Asserts <paramref name="actual"/> ≈ <paramref name="expected"/> (both double).</summary>
    public static void Close(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, double atol, double rtol,
        double maxNmse = 1e-7, string what = "tensor")
    {
        Assert.Equal(expected.Length, actual.Length);
        double num = 0, den = 0;
        int bad = 0;
        var sb = new StringBuilder();
        for (int i = 0; i < expected.Length; i++)
        {
            double r = expected[i], a = actual[i];
            if (!double.IsFinite(a) || !double.IsFinite(r))
            {
                if (bad++ < 5) sb.Append($"\n  [{i}] expected {r}, got {a} (not finite)");
                continue;
            }
            num += (a - r) * (a - r);
            den += r * r;
            if (Math.Abs(a - r) > atol + rtol * Math.Abs(r) && bad++ < 5)
                sb.Append($"\n  [{i}] expected {r:G9}, got {a:G9}, diff {a - r:G3}");
        }
        double nmse = den > 0 ? num / den : num;
        if (bad > 0 || nmse > maxNmse)
            Assert.Fail($"{what}: {bad} of {expected.Length} elements outside atol {atol} + rtol {rtol}; " +
                        $"nmse {nmse:G3} (max {maxNmse:G3}){sb}");
    }

    /// <summary>Relative L2 error ‖a−r‖/‖r‖.</summary>
    public static double RelNorm(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual)
    {
        double num = 0, den = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = actual[i] - expected[i];
            num += d * d;
            den += expected[i] * expected[i];
        }
        return Math.Sqrt(num / Math.Max(den, 1e-300));
    }
}
