namespace Hrm.Runtime.Backends.Reference;

/// <summary>
/// Scalar reference ops in double: obviously correct, slow, used by tests and by the Reference backend
/// (which runs the whole model in double for finite-difference checks). Shapes use B, T (with prefix),
/// L (without), C, NH, HS, V, I. Activation gradients are written (=), parameter gradients accumulated (+=).
/// </summary>
public static partial class ReferenceOps
{
    /// <summary>out (M,N) = inp (M,K) · weight (N,K)ᵀ.</summary>
    public static void MatmulForward(Span<double> output, ReadOnlySpan<double> inp, ReadOnlySpan<double> weight,
        int m, int k, int n)
    {
        Check(output, (long)m * n, nameof(output));
        Check(inp, (long)m * k, nameof(inp));
        Check(weight, (long)n * k, nameof(weight));
        for (int i = 0; i < m; i++)
        {
            ReadOnlySpan<double> x = inp.Slice(i * k, k);
            for (int j = 0; j < n; j++)
            {
                ReadOnlySpan<double> w = weight.Slice(j * k, k);
                double s = 0;
                for (int t = 0; t < k; t++) s += x[t] * w[t];
                output[i * n + j] = s;
            }
        }
    }

    /// <summary>dinp (M,K) = dout·weight (skipped when empty; with <paramref name="accumulate"/> +=); dweight (N,K)
    /// += doutᵀ·inp.</summary>
    public static void MatmulBackward(Span<double> dinp, Span<double> dweight, ReadOnlySpan<double> dout,
        ReadOnlySpan<double> inp, ReadOnlySpan<double> weight, int m, int k, int n, bool accumulate = false)
    {
        Check(dout, (long)m * n, nameof(dout));
        Check(inp, (long)m * k, nameof(inp));
        Check(weight, (long)n * k, nameof(weight));
        Check(dweight, (long)n * k, nameof(dweight));
        if (!dinp.IsEmpty)
        {
            Check(dinp, (long)m * k, nameof(dinp));
            for (int i = 0; i < m; i++)
            {
                for (int t = 0; t < k; t++)
                {
                    double s = 0;
                    for (int j = 0; j < n; j++) s += dout[i * n + j] * weight[j * k + t];
                    dinp[i * k + t] = accumulate ? dinp[i * k + t] + s : s;
                }
            }
        }
        for (int j = 0; j < n; j++)
        {
            for (int t = 0; t < k; t++)
            {
                double s = 0;
                for (int i = 0; i < m; i++) s += dout[i * n + j] * inp[i * k + t];
                dweight[j * k + t] += s;
            }
        }
    }

    /// <summary>out (N,C) = RMSNorm(a + b), rstd (N) = 1/sqrt(mean((a+b)²) + eps). No weight.</summary>
    public static void AddRmsNormForward(Span<double> output, Span<double> rstd, ReadOnlySpan<double> a,
        ReadOnlySpan<double> b, int rows, int c, double eps)
    {
        Check(output, (long)rows * c, nameof(output));
        Check(rstd, rows, nameof(rstd));
        Check(a, (long)rows * c, nameof(a));
        Check(b, (long)rows * c, nameof(b));
        for (int r = 0; r < rows; r++)
        {
            double ss = 0;
            for (int i = 0; i < c; i++)
            {
                double v = a[r * c + i] + b[r * c + i];
                ss += v * v;
            }
            double s = 1.0 / Math.Sqrt(ss / c + eps);
            rstd[r] = s;
            for (int i = 0; i < c; i++) output[r * c + i] = (a[r * c + i] + b[r * c + i]) * s;
        }
    }

    /// <summary>dinp (N,C) = d RMSNorm input, from dout, the normalised output and rstd.</summary>
    public static void RmsNormBackward(Span<double> dinp, ReadOnlySpan<double> dout, ReadOnlySpan<double> output,
        ReadOnlySpan<double> rstd, int rows, int c)
    {
        Check(dinp, (long)rows * c, nameof(dinp));
        Check(dout, (long)rows * c, nameof(dout));
        Check(output, (long)rows * c, nameof(output));
        Check(rstd, rows, nameof(rstd));
        for (int r = 0; r < rows; r++)
        {
            // y = x·s, s = (mean(x²)+eps)^-1/2  =>  dx = s·(dy − y·mean(dy·y))
            double dot = 0;
            for (int i = 0; i < c; i++) dot += dout[r * c + i] * output[r * c + i];
            dot /= c;
            for (int i = 0; i < c; i++)
                dinp[r * c + i] = rstd[r] * (dout[r * c + i] - output[r * c + i] * dot);
        }
    }

    /// <summary>act (N,I) = SiLU(gate)·up, with gateUp (N,2I) = [gate | up].</summary>
    public static void SwiGluForward(Span<double> act, ReadOnlySpan<double> gateUp, int rows, int inter)
    {
        Check(act, (long)rows * inter, nameof(act));
        Check(gateUp, 2L * rows * inter, nameof(gateUp));
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < inter; i++)
            {
                double g = gateUp[r * 2 * inter + i], u = gateUp[r * 2 * inter + inter + i];
                act[r * inter + i] = g / (1 + Math.Exp(-g)) * u;
            }
        }
    }

    /// <summary>dgateUp (N,2I) from dact (N,I).</summary>
    public static void SwiGluBackward(Span<double> dgateUp, ReadOnlySpan<double> dact, ReadOnlySpan<double> gateUp,
        int rows, int inter)
    {
        Check(dgateUp, 2L * rows * inter, nameof(dgateUp));
        Check(dact, (long)rows * inter, nameof(dact));
        Check(gateUp, 2L * rows * inter, nameof(gateUp));
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < inter; i++)
            {
                double g = gateUp[r * 2 * inter + i], u = gateUp[r * 2 * inter + inter + i];
                double s = 1 / (1 + Math.Exp(-g));
                double d = dact[r * inter + i];
                dgateUp[r * 2 * inter + i] = d * u * s * (1 + g * (1 - s));
                dgateUp[r * 2 * inter + inter + i] = d * g * s;
            }
        }
    }

    /// <summary>dst = a + b (elementwise; dst may alias a or b).</summary>
    public static void Add(Span<double> dst, ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        Check(a, dst.Length, nameof(a));
        Check(b, dst.Length, nameof(b));
        for (int i = 0; i < dst.Length; i++) dst[i] = a[i] + b[i];
    }

    /// <summary>Rows b with halted[b] != 0 of z (B,T,C) become init (C) broadcast over T.</summary>
    public static void ResetCarry(Span<double> z, ReadOnlySpan<double> init, ReadOnlySpan<int> halted,
        int batch, int t, int c)
    {
        Check(z, (long)batch * t * c, nameof(z));
        Check(init, c, nameof(init));
        Check(halted, batch, nameof(halted));
        for (int b = 0; b < batch; b++)
        {
            if (halted[b] == 0) continue;
            for (int p = 0; p < t; p++) init.CopyTo(z.Slice((b * t + p) * c, c));
        }
    }

    internal static void Check<T>(ReadOnlySpan<T> s, long expected, string name)
    {
        if (s.Length != expected)
            throw new ArgumentException($"{name}: expected {expected} elements, got {s.Length}", name);
    }
}
