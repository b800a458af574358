namespace Hrm.Runtime.Backends.Reference;

public static partial class ReferenceOps
{
    /// <summary>logits (B,L,V) = zH[:, P:, :] (B,T,C) · W (V,C)ᵀ.</summary>
    public static void LmHeadForward(Span<double> logits, ReadOnlySpan<double> zH, ReadOnlySpan<double> weight,
        int batch, int t, int p, int c, int v)
    {
        int l = t - p;
        Check(logits, (long)batch * l * v, nameof(logits));
        Check(zH, (long)batch * t * c, nameof(zH));
        for (int b = 0; b < batch; b++)
        {
            MatmulForward(logits.Slice(b * l * v, l * v), zH.Slice((b * t + p) * c, l * c), weight, l, c, v);
        }
    }

    /// <summary>dzH (B,T,C) = (prefix rows zero) dlogits·W; dW (V,C) += Σ dlogitsᵀ·zH.</summary>
    public static void LmHeadBackward(Span<double> dzH, Span<double> dweight, ReadOnlySpan<double> dlogits,
        ReadOnlySpan<double> zH, ReadOnlySpan<double> weight, int batch, int t, int p, int c, int v)
    {
        int l = t - p;
        Check(dzH, (long)batch * t * c, nameof(dzH));
        Check(dlogits, (long)batch * l * v, nameof(dlogits));
        for (int b = 0; b < batch; b++)
        {
            dzH.Slice(b * t * c, p * c).Clear();
            MatmulBackward(dzH.Slice((b * t + p) * c, l * c), dweight, dlogits.Slice(b * l * v, l * v),
                zH.Slice((b * t + p) * c, l * c), weight, l, c, v);
        }
    }

    /// <summary>q (B,2) = zH[:, 0, :] · W (2,C)ᵀ + bias (2); q[:,0] halt, q[:,1] continue.</summary>
    public static void QHeadForward(Span<double> q, ReadOnlySpan<double> zH, ReadOnlySpan<double> weight,
        ReadOnlySpan<double> bias, int batch, int t, int c)
    {
        Check(q, 2L * batch, nameof(q));
        Check(zH, (long)batch * t * c, nameof(zH));
        Check(weight, 2L * c, nameof(weight));
        Check(bias, 2, nameof(bias));
        for (int b = 0; b < batch; b++)
        {
            for (int o = 0; o < 2; o++)
            {
                double s = bias[o];
                for (int i = 0; i < c; i++) s += zH[b * t * c + i] * weight[o * c + i];
                q[b * 2 + o] = s;
            }
        }
    }

    /// <summary>dzH[:,0,:] += dq·W; dW (2,C) += dqᵀ·zH[:,0,:]; dbias (2) += Σ dq.</summary>
    public static void QHeadBackward(Span<double> dzH, Span<double> dweight, Span<double> dbias,
        ReadOnlySpan<double> dq, ReadOnlySpan<double> zH, ReadOnlySpan<double> weight, int batch, int t, int c)
    {
        Check(dzH, (long)batch * t * c, nameof(dzH));
        Check(dweight, 2L * c, nameof(dweight));
        Check(dbias, 2, nameof(dbias));
        Check(dq, 2L * batch, nameof(dq));
        for (int b = 0; b < batch; b++)
        {
            for (int o = 0; o < 2; o++)
            {
                double g = dq[b * 2 + o];
                dbias[o] += g;
                for (int i = 0; i < c; i++)
                {
                    dzH[b * t * c + i] += g * weight[o * c + i];
                    dweight[o * c + i] += g * zH[b * t * c + i];
                }
            }
        }
    }
}
