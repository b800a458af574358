using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Hrm.Runtime.Threading;
using static Hrm.Runtime.Backends.Cpu.CpuOpsSupport;

namespace Hrm.Runtime.Backends.Cpu;

public static unsafe partial class CpuOps
{
    // Keys are processed in tiles of whole 16-key vectors, each transposed to (HS, W) so the W scores of one query
    // are W/16 vectors of FMAs: full tiles of as many vectors as a per-tile budget of floats allows (at least 4,
    // at most 16), then one ragged tile of the vectors left. T = 82 with 16-wide heads is one tile of 6 vectors
    // (96 lanes, where fixed 64-key tiles computed 128), with 64-wide heads one tile of 96 keys in the forward and
    // tiles of 64 + 32 in the backward. Fewer tiles also means fewer online-softmax rescales (forward) and fewer
    // passes over all queries (backward).
    private const int MaxKeyVectors = 16;          // at most 256 keys per tile
    private const int MinKeyVectors = 4;           // 64 keys per tile even past the budget (large heads)
    // One (HS, W) tile: 16 KB (forward kt + vc, backward 5 such tiles, stay in L1/L2). Measured on the 2-core
    // machine: 8192 or 16384 were no faster for T = 82 and slower for T = 901 (64-wide heads). The forward takes a
    // whole sequence of up to 32 KB per tile in one (T = 82 with 64-wide heads: 96 keys, 8% faster than 64 + 32);
    // the backward did not gain from that (12% slower at batch 1) and keeps the 16 KB tiles.
    private const int TileFloats = 4096;

    /// <summary>Keys per full tile (a multiple of 16) when one (HS, W) tile may hold <paramref name="budget"/>
    /// floats (<paramref name="wholeBudget"/> when the tile is the whole sequence), capped at the padded key count.
    /// </summary>
    private static int KeyTileWidth(int t, int hs, int budget, int wholeBudget)
    {
        int vectors = Math.Max(1, (t + 15) / 16);
        // A sequence whose (HS, W) tile fits wholeBudget is one tile: no online rescaling at all.
        if ((long)vectors * 16 * hs <= wholeBudget && vectors <= MaxKeyVectors) return 16 * vectors;
        int perTile = Math.Clamp(budget / (16 * Math.Max(hs, 1)), MinKeyVectors, MaxKeyVectors);
        return 16 * Math.Min(perTile, vectors);
    }

    /// <summary>
    /// Non-causal softmax attention, scale 1/sqrt(HS). qkv (B,T,3C) = [Q|K|V] per row, heads of HS contiguous.
    /// out (B,T,C); lse (B,NH,T) = log Σ_j exp(s_ij) kept for the backward. Flash-style: per (batch, head, query
    /// range) task, key tiles (<see cref="KeyTileWidth"/>) with an online softmax; no more than one tile of scores per
    /// query exists.
    /// </summary>
    public static void AttentionForward(Span<float> output, Span<float> lse, ReadOnlySpan<float> qkv,
        int batch, int t, int nh, int hs, WorkerPool pool)
    {
        CheckAttentionDims(batch, t, nh, hs);
        long c = (long)nh * hs;
        Check(output, (long)batch * t * c, nameof(output));
        Check(lse, (long)batch * nh * t, nameof(lse));
        Check(qkv, 3L * batch * t * c, nameof(qkv));
        long heads = (long)batch * nh;
        if (heads == 0 || t == 0) return;
        // Split query rows when there are too few (batch, head) pairs to occupy the threads; results per row
        // do not depend on the split.
        int splits = 1;
        if (heads < 2L * pool.ThreadCount)
            splits = (int)Math.Clamp((2L * pool.ThreadCount + heads - 1) / heads, 1, Math.Max(1, t / 32));
        fixed (float* po = output, pl = lse, pq = qkv)
        {
            var job = new AttentionForwardJob
            {
                Out = po, Lse = pl, Qkv = pq, T = t, Nh = nh, Hs = hs, Splits = splits,
                Scale = (float)(1.0 / Math.Sqrt(hs)),
            };
            pool.Run(&job, checked((int)(heads * splits)));
        }
    }

    /// <summary>
    /// dqkv (B,T,3C) = gradient of <see cref="AttentionForward"/> w.r.t. qkv, given dout (B,T,C), the forward's
    /// output and lse (probabilities are recomputed from lse). One task per (batch, head), key tiles outermost.
    /// </summary>
    public static void AttentionBackward(Span<float> dqkv, ReadOnlySpan<float> dout, ReadOnlySpan<float> qkv,
        ReadOnlySpan<float> output, ReadOnlySpan<float> lse, int batch, int t, int nh, int hs, WorkerPool pool)
    {
        CheckAttentionDims(batch, t, nh, hs);
        long c = (long)nh * hs;
        Check(dqkv, 3L * batch * t * c, nameof(dqkv));
        Check(dout, (long)batch * t * c, nameof(dout));
        Check(qkv, 3L * batch * t * c, nameof(qkv));
        Check(output, (long)batch * t * c, nameof(output));
        Check(lse, (long)batch * nh * t, nameof(lse));
        long heads = (long)batch * nh;
        if (heads == 0 || t == 0)
        {
            dqkv.Clear();
            return;
        }
        fixed (float* pdq = dqkv, pdo = dout, pq = qkv, po = output, pl = lse)
        {
            var job = new AttentionBackwardJob
            {
                DQkv = pdq, DOut = pdo, Qkv = pq, Out = po, Lse = pl, T = t, Nh = nh, Hs = hs,
                Scale = (float)(1.0 / Math.Sqrt(hs)),
            };
            pool.Run(&job, checked((int)heads));
        }
    }

    private static void CheckAttentionDims(int batch, int t, int nh, int hs)
    {
        NonNegative(batch);
        NonNegative(t);
        NonNegative(nh);
        NonNegative(hs);
    }

    private struct AttentionForwardJob : IParallelJob
    {
        public float* Out;
        public float* Lse;
        public float* Qkv;
        public int T;
        public int Nh;
        public int Hs;
        public int Splits;
        public float Scale;

        [SkipLocalsInit]
        public readonly void Execute(int index)
        {
            int bh = index / Splits, split = index % Splits;
            int b = bh / Nh, h = bh % Nh;
            int i0 = (int)Split(T, Splits, split), i1 = (int)Split(T, Splits, split + 1);
            int nq = i1 - i0;
            if (nq <= 0) return;
            long c = (long)Nh * Hs, stride = 3 * c;
            float* q = Qkv + (long)b * T * stride + (long)h * Hs, k = q + c, v = q + 2 * c;
            float* o = Out + (long)b * T * c + (long)h * Hs;
            float* lse = Lse + (long)bh * T;

            int w = KeyTileWidth(T, Hs, TileFloats, 2 * TileFloats);
            int need = 2 * Hs * w + 2 * nq + 2 * w + nq * Hs;
            float* buf;
            if (need <= MaxStackFloats)
            {
                float* onStack = stackalloc float[need];
                buf = onStack;
            }
            else
            {
                buf = HeapScratch(need);
            }
            // kt: key tile transposed (HS, w); vc: value tile contiguous (w, HS). Copies keep the hot tile in L1:
            // rows of qkv are 3C floats apart, a stride that maps them onto a few cache sets. acc (nq, HS): the
            // unnormalised outputs, private to the task (accumulating in `out` itself shared cache lines between
            // the tasks of neighbouring heads — 3x slower on 2 threads than on 1 with 16-wide heads). s0, s1 (w).
            float* kt = buf, vc = kt + Hs * w, m = vc + Hs * w, l = m + nq, s0 = l + nq, s1 = s0 + w;
            float* acc = s1 + w;

            for (int i = 0; i < nq; i++)
            {
                m[i] = float.NegativeInfinity;
                l[i] = 0;
            }
            new Span<float>(acc, nq * Hs).Clear();
            for (int j0 = 0; j0 < T; j0 += w)
            {
                int kn = Math.Min(w, T - j0), nv = (kn + 15) / 16;
                TransposeTile(kt, 16 * nv, k + j0 * stride, stride, kn, Hs);
                CopyTile(vc, v + j0 * stride, stride, kn, Hs);
                int i = 0;
                for (; i + 1 < nq; i += 2)
                {
                    long r = i0 + i;
                    Scores2(q + r * stride, q + (r + 1) * stride, kt, nv, Hs, Scale, s0, s1);
                    float a0 = SoftmaxTile(s0, kn, nv, m + i, l + i);
                    float a1 = SoftmaxTile(s1, kn, nv, m + i + 1, l + i + 1);
                    AccumulateRows2(acc + i * Hs, acc + (i + 1) * Hs, a0, a1, s0, s1, kn, vc, Hs, Hs);
                }
                if (i < nq)
                {
                    // The odd query: the two-query kernel with the query twice (same arithmetic), s1 discarded.
                    float* qr = q + (i0 + i) * stride;
                    Scores2(qr, qr, kt, nv, Hs, Scale, s0, s1);
                    float a0 = SoftmaxTile(s0, kn, nv, m + i, l + i);
                    AccumulateRows(acc + i * Hs, a0, s0, kn, vc, Hs, Hs);
                }
            }
            for (int i = 0; i < nq; i++)
            {
                SimdMath.Scale(o + (i0 + i) * c, acc + i * Hs, 1f / l[i], Hs);
                lse[i0 + i] = m[i] + MathF.Log(l[i]);
            }
        }

        /// <summary>
        /// One key tile of the online softmax for one query: s holds nv·16 scaled scores (kn valid) and becomes
        /// exp(s − m_new) (0 past kn); the running max m and sum l are updated. Returns the factor
        /// exp(m_old − m_new) by which the query's output accumulated so far must be rescaled.
        /// </summary>
        private static float SoftmaxTile(float* s, int kn, int nv, float* m, float* l)
        {
            for (int j = kn; j < 16 * nv; j++) s[j] = float.NegativeInfinity;
            Vector512<float> max = Vector512.Load(s);
            for (int v = 1; v < nv; v++) max = Vector512.MaxNative(max, Vector512.Load(s + 16 * v));
            float tileMax = HorizontalMax(max);
            float mOld = *m, mNew = MathF.Max(mOld, tileMax);
            var mv = Vector512.Create(mNew);
            Vector512<float> sum0 = Vector512<float>.Zero, sum1 = Vector512<float>.Zero;
            int u = 0;
            for (; u + 1 < nv; u += 2)
            {
                Vector512<float> e0 = SimdMath.Exp(Vector512.Load(s + 16 * u) - mv);
                Vector512<float> e1 = SimdMath.Exp(Vector512.Load(s + 16 * u + 16) - mv);
                e0.Store(s + 16 * u);
                e1.Store(s + 16 * u + 16);
                sum0 += e0;
                sum1 += e1;
            }
            if (u < nv)
            {
                Vector512<float> e0 = SimdMath.Exp(Vector512.Load(s + 16 * u) - mv);
                e0.Store(s + 16 * u);
                sum0 += e0;
            }
            float alpha = mOld == mNew ? 1f : SimdMath.Exp(mOld - mNew);
            *l = *l * alpha + Vector512.Sum(sum0 + sum1);
            *m = mNew;
            return alpha;
        }
    }

    private struct AttentionBackwardJob : IParallelJob
    {
        public float* DQkv;
        public float* DOut;
        public float* Qkv;
        public float* Out;
        public float* Lse;
        public int T;
        public int Nh;
        public int Hs;
        public float Scale;

        [SkipLocalsInit]
        public readonly void Execute(int index)
        {
            int b = index / Nh, h = index % Nh;
            long c = (long)Nh * Hs, stride = 3 * c;
            long qOff = (long)b * T * stride + (long)h * Hs, oOff = (long)b * T * c + (long)h * Hs;
            float* q = Qkv + qOff, k = q + c, v = q + 2 * c;
            float* dq = DQkv + qOff, dk = dq + c, dv = dq + 2 * c;
            float* dO = DOut + oOff, o = Out + oOff;
            float* lse = Lse + (long)index * T;

            int w = KeyTileWidth(T, Hs, TileFloats, TileFloats);
            int need = 5 * Hs * w + T + 4 * w;
            float* buf;
            if (need <= MaxStackFloats)
            {
                float* onStack = stackalloc float[need];
                buf = onStack;
            }
            else
            {
                buf = HeapScratch(need);
            }
            // Per key tile: K and V transposed (HS, w) for the scores, K contiguous (w, HS) for dQ, and contiguous
            // dK, dV accumulators (w, HS) written to dqkv once the tile is done (qkv rows are 3C floats apart).
            // dd (T); p0, p1, ds0, ds1 (w).
            int tileFloats = Hs * w;
            float* kt = buf, vt = kt + tileFloats, kc = vt + tileFloats, dkc = kc + tileFloats, dvc = dkc + tileFloats;
            float* dd = dvc + tileFloats, p0 = dd + T, p1 = p0 + w, ds0 = p1 + w, ds1 = ds0 + w;

            for (int i = 0; i < T; i++)
            {
                new Span<float>(dq + i * stride, Hs).Clear();
                dd[i] = SimdMath.Dot(dO + i * c, o + i * c, Hs); // D_i = dO_i · O_i
            }
            for (int j0 = 0; j0 < T; j0 += w)
            {
                int kn = Math.Min(w, T - j0), nv = (kn + 15) / 16;
                TransposeTile(kt, 16 * nv, k + j0 * stride, stride, kn, Hs);
                TransposeTile(vt, 16 * nv, v + j0 * stride, stride, kn, Hs);
                CopyTile(kc, k + j0 * stride, stride, kn, Hs);
                new Span<float>(dkc, kn * Hs).Clear();
                new Span<float>(dvc, kn * Hs).Clear();
                int i = 0;
                for (; i + 1 < T; i += 2)
                {
                    float* qa = q + i * stride, qb = qa + stride, dOa = dO + i * c, dOb = dOa + c;
                    // s → p0/p1 and dP → ds0/ds1, then p = exp(s − lse), dS = p·(dP − D)·scale in place.
                    Scores2(qa, qb, kt, nv, Hs, Scale, p0, p1);
                    Scores2(dOa, dOb, vt, nv, Hs, 1f, ds0, ds1);
                    ProbabilitiesAndScoreGrads(p0, ds0, nv, lse[i], dd[i], Scale);
                    ProbabilitiesAndScoreGrads(p1, ds1, nv, lse[i + 1], dd[i + 1], Scale);
                    float* dqa = dq + i * stride;
                    AccumulateRows2(dqa, dqa + stride, 1f, 1f, ds0, ds1, kn, kc, Hs, Hs);
                    RankUpdate2(dkc, Hs, kn, ds0, ds1, qa, qb, Hs);
                    RankUpdate2(dvc, Hs, kn, p0, p1, dOa, dOb, Hs);
                }
                if (i < T)
                {
                    // The odd query: the two-query score kernel with the query twice (same arithmetic).
                    float* qa = q + i * stride, dOa = dO + i * c;
                    Scores2(qa, qa, kt, nv, Hs, Scale, p0, p1);
                    Scores2(dOa, dOa, vt, nv, Hs, 1f, ds0, ds1);
                    ProbabilitiesAndScoreGrads(p0, ds0, nv, lse[i], dd[i], Scale);
                    AccumulateRows(dq + i * stride, 1f, ds0, kn, kc, Hs, Hs);
                    for (int j = 0; j < kn; j++)
                    {
                        SimdMath.Axpy(dkc + j * Hs, qa, ds0[j], Hs);
                        SimdMath.Axpy(dvc + j * Hs, dOa, p0[j], Hs);
                    }
                }
                nuint rowBytes = (nuint)Hs * sizeof(float);
                for (int j = 0; j < kn; j++)
                {
                    Buffer.MemoryCopy(dkc + j * Hs, dk + (j0 + j) * stride, rowBytes, rowBytes);
                    Buffer.MemoryCopy(dvc + j * Hs, dv + (j0 + j) * stride, rowBytes, rowBytes);
                }
            }
        }

        /// <summary>s (nv·16 scaled scores) becomes p = exp(s − lse); dp (nv·16) becomes dS = p·(dp − D)·scale.
        /// Lanes past the tile's keys hold finite garbage; the callers never read them.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void ProbabilitiesAndScoreGrads(float* s, float* dp, int nv, float lse, float d, float scale)
        {
            var lv = Vector512.Create(lse);
            var dv = Vector512.Create(d);
            var sc = Vector512.Create(scale);
            for (int j = 0; j < 16 * nv; j += 16)
            {
                Vector512<float> p = SimdMath.Exp(Vector512.Load(s + j) - lv);
                p.Store(s + j);
                (p * (Vector512.Load(dp + j) - dv) * sc).Store(dp + j);
            }
        }
    }

    /// <summary>
    /// dst (HS, ld) = the first kn rows (of HS floats, stride apart) transposed; columns kn..ld are zero.
    /// </summary>
    private static void TransposeTile(float* dst, int ld, float* rows, long stride, int kn, int hs)
    {
        int j0 = 0;
        if (Avx512F.IsSupported && hs % 16 == 0)
        {
            // Whole 16-key blocks as 16x16 register transposes (the scalar loop cost a sixth of a batch-1 forward).
            for (; j0 + 16 <= kn; j0 += 16)
            {
                for (int e = 0; e < hs; e += 16)
                    GemmKernels.Transpose16x16(rows + j0 * stride + e, (nint)stride, dst + e * ld + j0, ld);
            }
        }
        for (int j = j0; j < kn; j++)
        {
            float* r = rows + j * stride;
            for (int e = 0; e < hs; e++) dst[e * ld + j] = r[e];
        }
        if (kn < ld)
        {
            for (int e = 0; e < hs; e++) new Span<float>(dst + e * ld + kn, ld - kn).Clear();
        }
    }

    /// <summary>dst (kn, HS) = the first kn rows (of HS floats, stride apart), contiguous.</summary>
    private static void CopyTile(float* dst, float* rows, long stride, int kn, int hs)
    {
        nuint bytes = (nuint)hs * sizeof(float);
        for (int j = 0; j < kn; j++) Buffer.MemoryCopy(rows + j * stride, dst + j * hs, bytes, bytes);
    }

    /// <summary>
    /// s0, s1 (nv·16) = scale · q · ktᵀ for two queries against a transposed key tile kt (HS, nv·16): groups of four
    /// vectors (eight FMA chains), then two, then one. Each score is the same in-order sum over e whichever group
    /// computes it, and the same for either query slot.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Scores2(float* q0, float* q1, float* kt, int nv, int hs, float scale, float* s0, float* s1)
    {
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
    /// acc[0..hs) = alpha·acc + Σ_{j&lt;n} coef[j] · rows[j·stride + 0..hs): j in order for 64-column blocks, in four
    /// interleaved chains for 16-column blocks (FMA latency), in order for the rest.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
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
                // Four chains over j (j mod 4) so the FMA latency is hidden when HS is small; summed at the end.
                Vector512<float> a0 = av * Vector512.Load(acc + e), a1 = default, a2 = default, a3 = default;
                float* r = rows + e;
                int j = 0;
                for (; j + 3 < n; j += 4, r += 4 * stride)
                {
                    a0 = Vector512.FusedMultiplyAdd(Vector512.Create(coef[j]), Vector512.Load(r), a0);
                    a1 = Vector512.FusedMultiplyAdd(Vector512.Create(coef[j + 1]), Vector512.Load(r + stride), a1);
                    a2 = Vector512.FusedMultiplyAdd(Vector512.Create(coef[j + 2]), Vector512.Load(r + 2 * stride), a2);
                    a3 = Vector512.FusedMultiplyAdd(Vector512.Create(coef[j + 3]), Vector512.Load(r + 3 * stride), a3);
                }
                for (; j < n; j++, r += stride)
                    a0 = Vector512.FusedMultiplyAdd(Vector512.Create(coef[j]), Vector512.Load(r), a0);
                ((a0 + a1) + (a2 + a3)).Store(acc + e);
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
        for (; e < hs; e++)
        {
            float a = alpha * acc[e];
            float* r = rows + e;
            for (int j = 0; j < n; j++, r += stride) a = MathF.FusedMultiplyAdd(coef[j], *r, a);
            acc[e] = a;
        }
    }

    /// <summary>
    /// <see cref="AccumulateRows"/> for two accumulators sharing the rows (each row loaded once); per accumulator the
    /// arithmetic is exactly that of the one-row version for 64-column blocks (smaller heads sum j in two chains).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AccumulateRows2(float* acc0, float* acc1, float alpha0, float alpha1, float* coef0,
        float* coef1, int n, float* rows, long stride, int hs)
    {
        int e = 0;
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
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RankUpdate2(float* rows, long stride, int n, float* coef0, float* coef1, float* x0,
        float* x1, int hs)
    {
        int e = 0;
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
