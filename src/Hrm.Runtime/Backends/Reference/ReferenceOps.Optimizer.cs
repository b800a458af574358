namespace Hrm.Runtime.Backends.Reference;

public static partial class ReferenceOps
{
    /// <summary>
    /// One AdamATan2 step (adam-atan2 0.0.3) over a flat region, in double. With t = <paramref name="stepNumber"/>
    /// (≥ 1): θ ← θ·(1 − lr·wd); m ← m + (1−β1)(g − m); v ← v + (1−β2)(g² − v);
    /// θ ← θ − (lr / (1 − β1^t))·atan2(m, √v / √(1 − β2^t)). No epsilon; atan2(0, 0) = 0.
    /// </summary>
    public static void AdamATan2Step(Span<double> param, ReadOnlySpan<double> grad, Span<double> m, Span<double> v,
        double lr, double beta1, double beta2, double weightDecay, int stepNumber)
    {
        Check(grad, param.Length, nameof(grad));
        Check(m, param.Length, nameof(m));
        Check(v, param.Length, nameof(v));
        AdamATan2Constants k = AdamATan2Constants.Create(lr, beta1, beta2, weightDecay, stepNumber);
        for (int i = 0; i < param.Length; i++)
        {
            double g = grad[i];
            double p = param[i] * k.WdAlpha;
            double mi = m[i] + k.OneMinusBeta1 * (g - m[i]);
            double vi = v[i] + k.OneMinusBeta2 * (g * g - v[i]);
            double denom = Math.Sqrt(vi) / k.BiasCorrection2Sqrt;
            param[i] = p - k.StepSize * Math.Atan2(mi, denom);
            m[i] = mi;
            v[i] = vi;
        }
    }

    /// <summary>
    /// SignSGD with decoupled weight decay on the table (R, W) rows named by <paramref name="ids"/>: gradient rows
    /// (N, W) sharing an id are summed in row order, then each touched row becomes w·(1 − lr·wd) − lr·sign(Σg)
    /// (sign(0) = sign(NaN) = 0). Untouched rows are not decayed. Ids outside [0, R) throw.
    /// </summary>
    public static void SignSgdRows(Span<double> table, ReadOnlySpan<double> rowGrads, ReadOnlySpan<int> ids, int w,
        double lr, double weightDecay)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(w);
        Check(rowGrads, (long)ids.Length * w, nameof(rowGrads));
        int tableRows = w == 0 ? 0 : table.Length / w;
        Check(table, (long)tableRows * w, nameof(table));
        CheckIds(ids, tableRows);
        double decay = 1.0 - lr * weightDecay;
        var sum = new double[w];
        var done = new HashSet<int>();
        for (int n = 0; n < ids.Length; n++)
        {
            int id = ids[n];
            if (!done.Add(id)) continue;
            Array.Clear(sum);
            for (int k = n; k < ids.Length; k++)
            {
                if (ids[k] != id) continue;
                ReadOnlySpan<double> g = rowGrads.Slice(k * w, w);
                for (int i = 0; i < w; i++) sum[i] += g[i];
            }
            Span<double> row = table.Slice(id * w, w);
            for (int i = 0; i < w; i++)
            {
                double s = sum[i] > 0 ? 1.0 : sum[i] < 0 ? -1.0 : 0.0;
                row[i] = row[i] * decay - lr * s;
            }
        }
    }

    /// <summary>Throws unless every id is in [0, <paramref name="rows"/>).</summary>
    internal static void CheckIds(ReadOnlySpan<int> ids, int rows)
    {
        for (int n = 0; n < ids.Length; n++)
        {
            if ((uint)ids[n] >= (uint)rows)
            {
                throw new ArgumentOutOfRangeException(nameof(ids),
                    $"puzzle identifier {ids[n]} at row {n} is outside [0, {rows})");
            }
        }
    }
}

/// <summary>
/// The per-call constants of an AdamATan2 step, computed in double from the hyperparameters as the adam-atan2
/// kernel does before casting them to the element precision.
/// </summary>
internal readonly record struct AdamATan2Constants(double StepSize, double WdAlpha, double BiasCorrection2Sqrt,
    double OneMinusBeta1, double OneMinusBeta2)
{
    /// <summary>Checks the hyperparameters; the constants of step <paramref name="stepNumber"/>.</summary>
    public static AdamATan2Constants Create(double lr, double beta1, double beta2, double weightDecay, int stepNumber)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stepNumber, 1);
        if (!(beta1 >= 0 && beta1 < 1))
            throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "must be in [0, 1)");
        if (!(beta2 >= 0 && beta2 < 1))
            throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "must be in [0, 1)");
        double bc1 = 1.0 - Math.Pow(beta1, stepNumber);
        double bc2 = 1.0 - Math.Pow(beta2, stepNumber);
        return new AdamATan2Constants(lr / bc1, 1.0 - lr * weightDecay, Math.Sqrt(bc2), 1.0 - beta1, 1.0 - beta2);
    }
}
