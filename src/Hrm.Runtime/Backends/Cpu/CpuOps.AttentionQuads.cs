using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Hrm.Runtime.Backends.Cpu;

// The four-query tile kernels of the CPU attention forward (CpuOps.Attention.cs): each key-tile or value-row load
// feeds 16 FMAs (two queries fed 8, and the forward was load-bound). Per query the arithmetic is exactly that of the
// two-query kernels (CpuOps.AttentionTiles.cs), so a query's result does not depend on its slot.
public static unsafe partial class CpuOps
{
    /// <summary>
    /// s0 + k·ls (nv·16), k &lt; 4 = scale · q_k · ktᵀ for the four queries q0 + k·qs against a transposed key tile kt
    /// (HS, nv·16): four queries by four, two, then one vectors. Each score is the same in-order sum over e as in
    /// <see cref="Scores2"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Scores4(float* q0, long qs, float* kt, int nv, int hs, float scale, float* s0, int ls)
    {
        if (Group16.Use256)
        {
            Scores4Narrow<Group256>(q0, qs, kt, nv, hs, scale, s0, ls);
            return;
        }
        if (Group16.Use128)
        {
            Scores4Narrow<Group128>(q0, qs, kt, nv, hs, scale, s0, ls);
            return;
        }
        if (!Vector512.IsHardwareAccelerated)
        {
            Scores2(q0, q0 + qs, kt, nv, hs, scale, s0, s0 + ls);
            Scores2(q0 + 2 * qs, q0 + 3 * qs, kt, nv, hs, scale, s0 + 2 * ls, s0 + 3 * ls);
            return;
        }
        int ld = 16 * nv, v = 0;
        for (; v + 4 <= nv; v += 4) Scores4x4(q0, qs, kt + 16 * v, ld, hs, scale, s0 + 16 * v, ls);
        for (; v + 2 <= nv; v += 2) Scores4x2(q0, qs, kt + 16 * v, ld, hs, scale, s0 + 16 * v, ls);
        if (v < nv)
        {
            Scores2x1(q0, q0 + qs, kt + 16 * v, ld, hs, scale, s0 + 16 * v, s0 + ls + 16 * v);
            Scores2x1(q0 + 2 * qs, q0 + 3 * qs, kt + 16 * v, ld, hs, scale, s0 + 2 * ls + 16 * v, s0 + 3 * ls + 16 * v);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Scores4x4(float* q0, long qs, float* kt, int ld, int hs, float scale, float* s, int ls)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default;
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        Vector512<float> d0 = default, d1 = default, d2 = default, d3 = default;
        float* q1 = q0 + qs, q2 = q1 + qs, q3 = q2 + qs;
        for (int e = 0; e < hs; e++)
        {
            float* kr = kt + e * ld;
            Vector512<float> k0 = Vector512.Load(kr), k1 = Vector512.Load(kr + 16);
            Vector512<float> k2 = Vector512.Load(kr + 32), k3 = Vector512.Load(kr + 48);
            var qa = Vector512.Create(q0[e]);
            a0 = Vector512.FusedMultiplyAdd(qa, k0, a0);
            a1 = Vector512.FusedMultiplyAdd(qa, k1, a1);
            a2 = Vector512.FusedMultiplyAdd(qa, k2, a2);
            a3 = Vector512.FusedMultiplyAdd(qa, k3, a3);
            var qb = Vector512.Create(q1[e]);
            b0 = Vector512.FusedMultiplyAdd(qb, k0, b0);
            b1 = Vector512.FusedMultiplyAdd(qb, k1, b1);
            b2 = Vector512.FusedMultiplyAdd(qb, k2, b2);
            b3 = Vector512.FusedMultiplyAdd(qb, k3, b3);
            var qc = Vector512.Create(q2[e]);
            c0 = Vector512.FusedMultiplyAdd(qc, k0, c0);
            c1 = Vector512.FusedMultiplyAdd(qc, k1, c1);
            c2 = Vector512.FusedMultiplyAdd(qc, k2, c2);
            c3 = Vector512.FusedMultiplyAdd(qc, k3, c3);
            var qd = Vector512.Create(q3[e]);
            d0 = Vector512.FusedMultiplyAdd(qd, k0, d0);
            d1 = Vector512.FusedMultiplyAdd(qd, k1, d1);
            d2 = Vector512.FusedMultiplyAdd(qd, k2, d2);
            d3 = Vector512.FusedMultiplyAdd(qd, k3, d3);
        }
        var sc = Vector512.Create(scale);
        Store4(s, a0 * sc, a1 * sc, a2 * sc, a3 * sc);
        Store4(s + ls, b0 * sc, b1 * sc, b2 * sc, b3 * sc);
        Store4(s + 2 * ls, c0 * sc, c1 * sc, c2 * sc, c3 * sc);
        Store4(s + 3 * ls, d0 * sc, d1 * sc, d2 * sc, d3 * sc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Scores4x2(float* q0, long qs, float* kt, int ld, int hs, float scale, float* s, int ls)
    {
        Vector512<float> a0 = default, a1 = default, b0 = default, b1 = default;
        Vector512<float> c0 = default, c1 = default, d0 = default, d1 = default;
        float* q1 = q0 + qs, q2 = q1 + qs, q3 = q2 + qs;
        for (int e = 0; e < hs; e++)
        {
            float* kr = kt + e * ld;
            Vector512<float> k0 = Vector512.Load(kr), k1 = Vector512.Load(kr + 16);
            var qa = Vector512.Create(q0[e]);
            var qb = Vector512.Create(q1[e]);
            var qc = Vector512.Create(q2[e]);
            var qd = Vector512.Create(q3[e]);
            a0 = Vector512.FusedMultiplyAdd(qa, k0, a0);
            a1 = Vector512.FusedMultiplyAdd(qa, k1, a1);
            b0 = Vector512.FusedMultiplyAdd(qb, k0, b0);
            b1 = Vector512.FusedMultiplyAdd(qb, k1, b1);
            c0 = Vector512.FusedMultiplyAdd(qc, k0, c0);
            c1 = Vector512.FusedMultiplyAdd(qc, k1, c1);
            d0 = Vector512.FusedMultiplyAdd(qd, k0, d0);
            d1 = Vector512.FusedMultiplyAdd(qd, k1, d1);
        }
        var sc = Vector512.Create(scale);
        (a0 * sc).Store(s);
        (a1 * sc).Store(s + 16);
        (b0 * sc).Store(s + ls);
        (b1 * sc).Store(s + ls + 16);
        (c0 * sc).Store(s + 2 * ls);
        (c1 * sc).Store(s + 2 * ls + 16);
        (d0 * sc).Store(s + 3 * ls);
        (d1 * sc).Store(s + 3 * ls + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4(float* p, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2,
        Vector512<float> v3)
    {
        v0.Store(p);
        v1.Store(p + 16);
        v2.Store(p + 32);
        v3.Store(p + 48);
    }

    /// <summary>
    /// <see cref="AccumulateRows2"/> for four accumulators acc + k·as (alphas a0..a3, coefficients coef + k·lc) sharing
    /// the rows (hs floats apart); per accumulator the arithmetic is exactly that of <see cref="AccumulateRows2"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void AccumulateRows4(float* acc, long @as, float a0, float a1, float a2, float a3, float* coef,
        int lc, int n, float* rows, int hs)
    {
        float* c0 = coef, c1 = coef + lc, c2 = c1 + lc, c3 = c2 + lc;
        if (Group16.Use256)
        {
            AccumulateRows4Narrow<Group256>(acc, @as, a0, a1, a2, a3, c0, lc, n, rows, hs);
            return;
        }
        if (Group16.Use128)
        {
            AccumulateRows4Narrow<Group128>(acc, @as, a0, a1, a2, a3, c0, lc, n, rows, hs);
            return;
        }
        if (!Vector512.IsHardwareAccelerated)
        {
            AccumulateRows2(acc, acc + @as, a0, a1, c0, c1, n, rows, hs, hs);
            AccumulateRows2(acc + 2 * @as, acc + 3 * @as, a2, a3, c2, c3, n, rows, hs, hs);
            return;
        }
        int e = 0;
        for (; e <= hs - 64; e += 64)
        {
            float* p0 = acc + e, p1 = p0 + @as, p2 = p1 + @as, p3 = p2 + @as;
            Vector512<float> x0 = Vector512.Create(a0), x1 = Vector512.Create(a1);
            Vector512<float> x2 = Vector512.Create(a2), x3 = Vector512.Create(a3);
            Vector512<float> u0 = x0 * Vector512.Load(p0), u1 = x0 * Vector512.Load(p0 + 16);
            Vector512<float> u2 = x0 * Vector512.Load(p0 + 32), u3 = x0 * Vector512.Load(p0 + 48);
            Vector512<float> v0 = x1 * Vector512.Load(p1), v1 = x1 * Vector512.Load(p1 + 16);
            Vector512<float> v2 = x1 * Vector512.Load(p1 + 32), v3 = x1 * Vector512.Load(p1 + 48);
            Vector512<float> w0 = x2 * Vector512.Load(p2), w1 = x2 * Vector512.Load(p2 + 16);
            Vector512<float> w2 = x2 * Vector512.Load(p2 + 32), w3 = x2 * Vector512.Load(p2 + 48);
            Vector512<float> z0 = x3 * Vector512.Load(p3), z1 = x3 * Vector512.Load(p3 + 16);
            Vector512<float> z2 = x3 * Vector512.Load(p3 + 32), z3 = x3 * Vector512.Load(p3 + 48);
            float* r = rows + e;
            for (int j = 0; j < n; j++, r += hs)
            {
                Vector512<float> r0 = Vector512.Load(r), r1 = Vector512.Load(r + 16);
                Vector512<float> r2 = Vector512.Load(r + 32), r3 = Vector512.Load(r + 48);
                var ca = Vector512.Create(c0[j]);
                u0 = Vector512.FusedMultiplyAdd(ca, r0, u0);
                u1 = Vector512.FusedMultiplyAdd(ca, r1, u1);
                u2 = Vector512.FusedMultiplyAdd(ca, r2, u2);
                u3 = Vector512.FusedMultiplyAdd(ca, r3, u3);
                var cb = Vector512.Create(c1[j]);
                v0 = Vector512.FusedMultiplyAdd(cb, r0, v0);
                v1 = Vector512.FusedMultiplyAdd(cb, r1, v1);
                v2 = Vector512.FusedMultiplyAdd(cb, r2, v2);
                v3 = Vector512.FusedMultiplyAdd(cb, r3, v3);
                var cc = Vector512.Create(c2[j]);
                w0 = Vector512.FusedMultiplyAdd(cc, r0, w0);
                w1 = Vector512.FusedMultiplyAdd(cc, r1, w1);
                w2 = Vector512.FusedMultiplyAdd(cc, r2, w2);
                w3 = Vector512.FusedMultiplyAdd(cc, r3, w3);
                var cd = Vector512.Create(c3[j]);
                z0 = Vector512.FusedMultiplyAdd(cd, r0, z0);
                z1 = Vector512.FusedMultiplyAdd(cd, r1, z1);
                z2 = Vector512.FusedMultiplyAdd(cd, r2, z2);
                z3 = Vector512.FusedMultiplyAdd(cd, r3, z3);
            }
            Store4(p0, u0, u1, u2, u3);
            Store4(p1, v0, v1, v2, v3);
            Store4(p2, w0, w1, w2, w3);
            Store4(p3, z0, z1, z2, z3);
        }
        for (; e <= hs - 16; e += 16)
        {
            // Small heads: two chains over j per accumulator as in AccumulateRows2, each row loaded once for all four.
            float* p0 = acc + e, p1 = p0 + @as, p2 = p1 + @as, p3 = p2 + @as;
            Vector512<float> u0 = Vector512.Create(a0) * Vector512.Load(p0), u1 = default;
            Vector512<float> v0 = Vector512.Create(a1) * Vector512.Load(p1), v1 = default;
            Vector512<float> w0 = Vector512.Create(a2) * Vector512.Load(p2), w1 = default;
            Vector512<float> z0 = Vector512.Create(a3) * Vector512.Load(p3), z1 = default;
            float* r = rows + e;
            int j = 0;
            for (; j + 1 < n; j += 2, r += 2 * hs)
            {
                Vector512<float> r0 = Vector512.Load(r), r1 = Vector512.Load(r + hs);
                u0 = Vector512.FusedMultiplyAdd(Vector512.Create(c0[j]), r0, u0);
                v0 = Vector512.FusedMultiplyAdd(Vector512.Create(c1[j]), r0, v0);
                w0 = Vector512.FusedMultiplyAdd(Vector512.Create(c2[j]), r0, w0);
                z0 = Vector512.FusedMultiplyAdd(Vector512.Create(c3[j]), r0, z0);
                u1 = Vector512.FusedMultiplyAdd(Vector512.Create(c0[j + 1]), r1, u1);
                v1 = Vector512.FusedMultiplyAdd(Vector512.Create(c1[j + 1]), r1, v1);
                w1 = Vector512.FusedMultiplyAdd(Vector512.Create(c2[j + 1]), r1, w1);
                z1 = Vector512.FusedMultiplyAdd(Vector512.Create(c3[j + 1]), r1, z1);
            }
            if (j < n)
            {
                Vector512<float> r0 = Vector512.Load(r);
                u0 = Vector512.FusedMultiplyAdd(Vector512.Create(c0[j]), r0, u0);
                v0 = Vector512.FusedMultiplyAdd(Vector512.Create(c1[j]), r0, v0);
                w0 = Vector512.FusedMultiplyAdd(Vector512.Create(c2[j]), r0, w0);
                z0 = Vector512.FusedMultiplyAdd(Vector512.Create(c3[j]), r0, z0);
            }
            (u0 + u1).Store(p0);
            (v0 + v1).Store(p1);
            (w0 + w1).Store(p2);
            (z0 + z1).Store(p3);
        }
        if (e < hs)
        {
            AccumulateRowsFrom(acc, a0, c0, n, rows, hs, hs, e);
            AccumulateRowsFrom(acc + @as, a1, c1, n, rows, hs, hs, e);
            AccumulateRowsFrom(acc + 2 * @as, a2, c2, n, rows, hs, hs, e);
            AccumulateRowsFrom(acc + 3 * @as, a3, c3, n, rows, hs, hs, e);
        }
    }

    /// <summary>
    /// rows[j·stride + 0..hs) += coef0[j]·x0, then coef1[j]·x1, coef2[j]·x2, coef3[j]·x3 for j &lt; n (coefficient k at
    /// coef0 + k·lc, vector k at x0 + k·xs): the rounding sequence of two <see cref="RankUpdate2"/> calls, with each row
    /// loaded and stored once.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void RankUpdate4(float* rows, long stride, int n, float* coef0, int lc, float* x0, long xs, int hs)
    {
        float* c1 = coef0 + lc, c2 = c1 + lc, c3 = c2 + lc, x1 = x0 + xs, x2 = x1 + xs, x3 = x2 + xs;
        if (Group16.Use256)
        {
            RankUpdate4Narrow<Group256>(rows, stride, n, coef0, lc, x0, xs, hs);
            return;
        }
        if (Group16.Use128)
        {
            RankUpdate4Narrow<Group128>(rows, stride, n, coef0, lc, x0, xs, hs);
            return;
        }
        if (!Vector512.IsHardwareAccelerated)
        {
            RankUpdate2(rows, stride, n, coef0, c1, x0, x1, hs);
            RankUpdate2(rows, stride, n, c2, c3, x2, x3, hs);
            return;
        }
        int e = 0;
        for (; e <= hs - 32; e += 32)
        {
            Vector512<float> x00 = Vector512.Load(x0 + e), x01 = Vector512.Load(x0 + e + 16);
            Vector512<float> x10 = Vector512.Load(x1 + e), x11 = Vector512.Load(x1 + e + 16);
            Vector512<float> x20 = Vector512.Load(x2 + e), x21 = Vector512.Load(x2 + e + 16);
            Vector512<float> x30 = Vector512.Load(x3 + e), x31 = Vector512.Load(x3 + e + 16);
            float* r = rows + e;
            for (int j = 0; j < n; j++, r += stride)
            {
                var ca = Vector512.Create(coef0[j]);
                var cb = Vector512.Create(c1[j]);
                var cc = Vector512.Create(c2[j]);
                var cd = Vector512.Create(c3[j]);
                Vector512<float> r0 = Vector512.FusedMultiplyAdd(ca, x00, Vector512.Load(r));
                Vector512<float> r1 = Vector512.FusedMultiplyAdd(ca, x01, Vector512.Load(r + 16));
                r0 = Vector512.FusedMultiplyAdd(cb, x10, r0);
                r1 = Vector512.FusedMultiplyAdd(cb, x11, r1);
                r0 = Vector512.FusedMultiplyAdd(cc, x20, r0);
                r1 = Vector512.FusedMultiplyAdd(cc, x21, r1);
                Vector512.FusedMultiplyAdd(cd, x30, r0).Store(r);
                Vector512.FusedMultiplyAdd(cd, x31, r1).Store(r + 16);
            }
        }
        for (; e <= hs - 16; e += 16)
        {
            Vector512<float> x00 = Vector512.Load(x0 + e), x10 = Vector512.Load(x1 + e);
            Vector512<float> x20 = Vector512.Load(x2 + e), x30 = Vector512.Load(x3 + e);
            float* r = rows + e;
            for (int j = 0; j < n; j++, r += stride)
            {
                Vector512<float> r0 = Vector512.FusedMultiplyAdd(Vector512.Create(coef0[j]), x00, Vector512.Load(r));
                r0 = Vector512.FusedMultiplyAdd(Vector512.Create(c1[j]), x10, r0);
                r0 = Vector512.FusedMultiplyAdd(Vector512.Create(c2[j]), x20, r0);
                Vector512.FusedMultiplyAdd(Vector512.Create(c3[j]), x30, r0).Store(r);
            }
        }
        if (e < hs)
        {
            for (int j = 0; j < n; j++)
            {
                float* r = rows + j * stride + e;
                SimdMath.Axpy(r, x0 + e, coef0[j], hs - e);
                SimdMath.Axpy(r, x1 + e, c1[j], hs - e);
                SimdMath.Axpy(r, x2 + e, c2[j], hs - e);
                SimdMath.Axpy(r, x3 + e, c3[j], hs - e);
            }
        }
    }
}
