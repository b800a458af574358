namespace Hrm.Runtime.Backends.Reference;

public static partial class ReferenceOps
{
    /// <summary>
    /// Rotate-half RoPE in place on the Q and K parts of qkv (B,T,3C): x' = x·cos + rot(x)·sin with
    /// rot([x1|x2]) = [−x2|x1]; cos, sin are (T,HS).
    /// </summary>
    public static void RopeForward(Span<double> qkv, ReadOnlySpan<double> cos, ReadOnlySpan<double> sin,
        int batch, int t, int nh, int hs) => Rope(qkv, cos, sin, batch, t, nh, hs, 1.0);

    /// <summary>The transpose of <see cref="RopeForward"/> applied in place to dqkv (B,T,3C).</summary>
    public static void RopeBackward(Span<double> dqkv, ReadOnlySpan<double> cos, ReadOnlySpan<double> sin,
        int batch, int t, int nh, int hs) => Rope(dqkv, cos, sin, batch, t, nh, hs, -1.0);

    private static void Rope(Span<double> qkv, ReadOnlySpan<double> cos, ReadOnlySpan<double> sin,
        int batch, int t, int nh, int hs, double sign)
    {
        int c = nh * hs, half = hs / 2;
        Check(qkv, 3L * batch * t * c, nameof(qkv));
        Check(cos, (long)t * hs, nameof(cos));
        Check(sin, (long)t * hs, nameof(sin));
        for (int b = 0; b < batch; b++)
        {
            for (int p = 0; p < t; p++)
            {
                for (int part = 0; part < 2; part++)
                {
                    for (int h = 0; h < nh; h++)
                    {
                        Span<double> x = qkv.Slice(((b * t + p) * 3 + part) * c + h * hs, hs);
                        for (int i = 0; i < half; i++)
                        {
                            double x1 = x[i], x2 = x[i + half];
                            double c1 = cos[p * hs + i], s1 = sign * sin[p * hs + i];
                            double c2 = cos[p * hs + i + half], s2 = sign * sin[p * hs + i + half];
                            x[i] = x1 * c1 - x2 * s1;
                            x[i + half] = x2 * c2 + x1 * s2;
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Non-causal softmax attention, scale 1/sqrt(HS). qkv (B,T,3C) = [Q|K|V] per row, heads of HS contiguous.
    /// out (B,T,C); lse (B,NH,T) = log Σ_j exp(s_ij) kept for the backward.
    /// </summary>
    public static void AttentionForward(Span<double> output, Span<double> lse, ReadOnlySpan<double> qkv,
        int batch, int t, int nh, int hs)
    {
        int c = nh * hs;
        Check(output, (long)batch * t * c, nameof(output));
        Check(lse, (long)batch * nh * t, nameof(lse));
        Check(qkv, 3L * batch * t * c, nameof(qkv));
        double scale = 1.0 / Math.Sqrt(hs);
        double[] s = new double[t];
        for (int b = 0; b < batch; b++)
        {
            for (int h = 0; h < nh; h++)
            {
                for (int i = 0; i < t; i++)
                {
                    ReadOnlySpan<double> q = qkv.Slice((b * t + i) * 3 * c + h * hs, hs);
                    double max = double.NegativeInfinity;
                    for (int j = 0; j < t; j++)
                    {
                        ReadOnlySpan<double> k = qkv.Slice((b * t + j) * 3 * c + c + h * hs, hs);
                        double d = 0;
                        for (int e = 0; e < hs; e++) d += q[e] * k[e];
                        s[j] = d * scale;
                        max = Math.Max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < t; j++) sum += Math.Exp(s[j] - max);
                    Span<double> o = output.Slice((b * t + i) * c + h * hs, hs);
                    o.Clear();
                    for (int j = 0; j < t; j++)
                    {
                        double pj = Math.Exp(s[j] - max) / sum;
                        ReadOnlySpan<double> v = qkv.Slice((b * t + j) * 3 * c + 2 * c + h * hs, hs);
                        for (int e = 0; e < hs; e++) o[e] += pj * v[e];
                    }
                    lse[(b * nh + h) * t + i] = max + Math.Log(sum);
                }
            }
        }
    }

    /// <summary>dqkv (B,T,3C) = gradient of <see cref="AttentionForward"/> w.r.t. qkv, given dout (B,T,C).</summary>
    public static void AttentionBackward(Span<double> dqkv, ReadOnlySpan<double> dout, ReadOnlySpan<double> qkv,
        ReadOnlySpan<double> output, ReadOnlySpan<double> lse, int batch, int t, int nh, int hs)
    {
        int c = nh * hs;
        Check(dqkv, 3L * batch * t * c, nameof(dqkv));
        Check(dout, (long)batch * t * c, nameof(dout));
        Check(qkv, 3L * batch * t * c, nameof(qkv));
        Check(output, (long)batch * t * c, nameof(output));
        Check(lse, (long)batch * nh * t, nameof(lse));
        double scale = 1.0 / Math.Sqrt(hs);
        dqkv.Clear();
        for (int b = 0; b < batch; b++)
        {
            for (int h = 0; h < nh; h++)
            {
                for (int i = 0; i < t; i++)
                {
                    int qi = (b * t + i) * 3 * c + h * hs;
                    int oi = (b * t + i) * c + h * hs;
                    double dd = 0; // D_i = dO_i · O_i
                    for (int e = 0; e < hs; e++) dd += dout[oi + e] * output[oi + e];
                    for (int j = 0; j < t; j++)
                    {
                        int kj = (b * t + j) * 3 * c + c + h * hs, vj = kj + c;
                        double sij = 0, dp = 0;
                        for (int e = 0; e < hs; e++)
                        {
                            sij += qkv[qi + e] * qkv[kj + e];
                            dp += dout[oi + e] * qkv[vj + e];
                        }
                        double p = Math.Exp(sij * scale - lse[(b * nh + h) * t + i]);
                        double ds = p * (dp - dd) * scale;
                        for (int e = 0; e < hs; e++)
                        {
                            dqkv[qi + e] += ds * qkv[kj + e];
                            dqkv[kj + e] += ds * qkv[qi + e];
                            dqkv[vj + e] += p * dout[oi + e];
                        }
                    }
                }
            }
        }
    }
}
