using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Hrm.Runtime.Backends.Cpu;

// The tile kernels of the CPU attention (CpuOps.Attention.cs): scores of two queries against a transposed key tile,
// and the rank updates that accumulate outputs and gradients (the tile copies: CpuOps.AttentionCopies.cs).
public static unsafe partial class CpuOps
{
    /// <summary>
    /// s0, s1 (nv·16) = scale · q · ktᵀ for two queries against a transposed key tile kt (HS, nv·16): groups of four
    /// vectors (eight FMA chains), then two, then one. Each score is the same in-order sum over e whichever group
    /// computes it, and the same for either query slot.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Scores2(float* q0, float* q1, float* kt, int nv, int hs, float scale, float* s0, float* s1)
    {
        if (Group16.Use256)
        {
            Scores2Narrow<Group256>(q0, q1, kt, nv, hs, scale, s0, s1);
            return;
        }
        if (Group16.Use128)
        {
            Scores2Narrow<Group128>(q0, q1, kt, nv, hs, scale, s0, s1);
            return;
        }
        int ld = 16 * nv, v = 0;
        for (; v + 4 <= nv; v += 4) Scores2x4(q0, q1, kt + 16 * v, ld, hs, scale, s0 + 16 * v, s1 + 16 * v);
        if (v + 2 <= nv)
        {
            Scores2x2(q0, q1, kt + 16 * v, ld, hs, scale, s0 + 16 * v, s1 + 16 * v);
            v += 2;
        }
        if (v < nv) Scores2x1(q0, q1, kt + 16 * v, ld, hs, scale, s0 + 16 * v, s1 + 16 * v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Scores2x4(float* q0, float* q1, float* kt, int ld, int hs, float scale, float* s0, float* s1)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default;
        for (int e = 0; e < hs; e++)
        {
            var qa = Vector512.Create(q0[e]);
            var qb = Vector512.Create(q1[e]);
            float* kr = kt + e * ld;
            Vector512<float> k0 = Vector512.Load(kr), k1 = Vector512.Load(kr + 16);
            Vector512<float> k2 = Vector512.Load(kr + 32), k3 = Vector512.Load(kr + 48);
            a0 = Vector512.FusedMultiplyAdd(qa, k0, a0);
            a1 = Vector512.FusedMultiplyAdd(qa, k1, a1);
            a2 = Vector512.FusedMultiplyAdd(qa, k2, a2);
            a3 = Vector512.FusedMultiplyAdd(qa, k3, a3);
            b0 = Vector512.FusedMultiplyAdd(qb, k0, b0);
            b1 = Vector512.FusedMultiplyAdd(qb, k1, b1);
            b2 = Vector512.FusedMultiplyAdd(qb, k2, b2);
            b3 = Vector512.FusedMultiplyAdd(qb, k3, b3);
        }
        var sc = Vector512.Create(scale);
        (a0 * sc).Store(s0);
        (a1 * sc).Store(s0 + 16);
        (a2 * sc).Store(s0 + 32);
        (a3 * sc).Store(s0 + 48);
        (b0 * sc).Store(s1);
        (b1 * sc).Store(s1 + 16);
        (b2 * sc).Store(s1 + 32);
        (b3 * sc).Store(s1 + 48);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Scores2x2(float* q0, float* q1, float* kt, int ld, int hs, float scale, float* s0, float* s1)
    {
        Vector512<float> a0 = default, a1 = default, b0 = default, b1 = default;
        for (int e = 0; e < hs; e++)
        {
            var qa = Vector512.Create(q0[e]);
            var qb = Vector512.Create(q1[e]);
            float* kr = kt + e * ld;
            Vector512<float> k0 = Vector512.Load(kr), k1 = Vector512.Load(kr + 16);
            a0 = Vector512.FusedMultiplyAdd(qa, k0, a0);
            a1 = Vector512.FusedMultiplyAdd(qa, k1, a1);
            b0 = Vector512.FusedMultiplyAdd(qb, k0, b0);
            b1 = Vector512.FusedMultiplyAdd(qb, k1, b1);
        }
        var sc = Vector512.Create(scale);
        (a0 * sc).Store(s0);
        (a1 * sc).Store(s0 + 16);
        (b0 * sc).Store(s1);
        (b1 * sc).Store(s1 + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Scores2x1(float* q0, float* q1, float* kt, int ld, int hs, float scale, float* s0, float* s1)
    {
        Vector512<float> a0 = default, b0 = default;
        for (int e = 0; e < hs; e++)
        {
            Vector512<float> k0 = Vector512.Load(kt + e * ld);
            a0 = Vector512.FusedMultiplyAdd(Vector512.Create(q0[e]), k0, a0);
            b0 = Vector512.FusedMultiplyAdd(Vector512.Create(q1[e]), k0, b0);
        }
        var sc = Vector512.Create(scale);
        (a0 * sc).Store(s0);
        (b0 * sc).Store(s1);
    }

    /// <summary>
    /// acc[0..hs) = alpha·acc + Σ_{j&lt;n} coef[j] · rows[j·stride + 0..hs): on Vector512 j in order for 64-column
    /// blocks and in two interleaved chains (even and odd j, FMA latency) for 16-column blocks, as
    /// <see cref="AccumulateRows2"/> and <see cref="AccumulateRows4"/> do, so the odd query of a tile computes what a
    /// pair or a quad would; in order everywhere else (the 256-bit loops here, the 128-bit group kernels).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void AccumulateRows(float* acc, float alpha, float* coef, int n, float* rows, long stride, int hs)
    {
        int e = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var av = Vector512.Create(alpha);
            for (; e <= hs - 64; e += 64)
            {
                Vector512<float> a0 = av * Vector512.Load(acc + e), a1 = av * Vector512.Load(acc + e + 16);
                Vector512<float> a2 = av * Vector512.Load(acc + e + 32), a3 = av * Vector512.Load(acc + e + 48);
                float* r = rows + e;
                for (int j = 0; j < n; j++, r += stride)
                {
                    var cj = Vector512.Create(coef[j]);
                    a0 = Vector512.FusedMultiplyAdd(cj, Vector512.Load(r), a0);
                    a1 = Vector512.FusedMultiplyAdd(cj, Vector512.Load(r + 16), a1);
                    a2 = Vector512.FusedMultiplyAdd(cj, Vector512.Load(r + 32), a2);
                    a3 = Vector512.FusedMultiplyAdd(cj, Vector512.Load(r + 48), a3);
                }
                a0.Store(acc + e);
                a1.Store(acc + e + 16);
                a2.Store(acc + e + 32);
                a3.Store(acc + e + 48);
            }
            for (; e <= hs - 16; e += 16)
            {
                // Two chains over j (even, odd) so the FMA latency is partly hidden when HS is small; summed at the
                // end. The pair and quad kernels sum the same way (a query's result must not depend on its slot).
                Vector512<float> a0 = av * Vector512.Load(acc + e), a1 = default;
                float* r = rows + e;
                int j = 0;
                for (; j + 1 < n; j += 2, r += 2 * stride)
                {
                    a0 = Vector512.FusedMultiplyAdd(Vector512.Create(coef[j]), Vector512.Load(r), a0);
                    a1 = Vector512.FusedMultiplyAdd(Vector512.Create(coef[j + 1]), Vector512.Load(r + stride), a1);
                }
                if (j < n) a0 = Vector512.FusedMultiplyAdd(Vector512.Create(coef[j]), Vector512.Load(r), a0);
                (a0 + a1).Store(acc + e);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var av = Vector256.Create(alpha);
            for (; e <= hs - 32; e += 32)
            {
                Vector256<float> a0 = av * Vector256.Load(acc + e), a1 = av * Vector256.Load(acc + e + 8);
                Vector256<float> a2 = av * Vector256.Load(acc + e + 16), a3 = av * Vector256.Load(acc + e + 24);
                float* r = rows + e;
                for (int j = 0; j < n; j++, r += stride)
                {
                    var cj = Vector256.Create(coef[j]);
                    a0 = Vector256.FusedMultiplyAdd(cj, Vector256.Load(r), a0);
                    a1 = Vector256.FusedMultiplyAdd(cj, Vector256.Load(r + 8), a1);
                    a2 = Vector256.FusedMultiplyAdd(cj, Vector256.Load(r + 16), a2);
                    a3 = Vector256.FusedMultiplyAdd(cj, Vector256.Load(r + 24), a3);
                }
                a0.Store(acc + e);
                a1.Store(acc + e + 8);
                a2.Store(acc + e + 16);
                a3.Store(acc + e + 24);
            }
            for (; e <= hs - 8; e += 8)
            {
                Vector256<float> a0 = av * Vector256.Load(acc + e);
                float* r = rows + e;
                for (int j = 0; j < n; j++, r += stride)
                    a0 = Vector256.FusedMultiplyAdd(Vector256.Create(coef[j]), Vector256.Load(r), a0);
                a0.Store(acc + e);
            }
        }
        if (Group16.Use128) e = AccumulateRowsNarrow<Group128>(acc, alpha, coef, n, rows, stride, hs, e);
        for (; e < hs; e++)
        {
            float a = alpha * acc[e];
            float* r = rows + e;
            for (int j = 0; j < n; j++, r += stride) a = MathF.FusedMultiplyAdd(coef[j], *r, a);
            acc[e] = a;
        }
    }

    /// <summary>
    /// <see cref="AccumulateRows"/> for two accumulators sharing the rows (each row loaded once); per accumulator and
    /// column the arithmetic is exactly that of the one-row version (on Vector512: j in order in 64-column blocks, in two
    /// chains in 16-column blocks; the columns left go through <see cref="AccumulateRows"/> itself).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void AccumulateRows2(float* acc0, float* acc1, float alpha0, float alpha1, float* coef0,
        float* coef1, int n, float* rows, long stride, int hs)
    {
        int e = 0;
        if (Group16.Use256)
            e = AccumulateRows2Narrow<Group256>(acc0, acc1, alpha0, alpha1, coef0, coef1, n, rows, stride, hs);
        if (Group16.Use128)
            e = AccumulateRows2Narrow<Group128>(acc0, acc1, alpha0, alpha1, coef0, coef1, n, rows, stride, hs);
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> av0 = Vector512.Create(alpha0), av1 = Vector512.Create(alpha1);
            for (; e <= hs - 64; e += 64)
            {
                Vector512<float> a0 = av0 * Vector512.Load(acc0 + e), a1 = av0 * Vector512.Load(acc0 + e + 16);
                Vector512<float> a2 = av0 * Vector512.Load(acc0 + e + 32), a3 = av0 * Vector512.Load(acc0 + e + 48);
                Vector512<float> b0 = av1 * Vector512.Load(acc1 + e), b1 = av1 * Vector512.Load(acc1 + e + 16);
                Vector512<float> b2 = av1 * Vector512.Load(acc1 + e + 32), b3 = av1 * Vector512.Load(acc1 + e + 48);
                float* r = rows + e;
                for (int j = 0; j < n; j++, r += stride)
                {
                    var ca = Vector512.Create(coef0[j]);
                    var cb = Vector512.Create(coef1[j]);
                    Vector512<float> r0 = Vector512.Load(r), r1 = Vector512.Load(r + 16);
                    Vector512<float> r2 = Vector512.Load(r + 32), r3 = Vector512.Load(r + 48);
                    a0 = Vector512.FusedMultiplyAdd(ca, r0, a0);
                    a1 = Vector512.FusedMultiplyAdd(ca, r1, a1);
                    a2 = Vector512.FusedMultiplyAdd(ca, r2, a2);
                    a3 = Vector512.FusedMultiplyAdd(ca, r3, a3);
                    b0 = Vector512.FusedMultiplyAdd(cb, r0, b0);
                    b1 = Vector512.FusedMultiplyAdd(cb, r1, b1);
                    b2 = Vector512.FusedMultiplyAdd(cb, r2, b2);
                    b3 = Vector512.FusedMultiplyAdd(cb, r3, b3);
                }
                a0.Store(acc0 + e);
                a1.Store(acc0 + e + 16);
                a2.Store(acc0 + e + 32);
                a3.Store(acc0 + e + 48);
                b0.Store(acc1 + e);
                b1.Store(acc1 + e + 16);
                b2.Store(acc1 + e + 32);
                b3.Store(acc1 + e + 48);
            }
        }
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> av0 = Vector512.Create(alpha0), av1 = Vector512.Create(alpha1);
            for (; e <= hs - 16; e += 16)
            {
                // Small heads: two chains over j per accumulator (latency), each row loaded once for both.
                Vector512<float> a0 = av0 * Vector512.Load(acc0 + e), a1 = default;
                Vector512<float> b0 = av1 * Vector512.Load(acc1 + e), b1 = default;
                float* r = rows + e;
                int j = 0;
                for (; j + 1 < n; j += 2, r += 2 * stride)
                {
                    Vector512<float> r0 = Vector512.Load(r), r1 = Vector512.Load(r + stride);
                    a0 = Vector512.FusedMultiplyAdd(Vector512.Create(coef0[j]), r0, a0);
                    b0 = Vector512.FusedMultiplyAdd(Vector512.Create(coef1[j]), r0, b0);
                    a1 = Vector512.FusedMultiplyAdd(Vector512.Create(coef0[j + 1]), r1, a1);
                    b1 = Vector512.FusedMultiplyAdd(Vector512.Create(coef1[j + 1]), r1, b1);
                }
                if (j < n)
                {
                    Vector512<float> r0 = Vector512.Load(r);
                    a0 = Vector512.FusedMultiplyAdd(Vector512.Create(coef0[j]), r0, a0);
                    b0 = Vector512.FusedMultiplyAdd(Vector512.Create(coef1[j]), r0, b0);
                }
                (a0 + a1).Store(acc0 + e);
                (b0 + b1).Store(acc1 + e);
            }
        }
        if (e < hs)
        {
            AccumulateRowsFrom(acc0, alpha0, coef0, n, rows, stride, hs, e);
            AccumulateRowsFrom(acc1, alpha1, coef1, n, rows, stride, hs, e);
        }
    }

    /// <summary>The columns [e0, hs) of <see cref="AccumulateRows"/> (same per-column arithmetic).</summary>
    private static void AccumulateRowsFrom(float* acc, float alpha, float* coef, int n, float* rows, long stride,
        int hs, int e0) => AccumulateRows(acc + e0, alpha, coef, n, rows + e0, stride, hs - e0);

    /// <summary>
    /// rows[j·stride + 0..hs) += coef0[j]·x0 then += coef1[j]·x1 for j &lt; n (the same rounding sequence as two
    /// one-query Axpy passes).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void RankUpdate2(float* rows, long stride, int n, float* coef0, float* coef1, float* x0,
        float* x1, int hs)
    {
        int e = 0;
        if (Group16.Use256) e = RankUpdate2Narrow<Group256>(rows, stride, n, coef0, coef1, x0, x1, hs);
        if (Group16.Use128) e = RankUpdate2Narrow<Group128>(rows, stride, n, coef0, coef1, x0, x1, hs);
        if (Vector512.IsHardwareAccelerated)
        {
            for (; e <= hs - 64; e += 64)
            {
                Vector512<float> x00 = Vector512.Load(x0 + e), x01 = Vector512.Load(x0 + e + 16);
                Vector512<float> x02 = Vector512.Load(x0 + e + 32), x03 = Vector512.Load(x0 + e + 48);
                Vector512<float> x10 = Vector512.Load(x1 + e), x11 = Vector512.Load(x1 + e + 16);
                Vector512<float> x12 = Vector512.Load(x1 + e + 32), x13 = Vector512.Load(x1 + e + 48);
                float* r = rows + e;
                for (int j = 0; j < n; j++, r += stride)
                {
                    var ca = Vector512.Create(coef0[j]);
                    var cb = Vector512.Create(coef1[j]);
                    Vector512<float> r0 = Vector512.FusedMultiplyAdd(ca, x00, Vector512.Load(r));
                    Vector512<float> r1 = Vector512.FusedMultiplyAdd(ca, x01, Vector512.Load(r + 16));
                    Vector512<float> r2 = Vector512.FusedMultiplyAdd(ca, x02, Vector512.Load(r + 32));
                    Vector512<float> r3 = Vector512.FusedMultiplyAdd(ca, x03, Vector512.Load(r + 48));
                    Vector512.FusedMultiplyAdd(cb, x10, r0).Store(r);
                    Vector512.FusedMultiplyAdd(cb, x11, r1).Store(r + 16);
                    Vector512.FusedMultiplyAdd(cb, x12, r2).Store(r + 32);
                    Vector512.FusedMultiplyAdd(cb, x13, r3).Store(r + 48);
                }
            }
        }
        if (Vector512.IsHardwareAccelerated)
        {
            for (; e <= hs - 16; e += 16)
            {
                Vector512<float> x00 = Vector512.Load(x0 + e), x10 = Vector512.Load(x1 + e);
                float* r = rows + e;
                for (int j = 0; j < n; j++, r += stride)
                {
                    Vector512<float> r0 = Vector512.FusedMultiplyAdd(Vector512.Create(coef0[j]), x00, Vector512.Load(r));
                    Vector512.FusedMultiplyAdd(Vector512.Create(coef1[j]), x10, r0).Store(r);
                }
            }
        }
        if (e < hs)
        {
            for (int j = 0; j < n; j++)
            {
                float* r = rows + j * stride + e;
                SimdMath.Axpy(r, x0 + e, coef0[j], hs - e);
                SimdMath.Axpy(r, x1 + e, coef1[j], hs - e);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float HorizontalMax(Vector512<float> v)
    {
        // Native max: NaN scores need no care here, they reach the output through exp anyway.
        Vector256<float> m8 = Vector256.MaxNative(v.GetLower(), v.GetUpper());
        Vector128<float> m4 = Vector128.MaxNative(m8.GetLower(), m8.GetUpper());
        m4 = Vector128.MaxNative(m4, Vector128.Shuffle(m4, Vector128.Create(2, 3, 0, 1)));
        m4 = Vector128.MaxNative(m4, Vector128.Shuffle(m4, Vector128.Create(1, 0, 3, 2)));
        return m4.ToScalar();
    }
}
