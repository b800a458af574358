using System.Runtime.CompilerServices;

namespace Hrm.Runtime.Backends.Cpu;

// The attention's tile kernels (CpuOps.AttentionTiles.cs, CpuOps.AttentionQuads.cs) for machines without AVX-512,
// written once over a 16-float group (Group16.cs): two Vector256 on AVX2 + FMA machines, four Vector128 on arm64 and
// x64 without AVX2. There Vector512 is emulated: the wide kernels ran 2.4-3.8x (256 bits) and about 15x (128 bits)
// slower than on AVX-512 (docs/benchmarks.md, session 19). Every score, output column and gradient column is an
// in-order sum (one rounding per multiply-add where the machine fuses them, two otherwise) whichever of the quad,
// pair or single-query kernels computes it, so a query's result does not depend on its slot. Against the 512-bit
// kernels: the scores, exp, p and dS lanes and 64-column blocks agree bitwise where fused; the softmax sum l, 16-column
// blocks (two chains there) and the reductions across lanes agree within rounding. Columns past the last whole group
// of 16 take the callers' narrower vector or scalar loops. At 128 bits the four-query kernels keep about 21 vectors
// live: within arm64's 32 registers, spilled on x64 without AVX2 (16; such machines predate 2013).
public static unsafe partial class CpuOps
{
    /// <summary><see cref="Scores2"/> one 16-key group at a time for two queries.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Scores2Narrow<TG>(float* q0, float* q1, float* kt, int nv, int hs, float scale, float* s0,
        float* s1) where TG : struct, IGroup16<TG>
    {
        int ld = 16 * nv;
        TG sc = TG.Broadcast(scale);
        for (int g = 0; g < 16 * nv; g += 16)
        {
            TG a = default, b = default;
            float* kr = kt + g;
            for (int e = 0; e < hs; e++, kr += ld)
            {
                TG k = TG.Load(kr);
                a = TG.MulAdd(TG.Broadcast(q0[e]), k, a);
                b = TG.MulAdd(TG.Broadcast(q1[e]), k, b);
            }
            TG.Store(a * sc, s0 + g);
            TG.Store(b * sc, s1 + g);
        }
    }

    /// <summary><see cref="Scores4"/> one 16-key group at a time for four queries (each key load feeds four).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Scores4Narrow<TG>(float* q0, long qs, float* kt, int nv, int hs, float scale, float* s, int ls)
        where TG : struct, IGroup16<TG>
    {
        int ld = 16 * nv;
        float* q1 = q0 + qs, q2 = q1 + qs, q3 = q2 + qs;
        TG sc = TG.Broadcast(scale);
        for (int g = 0; g < 16 * nv; g += 16)
        {
            TG a = default, b = default, c = default, d = default;
            float* kr = kt + g;
            for (int e = 0; e < hs; e++, kr += ld)
            {
                TG k = TG.Load(kr);
                a = TG.MulAdd(TG.Broadcast(q0[e]), k, a);
                b = TG.MulAdd(TG.Broadcast(q1[e]), k, b);
                c = TG.MulAdd(TG.Broadcast(q2[e]), k, c);
                d = TG.MulAdd(TG.Broadcast(q3[e]), k, d);
            }
            TG.Store(a * sc, s + g);
            TG.Store(b * sc, s + ls + g);
            TG.Store(c * sc, s + 2 * ls + g);
            TG.Store(d * sc, s + 3 * ls + g);
        }
    }

    /// <summary>
    /// <see cref="AttentionForwardJob"/>'s online-softmax step for one query and key tile: s (nv·16 scores, kn valid)
    /// becomes exp(s − m_new), 0 past kn; m and l are updated; returns exp(m_old − m_new).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float SoftmaxTileNarrow<TG>(float* s, int kn, int nv, float* m, float* l)
        where TG : struct, IGroup16<TG>
    {
        float* last = s + 16 * (nv - 1);
        TG.Store(TG.LoadFirst(last, kn - 16 * (nv - 1)), last); // lanes past kn: −inf
        TG x = TG.Load(s);
        for (int g = 16; g < 16 * nv; g += 16) x = TG.Max(x, TG.Load(s + g));
        float mOld = *m, mNew = MathF.Max(mOld, TG.MaxAcross(x));
        TG mv = TG.Broadcast(mNew), sum = default;
        for (int g = 0; g < 16 * nv; g += 16)
        {
            TG e = TG.Exp(TG.Load(s + g) - mv);
            TG.Store(e, s + g);
            sum += e;
        }
        float alpha = mOld == mNew ? 1f : SimdMath.Exp(mOld - mNew);
        *l = *l * alpha + TG.Sum(sum);
        *m = mNew;
        return alpha;
    }

    /// <summary>The backward's p = exp(s − lse) and dS = p·(dp − D)·scale over nv·16 lanes each.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ProbabilitiesAndScoreGradsNarrow<TG>(float* s, float* dp, int nv, float lse, float d,
        float scale) where TG : struct, IGroup16<TG>
    {
        TG lv = TG.Broadcast(lse), dv = TG.Broadcast(d), sc = TG.Broadcast(scale);
        for (int j = 0; j < 16 * nv; j += 16)
        {
            TG p = TG.Exp(TG.Load(s + j) - lv);
            TG.Store(p, s + j);
            TG.Store(p * (TG.Load(dp + j) - dv) * sc, dp + j);
        }
    }

    /// <summary>The whole 16-column groups from column e of <see cref="AccumulateRows"/> (acc = alpha·acc + Σ_j
    /// coef[j]·row_j, j in order per column); returns the first column left for the scalar loop.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int AccumulateRowsNarrow<TG>(float* acc, float alpha, float* coef, int n, float* rows, long stride,
        int hs, int e) where TG : struct, IGroup16<TG>
    {
        TG av = TG.Broadcast(alpha);
        for (; e <= hs - 16; e += 16)
        {
            TG a = av * TG.Load(acc + e);
            float* r = rows + e;
            for (int j = 0; j < n; j++, r += stride) a = TG.MulAdd(TG.Broadcast(coef[j]), TG.Load(r), a);
            TG.Store(a, acc + e);
        }
        return e;
    }

    /// <summary><see cref="AccumulateRows2"/>'s whole 16-column groups (two accumulators, each row loaded once);
    /// returns the first column left for the scalar loop.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int AccumulateRows2Narrow<TG>(float* acc0, float* acc1, float alpha0, float alpha1, float* coef0,
        float* coef1, int n, float* rows, long stride, int hs) where TG : struct, IGroup16<TG>
    {
        TG av0 = TG.Broadcast(alpha0), av1 = TG.Broadcast(alpha1);
        int e = 0;
        for (; e <= hs - 16; e += 16)
        {
            TG a = av0 * TG.Load(acc0 + e), b = av1 * TG.Load(acc1 + e);
            float* r = rows + e;
            for (int j = 0; j < n; j++, r += stride)
            {
                TG row = TG.Load(r);
                a = TG.MulAdd(TG.Broadcast(coef0[j]), row, a);
                b = TG.MulAdd(TG.Broadcast(coef1[j]), row, b);
            }
            TG.Store(a, acc0 + e);
            TG.Store(b, acc1 + e);
        }
        return e;
    }

    /// <summary><see cref="AccumulateRows4"/>: four accumulators acc + k·as, a 16-column group at a time, each row
    /// group loaded once for all four.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void AccumulateRows4Narrow<TG>(float* acc, long @as, float a0, float a1, float a2, float a3,
        float* c0, int lc, int n, float* rows, int hs) where TG : struct, IGroup16<TG>
    {
        float* c1 = c0 + lc, c2 = c1 + lc, c3 = c2 + lc;
        TG x0 = TG.Broadcast(a0), x1 = TG.Broadcast(a1), x2 = TG.Broadcast(a2), x3 = TG.Broadcast(a3);
        int e = 0;
        for (; e <= hs - 16; e += 16)
        {
            float* p0 = acc + e, p1 = p0 + @as, p2 = p1 + @as, p3 = p2 + @as;
            TG u = x0 * TG.Load(p0), v = x1 * TG.Load(p1), w = x2 * TG.Load(p2), z = x3 * TG.Load(p3);
            float* r = rows + e;
            for (int j = 0; j < n; j++, r += hs)
            {
                TG row = TG.Load(r);
                u = TG.MulAdd(TG.Broadcast(c0[j]), row, u);
                v = TG.MulAdd(TG.Broadcast(c1[j]), row, v);
                w = TG.MulAdd(TG.Broadcast(c2[j]), row, w);
                z = TG.MulAdd(TG.Broadcast(c3[j]), row, z);
            }
            TG.Store(u, p0);
            TG.Store(v, p1);
            TG.Store(w, p2);
            TG.Store(z, p3);
        }
        if (e < hs)
        {
            // The last columns, two accumulators at a time (the same per-column arithmetic).
            AccumulateRows2(acc + e, acc + @as + e, a0, a1, c0, c1, n, rows + e, hs, hs - e);
            AccumulateRows2(acc + 2 * @as + e, acc + 3 * @as + e, a2, a3, c2, c3, n, rows + e, hs, hs - e);
        }
    }

    /// <summary><see cref="RankUpdate2"/>'s whole 16-column groups (row += coef0[j]·x0, then += coef1[j]·x1); returns
    /// the first column left for the scalar loop.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int RankUpdate2Narrow<TG>(float* rows, long stride, int n, float* coef0, float* coef1, float* x0,
        float* x1, int hs) where TG : struct, IGroup16<TG>
    {
        int e = 0;
        for (; e <= hs - 16; e += 16)
        {
            TG y0 = TG.Load(x0 + e), y1 = TG.Load(x1 + e);
            float* r = rows + e;
            for (int j = 0; j < n; j++, r += stride)
            {
                TG row = TG.MulAdd(TG.Broadcast(coef0[j]), y0, TG.Load(r));
                TG.Store(TG.MulAdd(TG.Broadcast(coef1[j]), y1, row), r);
            }
        }
        return e;
    }

    /// <summary><see cref="RankUpdate4"/>: each row's 16-column group loaded and stored once for the four updates
    /// (the rounding sequence of two <see cref="RankUpdate2"/> calls).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void RankUpdate4Narrow<TG>(float* rows, long stride, int n, float* c0, int lc, float* x0, long xs,
        int hs) where TG : struct, IGroup16<TG>
    {
        float* c1 = c0 + lc, c2 = c1 + lc, c3 = c2 + lc, x1 = x0 + xs, x2 = x1 + xs, x3 = x2 + xs;
        int e = 0;
        for (; e <= hs - 16; e += 16)
        {
            TG y0 = TG.Load(x0 + e), y1 = TG.Load(x1 + e), y2 = TG.Load(x2 + e), y3 = TG.Load(x3 + e);
            float* r = rows + e;
            for (int j = 0; j < n; j++, r += stride)
            {
                TG row = TG.MulAdd(TG.Broadcast(c0[j]), y0, TG.Load(r));
                row = TG.MulAdd(TG.Broadcast(c1[j]), y1, row);
                row = TG.MulAdd(TG.Broadcast(c2[j]), y2, row);
                TG.Store(TG.MulAdd(TG.Broadcast(c3[j]), y3, row), r);
            }
        }
        if (e < hs)
        {
            RankUpdate2(rows + e, stride, n, c0, c1, x0 + e, x1 + e, hs - e);
            RankUpdate2(rows + e, stride, n, c2, c3, x2 + e, x3 + e, hs - e);
        }
    }
}
