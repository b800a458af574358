using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
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
    /// query exists. With AVX-512, heads of 16 take <see cref="AttentionForwardLanesJob"/> instead (queries in the
    /// lanes; CpuOps.AttentionLanes.cs).
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
        bool lanes = LanesAttention(hs);
        int splits = 1;
        if (heads < 2L * pool.ThreadCount)
        {
            splits = (int)Math.Clamp((2L * pool.ThreadCount + heads - 1) / heads, 1,
                lanes ? (t + 15) / 16 : Math.Max(1, t / 32));
        }
        fixed (float* po = output, pl = lse, pq = qkv)
        {
            var job = new AttentionForwardJob
            {
                Out = po, Lse = pl, Qkv = pq, T = t, Nh = nh, Hs = hs, Splits = splits,
                Tasks = (int)(heads * splits), Threads = pool.ThreadCount,
                Scale = (float)(1.0 / Math.Sqrt(hs)),
            };
            if (lanes)
            {
                var lj = new AttentionForwardLanesJob { Tiles = job };
                pool.Run(&lj, checked((int)(heads * splits)));
                return;
            }
            pool.Run(&job, checked((int)(heads * splits)));
        }
    }

    /// <summary>
    /// <see cref="RopeForward"/> (in place: qkv holds Q and K rotated afterwards, as the backward expects) then
    /// <see cref="AttentionForward"/>, as two passes. Rotating inside each (batch, head) task of the attention was
    /// measured slower at every batch size (2 threads, T = 82, 8 heads of 64, medians of 3 x 200 or 3 x 20 calls:
    /// B = 1 0.135 vs 0.112 ms, B = 8 0.976 vs 0.952, B = 32 4.22 vs 3.78, B = 64 8.49 vs 7.44): the row-parallel
    /// pass walks qkv in order, the per-head rotation in 256-byte pieces 6 KB apart, read and written back.
    /// </summary>
    public static void RopeAttentionForward(Span<float> output, Span<float> lse, Span<float> qkv,
        ReadOnlySpan<float> cos, ReadOnlySpan<float> sin, int batch, int t, int nh, int hs, WorkerPool pool)
    {
        CheckAttentionDims(batch, t, nh, hs);
        Check(qkv, 3L * batch * t * nh * hs, nameof(qkv));
        RopeForward(qkv, cos, sin, batch, t, nh, hs, pool);
        AttentionForward(output, lse, qkv, batch, t, nh, hs, pool);
    }

    /// <summary>
    /// dqkv (B,T,3C) = gradient of <see cref="AttentionForward"/> w.r.t. qkv, given dout (B,T,C), the forward's
    /// output and lse (probabilities are recomputed from lse). One task per (batch, head): with AVX-512, heads of 16
    /// with the queries in the lanes (<see cref="AttentionBackwardLanesJob"/>), short sequences with heads a multiple
    /// of 32 wide as five small GEMMs over the head's whole score matrix (<see cref="AttentionBackwardShortJob"/>),
    /// otherwise key tiles outermost.
    /// </summary>
    public static void AttentionBackward(Span<float> dqkv, ReadOnlySpan<float> dout, ReadOnlySpan<float> qkv,
        ReadOnlySpan<float> output, ReadOnlySpan<float> lse, int batch, int t, int nh, int hs, WorkerPool pool)
    {
        CheckAttentionBackward(dqkv, dout, qkv, output, lse, batch, t, nh, hs);
        fixed (float* pdq = dqkv, pdo = dout, pq = qkv, po = output, pl = lse)
        {
            AttentionBackwardCore(pdq, pdo, pq, po, pl, null, null, batch, t, nh, hs, pool);
        }
    }

    /// <summary>
    /// <see cref="AttentionBackward"/> then <see cref="RopeBackward"/> on dqkv, for a qkv whose Q and K are rotated
    /// (as <see cref="RopeAttentionForward"/> leaves them); bitwise the two calls. With AVX-512 and heads of 16 the
    /// rotation runs inside <see cref="AttentionBackwardLanesJob"/> on each dQ and dK row as it is written (one pass
    /// over dqkv fewer); otherwise as the second pass.
    /// </summary>
    public static void RopeAttentionBackward(Span<float> dqkv, ReadOnlySpan<float> dout, ReadOnlySpan<float> qkv,
        ReadOnlySpan<float> output, ReadOnlySpan<float> lse, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin,
        int batch, int t, int nh, int hs, WorkerPool pool)
    {
        CheckAttentionBackward(dqkv, dout, qkv, output, lse, batch, t, nh, hs);
        Check(cos, (long)t * hs, nameof(cos));
        Check(sin, (long)t * hs, nameof(sin));
        if (!LanesAttention(hs))
        {
            AttentionBackward(dqkv, dout, qkv, output, lse, batch, t, nh, hs, pool);
            RopeBackward(dqkv, cos, sin, batch, t, nh, hs, pool);
            return;
        }
        fixed (float* pdq = dqkv, pdo = dout, pq = qkv, po = output, pl = lse, pc = cos, ps = sin)
        {
            AttentionBackwardCore(pdq, pdo, pq, po, pl, pc, ps, batch, t, nh, hs, pool);
        }
    }

    private static void CheckAttentionBackward(ReadOnlySpan<float> dqkv, ReadOnlySpan<float> dout,
        ReadOnlySpan<float> qkv, ReadOnlySpan<float> output, ReadOnlySpan<float> lse, int batch, int t, int nh, int hs)
    {
        CheckAttentionDims(batch, t, nh, hs);
        long c = (long)nh * hs;
        Check(dqkv, 3L * batch * t * c, nameof(dqkv));
        Check(dout, (long)batch * t * c, nameof(dout));
        Check(qkv, 3L * batch * t * c, nameof(qkv));
        Check(output, (long)batch * t * c, nameof(output));
        Check(lse, (long)batch * nh * t, nameof(lse));
    }

    /// <summary>The backward on pinned operands of checked lengths; cos, sin (T, HS) not null: the lanes job also
    /// rotates dQ and dK back (callers pass them only where <see cref="LanesAttention"/> holds).</summary>
    private static void AttentionBackwardCore(float* pdq, float* pdo, float* pq, float* po, float* pl, float* cos,
        float* sin, int batch, int t, int nh, int hs, WorkerPool pool)
    {
        long heads = (long)batch * nh;
        if (heads == 0 || t == 0) return; // dqkv is empty
        var op = new AttentionBackwardOperands
        {
            DQkv = pdq, DOut = pdo, Qkv = pq, Out = po, Lse = pl, T = t, Nh = nh, Hs = hs,
            Scale = (float)(1.0 / Math.Sqrt(hs)), Tasks = (int)heads, Threads = pool.ThreadCount,
        };
        if (LanesAttention(hs))
        {
            var lj = new AttentionBackwardLanesJob { Op = op, Cos = cos, Sin = sin };
            pool.Run(&lj, checked((int)heads));
            return;
        }
        if (ShortAttention(t, hs))
        {
            var sj = new AttentionBackwardShortJob { Op = op };
            pool.Run(&sj, checked((int)heads));
            return;
        }
        var job = new AttentionBackwardJob { Op = op };
        pool.Run(&job, checked((int)heads));
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
        public int Tasks;
        public int Threads;
        public float Scale;

        public readonly void Execute(int index)
        {
            index = ThreadMajor(index, Tasks, Threads);
            int bh = index / Splits, split = index % Splits;
            Rows(index, bh, (int)Split(T, Splits, split), (int)Split(T, Splits, split + 1));
        }

        /// <summary>Query rows [i0, i1) of (batch, head) <paramref name="bh"/>, as task <paramref name="index"/>
        /// (thread-major: the task whose first rows it prefetches after its last tile is index + 1).</summary>
        [SkipLocalsInit]
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Rows(int index, int bh, int i0, int i1)
        {
            int b = bh / Nh, h = bh % Nh;
            int nq = i1 - i0;
            if (nq <= 0) return;
            long c = (long)Nh * Hs, stride = 3 * c;
            float* q = Qkv + (long)b * T * stride + (long)h * Hs, k = q + c, v = q + 2 * c;
            float* o = Out + (long)b * T * c + (long)h * Hs;
            float* lse = Lse + (long)bh * T;
            int w = KeyTileWidth(T, Hs, TileFloats, 2 * TileFloats);
            int need = 2 * Hs * w + 2 * nq + 4 * w + nq * Hs;
            float* buf;
            if (need + 16 <= MaxStackFloats)
            {
                float* onStack = stackalloc float[need + 16];
                buf = Align64(onStack);
            }
            else
            {
                buf = Align64(HeapScratch(need + 16));
            }
            // kt: key tile transposed (HS, w); vc: value tile contiguous (w, HS). Copies keep the hot tile in L1:
            // rows of qkv are 3C floats apart, a stride that maps them onto a few cache sets. acc (nq, HS): the
            // unnormalised outputs, private to the task (accumulating in `out` itself shared cache lines between
            // the tasks of neighbouring heads — 3x slower on 2 threads than on 1 with 16-wide heads).
            // s0..s3 (w): scores of up to four queries. m, l (nq). Vector buffers first, 64-byte aligned, so no vector
            // load splits a cache line whatever the stack's alignment.
            float* kt = buf, vc = kt + Hs * w, s0 = vc + Hs * w, s1 = s0 + w, s2 = s1 + w, s3 = s2 + w;
            float* acc = s3 + w, m = acc + nq * Hs, l = m + nq;

            for (int i = 0; i < nq; i++)
            {
                m[i] = float.NegativeInfinity;
                l[i] = 0;
            }
            new Span<float>(acc, nq * Hs).Clear();
            // o and lse rows of i0 + i (i in 0..nq): written right after their accumulation in the last key tile.
            float* oi = o + i0 * c, lsei = lse + i0;
            for (int j0 = 0; j0 < T; j0 += w)
            {
                int kn = Math.Min(w, T - j0), nv = (kn + 15) / 16;
                bool last = j0 + w >= T;
                TransposeTile(kt, 16 * nv, k + j0 * stride, stride, kn, Hs);
                CopyTile(vc, v + j0 * stride, stride, kn, Hs);
                RowPrefetch next = NextTile(index, j0 + w, w, c, stride);
                int perQuad = nq >= 4 ? (next.Total + nq / 4 - 1) / (nq / 4) : next.Total;
                int i = 0;
                // Four queries per pass (each key-tile load feeds 16 FMAs), then a pair, then the odd one; a
                // query's arithmetic is the same in every slot.
                for (; i + 3 < nq; i += 4)
                {
                    float* qr = q + (i0 + i) * stride;
                    next.Issue(perQuad);
                    if (i + 12 <= nq)
                    {
                        PrefetchRow(qr + 8 * stride, 4, stride, Hs);
                        // The output rows WriteRows will store two quads on (C floats apart: misses otherwise).
                        // `profile-train`, six alternating pairs: 2.31-2.61 vs 2.34-3.39 ms per call.
                        if (last) PrefetchRow(oi + (i + 8) * c, 4, c, Hs);
                    }
                    Scores4(qr, stride, kt, nv, Hs, Scale, s0, w);
                    float a0 = SoftmaxTile(s0, kn, nv, m + i, l + i);
                    float a1 = SoftmaxTile(s1, kn, nv, m + i + 1, l + i + 1);
                    float a2 = SoftmaxTile(s2, kn, nv, m + i + 2, l + i + 2);
                    float a3 = SoftmaxTile(s3, kn, nv, m + i + 3, l + i + 3);
                    AccumulateRows4(acc + i * Hs, Hs, a0, a1, a2, a3, s0, w, kn, vc, Hs);
                    if (last) WriteRows(oi, c, acc, Hs, m, l, lsei, i, 4);
                }
                for (; i + 1 < nq; i += 2)
                {
                    long r = i0 + i;
                    Scores2(q + r * stride, q + (r + 1) * stride, kt, nv, Hs, Scale, s0, s1);
                    float a0 = SoftmaxTile(s0, kn, nv, m + i, l + i);
                    float a1 = SoftmaxTile(s1, kn, nv, m + i + 1, l + i + 1);
                    AccumulateRows2(acc + i * Hs, acc + (i + 1) * Hs, a0, a1, s0, s1, kn, vc, Hs, Hs);
                    if (last) WriteRows(oi, c, acc, Hs, m, l, lsei, i, 2);
                }
                if (i < nq)
                {
                    // The odd query: the two-query kernel with the query twice (same arithmetic), s1 discarded.
                    float* qr = q + (i0 + i) * stride;
                    Scores2(qr, qr, kt, nv, Hs, Scale, s0, s1);
                    float a0 = SoftmaxTile(s0, kn, nv, m + i, l + i);
                    AccumulateRows(acc + i * Hs, a0, s0, kn, vc, Hs, Hs);
                    if (last) WriteRows(oi, c, acc, Hs, m, l, lsei, i, 1);
                }
            }
        }

        /// <summary>
        /// Output rows i..i+count (o rows c floats apart) = acc / l, and lse = m + log l. Called per query group as soon
        /// as the last key tile has been accumulated, so the stores (cache-line misses: o rows are C floats apart)
        /// overlap the next group's arithmetic. T = 82, B = 32, 2 threads, 3 alternating
        /// runs: 2.80-3.00 ms against 2.98-3.03 with one pass over all rows at the end (leaving out the stores
        /// altogether gave 2.40: they are a fifth of the forward; streaming stores were no faster).
        /// </summary>
        private static void WriteRows(float* o, long c, float* acc, int hs, float* m, float* l, float* lse, int i,
            int count)
        {
            for (int u = i; u < i + count; u++)
            {
                SimdMath.Scale(o + u * c, acc + u * hs, 1f / l[u], hs);
                lse[u] = m[u] + MathF.Log(l[u]);
            }
        }

        /// <summary>
        /// What the tile after this one reads from qkv: the keys and values [j1, j1 + w) of this task, or, after its
        /// last tile, the first key tile and first queries of this thread's next task (see <see cref="ThreadMajor"/>). qkv rows are
        /// 3C floats apart, a stride the hardware prefetchers do not follow, so each tile's first touches would
        /// otherwise wait on memory (about a fifth of the forward at T = 82, measured with inputs out of cache).
        /// </summary>
        private readonly RowPrefetch NextTile(int index, int j1, int w, long c, long stride)
        {
            int b, h, q0 = 0, qn = 0;
            if (j1 < T)
            {
                b = index / Splits / Nh;
                h = index / Splits % Nh;
            }
            else
            {
                int next = index + 1;
                if (next >= Tasks || (Tasks % Threads == 0 && next % (Tasks / Threads) == 0)) return default;
                int bh = next / Splits, split = next % Splits;
                b = bh / Nh;
                h = bh % Nh;
                j1 = 0;
                q0 = (int)Split(T, Splits, split);
                qn = Math.Min((int)Split(T, Splits, split + 1) - q0, 12);
            }
            float* qb = Qkv + (long)b * T * stride + (long)h * Hs;
            return new RowPrefetch(qb, c, stride, Hs, j1, Math.Min(w, T - j1), q0, qn);
        }

        /// <summary>
        /// One key tile of the online softmax for one query: s holds nv·16 scaled scores (kn valid) and becomes
        /// exp(s − m_new) (0 past kn); the running max m and sum l are updated. Returns the factor
        /// exp(m_old − m_new) by which the query's output accumulated so far must be rescaled.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static float SoftmaxTile(float* s, int kn, int nv, float* m, float* l)
        {
            if (Group16.Use256) return SoftmaxTileNarrow<Group256>(s, kn, nv, m, l);
            if (Group16.Use128) return SoftmaxTileNarrow<Group128>(s, kn, nv, m, l);
            // Lanes past kn become −inf with a vector select: scalar stores into a vector just written and read back
            // at once defeat store forwarding (about a sixth of the forward's time at T = 82).
            float* last = s + 16 * (nv - 1);
            Vector512<float> valid =
                Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(kn - 16 * (nv - 1))).AsSingle();
            Vector512.ConditionalSelect(valid, Vector512.Load(last), Vector512.Create(float.NegativeInfinity))
                .Store(last);
            Vector512<float> max = Vector512.Load(s), max1 = Vector512.Create(float.NegativeInfinity);
            int w = 1;
            for (; w + 1 < nv; w += 2)
            {
                max = Vector512.MaxNative(max, Vector512.Load(s + 16 * w));
                max1 = Vector512.MaxNative(max1, Vector512.Load(s + 16 * w + 16));
            }
            if (w < nv) max = Vector512.MaxNative(max, Vector512.Load(s + 16 * w));
            float tileMax = HorizontalMax(Vector512.MaxNative(max, max1));
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
}
