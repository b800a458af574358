using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static Hrm.Runtime.Backends.Cpu.SimdMath;

namespace Hrm.Runtime.Backends.Cpu;

// The attention's tile kernels (CpuOps.AttentionTiles.cs, CpuOps.AttentionQuads.cs) on 128-bit vectors, for machines
// whose widest native vectors are 128 bits (arm64's NEON, x64 without AVX2): there Vector512 and Vector256 are
// emulated lane by lane and the wide kernels ran 15x slower than on AVX-512 (T = 82 forward 12.3 ms a call against
// 0.8). A 16-key group is four vectors; per score, per output column and per query the arithmetic is that of the wide
// kernels (in-order sums with one rounding per multiply-add where SimdMath.Fused128, two otherwise), so a query's
// result does not depend on its slot. Taken where SimdMath.Narrow128 (a JIT-time constant).
public static unsafe partial class CpuOps
{
    /// <summary><see cref="Scores2"/> on 128-bit vectors: one 16-key group at a time, two queries (8 accumulators).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Scores2Narrow(float* q0, float* q1, float* kt, int nv, int hs, float scale, float* s0,
        float* s1)
    {
        int ld = 16 * nv;
        var sc = Vector128.Create(scale);
        for (int g = 0; g < 16 * nv; g += 16)
        {
            Vector128<float> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector128<float> b0 = default, b1 = default, b2 = default, b3 = default;
            float* kr = kt + g;
            for (int e = 0; e < hs; e++, kr += ld)
            {
                Vector128<float> k0 = Vector128.Load(kr), k1 = Vector128.Load(kr + 4);
                Vector128<float> k2 = Vector128.Load(kr + 8), k3 = Vector128.Load(kr + 12);
                var qa = Vector128.Create(q0[e]);
                a0 = MulAdd(qa, k0, a0);
                a1 = MulAdd(qa, k1, a1);
                a2 = MulAdd(qa, k2, a2);
                a3 = MulAdd(qa, k3, a3);
                var qb = Vector128.Create(q1[e]);
                b0 = MulAdd(qb, k0, b0);
                b1 = MulAdd(qb, k1, b1);
                b2 = MulAdd(qb, k2, b2);
                b3 = MulAdd(qb, k3, b3);
            }
            Store4(s0 + g, a0 * sc, a1 * sc, a2 * sc, a3 * sc);
            Store4(s1 + g, b0 * sc, b1 * sc, b2 * sc, b3 * sc);
        }
    }

    /// <summary><see cref="Scores4"/> on 128-bit vectors: one 16-key group at a time, four queries (16 accumulators,
    /// each key load feeding four multiply-adds).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Scores4Narrow(float* q0, long qs, float* kt, int nv, int hs, float scale, float* s, int ls)
    {
        int ld = 16 * nv;
        float* q1 = q0 + qs, q2 = q1 + qs, q3 = q2 + qs;
        var sc = Vector128.Create(scale);
        for (int g = 0; g < 16 * nv; g += 16)
        {
            Vector128<float> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector128<float> b0 = default, b1 = default, b2 = default, b3 = default;
            Vector128<float> c0 = default, c1 = default, c2 = default, c3 = default;
            Vector128<float> d0 = default, d1 = default, d2 = default, d3 = default;
            float* kr = kt + g;
            for (int e = 0; e < hs; e++, kr += ld)
            {
                Vector128<float> k0 = Vector128.Load(kr), k1 = Vector128.Load(kr + 4);
                Vector128<float> k2 = Vector128.Load(kr + 8), k3 = Vector128.Load(kr + 12);
                var qa = Vector128.Create(q0[e]);
                a0 = MulAdd(qa, k0, a0);
                a1 = MulAdd(qa, k1, a1);
                a2 = MulAdd(qa, k2, a2);
                a3 = MulAdd(qa, k3, a3);
                var qb = Vector128.Create(q1[e]);
                b0 = MulAdd(qb, k0, b0);
                b1 = MulAdd(qb, k1, b1);
                b2 = MulAdd(qb, k2, b2);
                b3 = MulAdd(qb, k3, b3);
                var qc = Vector128.Create(q2[e]);
                c0 = MulAdd(qc, k0, c0);
                c1 = MulAdd(qc, k1, c1);
                c2 = MulAdd(qc, k2, c2);
                c3 = MulAdd(qc, k3, c3);
                var qd = Vector128.Create(q3[e]);
                d0 = MulAdd(qd, k0, d0);
                d1 = MulAdd(qd, k1, d1);
                d2 = MulAdd(qd, k2, d2);
                d3 = MulAdd(qd, k3, d3);
            }
            Store4(s + g, a0 * sc, a1 * sc, a2 * sc, a3 * sc);
            Store4(s + ls + g, b0 * sc, b1 * sc, b2 * sc, b3 * sc);
            Store4(s + 2 * ls + g, c0 * sc, c1 * sc, c2 * sc, c3 * sc);
            Store4(s + 3 * ls + g, d0 * sc, d1 * sc, d2 * sc, d3 * sc);
        }
    }

    /// <summary>The four vectors of a 16-float group, stored at p.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4(float* p, Vector128<float> v0, Vector128<float> v1, Vector128<float> v2,
        Vector128<float> v3)
    {
        v0.Store(p);
        v1.Store(p + 4);
        v2.Store(p + 8);
        v3.Store(p + 12);
    }

    /// <summary>
    /// <see cref="AttentionForwardJob"/>'s online-softmax step for one query and key tile on 128-bit vectors: s (nv·16
    /// scores, kn valid) becomes exp(s − m_new), 0 past kn; m and l are updated; returns exp(m_old − m_new).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float SoftmaxTileNarrow(float* s, int kn, int nv, float* m, float* l)
    {
        // Lanes past kn become −inf by a select (as in the wide version: no scalar stores into fresh vectors).
        float* last = s + 16 * (nv - 1);
        Vector128<int> valid = Vector128.Create(kn - 16 * (nv - 1));
        var negInf = Vector128.Create(float.NegativeInfinity);
        for (int u = 0; u < 16; u += 4)
        {
            Vector128<float> keep = Vector128.LessThan(Vector128<int>.Indices + Vector128.Create(u), valid).AsSingle();
            Vector128.ConditionalSelect(keep, Vector128.Load(last + u), negInf).Store(last + u);
        }
        Vector128<float> x0 = negInf, x1 = negInf, x2 = negInf, x3 = negInf;
        for (int g = 0; g < 16 * nv; g += 16)
        {
            x0 = Vector128.MaxNative(x0, Vector128.Load(s + g));
            x1 = Vector128.MaxNative(x1, Vector128.Load(s + g + 4));
            x2 = Vector128.MaxNative(x2, Vector128.Load(s + g + 8));
            x3 = Vector128.MaxNative(x3, Vector128.Load(s + g + 12));
        }
        Vector128<float> x = Vector128.MaxNative(Vector128.MaxNative(x0, x1), Vector128.MaxNative(x2, x3));
        x = Vector128.MaxNative(x, Vector128.Shuffle(x, Vector128.Create(2, 3, 0, 1)));
        x = Vector128.MaxNative(x, Vector128.Shuffle(x, Vector128.Create(1, 0, 3, 2)));
        float mOld = *m, mNew = MathF.Max(mOld, x.ToScalar());
        var mv = Vector128.Create(mNew);
        Vector128<float> sum0 = default, sum1 = default, sum2 = default, sum3 = default;
        for (int g = 0; g < 16 * nv; g += 16)
        {
            Vector128<float> e0 = Exp(Vector128.Load(s + g) - mv), e1 = Exp(Vector128.Load(s + g + 4) - mv);
            Vector128<float> e2 = Exp(Vector128.Load(s + g + 8) - mv), e3 = Exp(Vector128.Load(s + g + 12) - mv);
            Store4(s + g, e0, e1, e2, e3);
            sum0 += e0;
            sum1 += e1;
            sum2 += e2;
            sum3 += e3;
        }
        float alpha = mOld == mNew ? 1f : Exp(mOld - mNew);
        *l = *l * alpha + Vector128.Sum((sum0 + sum1) + (sum2 + sum3));
        *m = mNew;
        return alpha;
    }

    /// <summary>The backward's p = exp(s − lse) and dS = p·(dp − D)·scale (nv·16 lanes each) on 128-bit vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ProbabilitiesAndScoreGradsNarrow(float* s, float* dp, int nv, float lse, float d, float scale)
    {
        var lv = Vector128.Create(lse);
        var dv = Vector128.Create(d);
        var sc = Vector128.Create(scale);
        for (int j = 0; j < 16 * nv; j += 4)
        {
            Vector128<float> p = Exp(Vector128.Load(s + j) - lv);
            p.Store(s + j);
            (p * (Vector128.Load(dp + j) - dv) * sc).Store(dp + j);
        }
    }

    /// <summary>
    /// Columns [e, hs) rounded down to whole vectors of <see cref="AccumulateRows"/> on 128-bit vectors (acc = alpha·acc
    /// + Σ_j coef[j]·row_j, j in order per column); returns the first column left for the scalar loop.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int AccumulateRowsNarrow(float* acc, float alpha, float* coef, int n, float* rows, long stride,
        int hs, int e)
    {
        var av = Vector128.Create(alpha);
        for (; e <= hs - 16; e += 16)
        {
            Vector128<float> a0 = av * Vector128.Load(acc + e), a1 = av * Vector128.Load(acc + e + 4);
            Vector128<float> a2 = av * Vector128.Load(acc + e + 8), a3 = av * Vector128.Load(acc + e + 12);
            float* r = rows + e;
            for (int j = 0; j < n; j++, r += stride)
            {
                var cj = Vector128.Create(coef[j]);
                a0 = MulAdd(cj, Vector128.Load(r), a0);
                a1 = MulAdd(cj, Vector128.Load(r + 4), a1);
                a2 = MulAdd(cj, Vector128.Load(r + 8), a2);
                a3 = MulAdd(cj, Vector128.Load(r + 12), a3);
            }
            Store4(acc + e, a0, a1, a2, a3);
        }
        for (; e <= hs - 4; e += 4)
        {
            Vector128<float> a0 = av * Vector128.Load(acc + e);
            float* r = rows + e;
            for (int j = 0; j < n; j++, r += stride) a0 = MulAdd(Vector128.Create(coef[j]), Vector128.Load(r), a0);
            a0.Store(acc + e);
        }
        return e;
    }

    /// <summary><see cref="AccumulateRows2"/> on 128-bit vectors (two accumulators, each row loaded once); returns the
    /// first column left for the scalar loop.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int AccumulateRows2Narrow(float* acc0, float* acc1, float alpha0, float alpha1, float* coef0,
        float* coef1, int n, float* rows, long stride, int hs)
    {
        Vector128<float> av0 = Vector128.Create(alpha0), av1 = Vector128.Create(alpha1);
        int e = 0;
        for (; e <= hs - 16; e += 16)
        {
            Vector128<float> a0 = av0 * Vector128.Load(acc0 + e), a1 = av0 * Vector128.Load(acc0 + e + 4);
            Vector128<float> a2 = av0 * Vector128.Load(acc0 + e + 8), a3 = av0 * Vector128.Load(acc0 + e + 12);
            Vector128<float> b0 = av1 * Vector128.Load(acc1 + e), b1 = av1 * Vector128.Load(acc1 + e + 4);
            Vector128<float> b2 = av1 * Vector128.Load(acc1 + e + 8), b3 = av1 * Vector128.Load(acc1 + e + 12);
            float* r = rows + e;
            for (int j = 0; j < n; j++, r += stride)
            {
                Vector128<float> r0 = Vector128.Load(r), r1 = Vector128.Load(r + 4);
                Vector128<float> r2 = Vector128.Load(r + 8), r3 = Vector128.Load(r + 12);
                var ca = Vector128.Create(coef0[j]);
                a0 = MulAdd(ca, r0, a0);
                a1 = MulAdd(ca, r1, a1);
                a2 = MulAdd(ca, r2, a2);
                a3 = MulAdd(ca, r3, a3);
                var cb = Vector128.Create(coef1[j]);
                b0 = MulAdd(cb, r0, b0);
                b1 = MulAdd(cb, r1, b1);
                b2 = MulAdd(cb, r2, b2);
                b3 = MulAdd(cb, r3, b3);
            }
            Store4(acc0 + e, a0, a1, a2, a3);
            Store4(acc1 + e, b0, b1, b2, b3);
        }
        for (; e <= hs - 4; e += 4)
        {
            Vector128<float> a0 = av0 * Vector128.Load(acc0 + e), b0 = av1 * Vector128.Load(acc1 + e);
            float* r = rows + e;
            for (int j = 0; j < n; j++, r += stride)
            {
                Vector128<float> r0 = Vector128.Load(r);
                a0 = MulAdd(Vector128.Create(coef0[j]), r0, a0);
                b0 = MulAdd(Vector128.Create(coef1[j]), r0, b0);
            }
            a0.Store(acc0 + e);
            b0.Store(acc1 + e);
        }
        return e;
    }

    /// <summary><see cref="AccumulateRows4"/> on 128-bit vectors: four accumulators acc + k·as, 16 columns at a time
    /// (16 accumulators), each row vector loaded once for all four.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void AccumulateRows4Narrow(float* acc, long @as, float a0, float a1, float a2, float a3, float* c0,
        int lc, int n, float* rows, int hs)
    {
        float* c1 = c0 + lc, c2 = c1 + lc, c3 = c2 + lc;
        Vector128<float> x0 = Vector128.Create(a0), x1 = Vector128.Create(a1);
        Vector128<float> x2 = Vector128.Create(a2), x3 = Vector128.Create(a3);
        int e = 0;
        for (; e <= hs - 16; e += 16)
        {
            float* p0 = acc + e, p1 = p0 + @as, p2 = p1 + @as, p3 = p2 + @as;
            Vector128<float> u0 = x0 * Vector128.Load(p0), u1 = x0 * Vector128.Load(p0 + 4);
            Vector128<float> u2 = x0 * Vector128.Load(p0 + 8), u3 = x0 * Vector128.Load(p0 + 12);
            Vector128<float> v0 = x1 * Vector128.Load(p1), v1 = x1 * Vector128.Load(p1 + 4);
            Vector128<float> v2 = x1 * Vector128.Load(p1 + 8), v3 = x1 * Vector128.Load(p1 + 12);
            Vector128<float> w0 = x2 * Vector128.Load(p2), w1 = x2 * Vector128.Load(p2 + 4);
            Vector128<float> w2 = x2 * Vector128.Load(p2 + 8), w3 = x2 * Vector128.Load(p2 + 12);
            Vector128<float> z0 = x3 * Vector128.Load(p3), z1 = x3 * Vector128.Load(p3 + 4);
            Vector128<float> z2 = x3 * Vector128.Load(p3 + 8), z3 = x3 * Vector128.Load(p3 + 12);
            float* r = rows + e;
            for (int j = 0; j < n; j++, r += hs)
            {
                Vector128<float> r0 = Vector128.Load(r), r1 = Vector128.Load(r + 4);
                Vector128<float> r2 = Vector128.Load(r + 8), r3 = Vector128.Load(r + 12);
                var ca = Vector128.Create(c0[j]);
                u0 = MulAdd(ca, r0, u0);
                u1 = MulAdd(ca, r1, u1);
                u2 = MulAdd(ca, r2, u2);
                u3 = MulAdd(ca, r3, u3);
                var cb = Vector128.Create(c1[j]);
                v0 = MulAdd(cb, r0, v0);
                v1 = MulAdd(cb, r1, v1);
                v2 = MulAdd(cb, r2, v2);
                v3 = MulAdd(cb, r3, v3);
                var cc = Vector128.Create(c2[j]);
                w0 = MulAdd(cc, r0, w0);
                w1 = MulAdd(cc, r1, w1);
                w2 = MulAdd(cc, r2, w2);
                w3 = MulAdd(cc, r3, w3);
                var cd = Vector128.Create(c3[j]);
                z0 = MulAdd(cd, r0, z0);
                z1 = MulAdd(cd, r1, z1);
                z2 = MulAdd(cd, r2, z2);
                z3 = MulAdd(cd, r3, z3);
            }
            Store4(p0, u0, u1, u2, u3);
            Store4(p1, v0, v1, v2, v3);
            Store4(p2, w0, w1, w2, w3);
            Store4(p3, z0, z1, z2, z3);
        }
        if (e < hs)
        {
            // The last columns, two accumulators at a time (the same per-column arithmetic).
            AccumulateRows2(acc + e, acc + @as + e, a0, a1, c0, c1, n, rows + e, hs, hs - e);
            AccumulateRows2(acc + 2 * @as + e, acc + 3 * @as + e, a2, a3, c2, c3, n, rows + e, hs, hs - e);
        }
    }

    /// <summary>Columns [0, hs) rounded down to whole vectors of <see cref="RankUpdate2"/> on 128-bit vectors (row +=
    /// coef0[j]·x0, then += coef1[j]·x1); returns the first column left for the scalar loop.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int RankUpdate2Narrow(float* rows, long stride, int n, float* coef0, float* coef1, float* x0,
        float* x1, int hs)
    {
        int e = 0;
        for (; e <= hs - 16; e += 16)
        {
            Vector128<float> x00 = Vector128.Load(x0 + e), x01 = Vector128.Load(x0 + e + 4);
            Vector128<float> x02 = Vector128.Load(x0 + e + 8), x03 = Vector128.Load(x0 + e + 12);
            Vector128<float> x10 = Vector128.Load(x1 + e), x11 = Vector128.Load(x1 + e + 4);
            Vector128<float> x12 = Vector128.Load(x1 + e + 8), x13 = Vector128.Load(x1 + e + 12);
            float* r = rows + e;
            for (int j = 0; j < n; j++, r += stride)
            {
                var ca = Vector128.Create(coef0[j]);
                var cb = Vector128.Create(coef1[j]);
                Vector128<float> r0 = MulAdd(ca, x00, Vector128.Load(r)), r1 = MulAdd(ca, x01, Vector128.Load(r + 4));
                Vector128<float> r2 = MulAdd(ca, x02, Vector128.Load(r + 8));
                Vector128<float> r3 = MulAdd(ca, x03, Vector128.Load(r + 12));
                Store4(r, MulAdd(cb, x10, r0), MulAdd(cb, x11, r1), MulAdd(cb, x12, r2), MulAdd(cb, x13, r3));
            }
        }
        for (; e <= hs - 4; e += 4)
        {
            Vector128<float> x00 = Vector128.Load(x0 + e), x10 = Vector128.Load(x1 + e);
            float* r = rows + e;
            for (int j = 0; j < n; j++, r += stride)
            {
                Vector128<float> r0 = MulAdd(Vector128.Create(coef0[j]), x00, Vector128.Load(r));
                MulAdd(Vector128.Create(coef1[j]), x10, r0).Store(r);
            }
        }
        return e;
    }

    /// <summary><see cref="RankUpdate4"/> on 128-bit vectors: each row's 16-column block loaded and stored once for
    /// the four updates (the rounding sequence of two <see cref="RankUpdate2"/> calls).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void RankUpdate4Narrow(float* rows, long stride, int n, float* c0, int lc, float* x0, long xs,
        int hs)
    {
        float* c1 = c0 + lc, c2 = c1 + lc, c3 = c2 + lc, x1 = x0 + xs, x2 = x1 + xs, x3 = x2 + xs;
        int e = 0;
        for (; e <= hs - 8; e += 8)
        {
            Vector128<float> x00 = Vector128.Load(x0 + e), x01 = Vector128.Load(x0 + e + 4);
            Vector128<float> x10 = Vector128.Load(x1 + e), x11 = Vector128.Load(x1 + e + 4);
            Vector128<float> x20 = Vector128.Load(x2 + e), x21 = Vector128.Load(x2 + e + 4);
            Vector128<float> x30 = Vector128.Load(x3 + e), x31 = Vector128.Load(x3 + e + 4);
            float* r = rows + e;
            for (int j = 0; j < n; j++, r += stride)
            {
                var ca = Vector128.Create(c0[j]);
                var cb = Vector128.Create(c1[j]);
                var cc = Vector128.Create(c2[j]);
                var cd = Vector128.Create(c3[j]);
                Vector128<float> r0 = MulAdd(ca, x00, Vector128.Load(r)), r1 = MulAdd(ca, x01, Vector128.Load(r + 4));
                r0 = MulAdd(cb, x10, r0);
                r1 = MulAdd(cb, x11, r1);
                r0 = MulAdd(cc, x20, r0);
                r1 = MulAdd(cc, x21, r1);
                MulAdd(cd, x30, r0).Store(r);
                MulAdd(cd, x31, r1).Store(r + 4);
            }
        }
        if (e < hs)
        {
            RankUpdate2(rows + e, stride, n, c0, c1, x0 + e, x1 + e, hs - e);
            RankUpdate2(rows + e, stride, n, c2, c3, x2 + e, x3 + e, hs - e);
        }
    }
}
