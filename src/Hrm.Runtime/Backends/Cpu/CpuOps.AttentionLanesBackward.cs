using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Hrm.Runtime.Threading;
using static Hrm.Runtime.Backends.Cpu.CpuOpsSupport;

namespace Hrm.Runtime.Backends.Cpu;

// The attention backward of 16-wide heads (the quickstart's) on 512-bit vectors with the queries in the lanes, as the
// forward (CpuOps.AttentionLanes.cs): per block of 16 queries, a key's 16 scores S = Q·kᵀ and 16 dP = dO·vᵀ are 16 FMAs
// each with the key's dims broadcast; P = exp(S·scale − lse) and dS = P·(dP − D)·scale lane-wise; dQ (16 accumulators,
// one per dimension) += dS ⊗ k; dK_j += Σ_i dS_ji Q_i and dV_j += Σ_i P_ji dO_i with the block's rows in registers and
// the weights broadcast. No horizontal reductions and no transposes per key; five passes of 16 FMAs per key and block.
public static unsafe partial class CpuOps
{
    /// <summary>
    /// One task per (batch, head), its query blocks in order: dQ rows are written once, dK and dV rows are summed over
    /// the blocks in order in the task's scratch, so results do not depend on the thread count. A ragged last block of
    /// more than <see cref="LaneTailMax"/> queries computes its missing lanes on zero rows with P = 0, which adds
    /// nothing; a shorter one (T = 82: 2 queries) takes its queries one at a time with the keys in the lanes instead
    /// (<see cref="TailQuery"/>): 2·W + 3·T FMAs of 16 lanes a query against a block's 80·T (T = 82: 438 against
    /// 6,560).
    /// </summary>
    private struct AttentionBackwardLanesJob : IParallelJob
    {
        public AttentionBackwardOperands Op;

        /// <summary>(T, 16) RoPE tables, or null: when set, each dQ and dK row is rotated back (<see
        /// cref="RopeRotate"/>, sign −1, bitwise <see cref="RopeBackward"/>) as it is written.</summary>
        public float* Cos, Sin;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int index)
        {
            index = Op.Head(index, out long qOff, out long oOff);
            int t = Op.T, w = (t + 15) / 16 * 16, full = t % 16 > LaneTailMax ? t : t / 16 * 16;
            long c = (long)Op.Nh * 16, stride = 3 * c;
            float* q = Op.Qkv + qOff, k = q + c, v = q + 2 * c, dq = Op.DQkv + qOff, dk = dq + c, dv = dq + 2 * c;
            float* dO = Op.DOut + oOff, o = Op.Out + oOff, lse = Op.Lse + (long)index * t;
            // p, ds (T, 16): a block's P and dS, a vector per key (lane = query), or a tail query's (W), keys in the
            // lanes; dkc, dvc (T, 16): the head's dK and dV, summed here (contiguous and cache-line aligned: another
            // thread's head shares the dqkv rows' lines) and copied out at the end; qr, dor (16, 16): a block's Q and
            // dO rows, zero past n; qt, dot (16, 16): the same transposed (row = dimension); tile (16, 16): scratch;
            // stats (16): lse per lane; kt, vt (16, W): Kᵀ and Vᵀ, zero past T (a tail's only).
            float* p = Align64(HeapScratch(64 * t + 32 * w + 5 * 256 + 16 + 16));
            float* ds = p + 16 * t, dkc = ds + 16 * t, dvc = dkc + 16 * t, qr = dvc + 16 * t, dor = qr + 256;
            float* qt = dor + 256, dot = qt + 256, tile = dot + 256, stats = tile + 256, kt = stats + 16;
            float* vt = kt + 16 * w;
            new Span<float>(dkc, 32 * t).Clear();
            for (int i0 = 0; i0 < full; i0 += 16)
            {
                int n = Math.Min(16, t - i0);
                LoadRows(qr, q + i0 * stride, stride, n);
                LoadRows(dor, dO + i0 * c, c, n);
                LoadRows(tile, o + i0 * c, c, n);
                GemmKernels.Transpose16x16(qr, 16, qt, 16);
                GemmKernels.Transpose16x16(dor, 16, dot, 16);
                GemmKernels.Transpose16x16(tile, 16, tile, 16); // in place: it loads every row before it stores
                for (int i = 0; i < 16; i++) stats[i] = i < n ? lse[i0 + i] : 0f;
                LaneDots(qt, k, stride, t, p);
                LaneDots(dot, v, stride, t, ds);
                ProbabilitiesAndScoreGrads(p, ds, t, n, Op.Scale, Vector512.Load(stats), RowDots(dot, tile));
                QueryGrads(tile, ds, k, stride, t);
                StoreRows(dq + i0 * stride, stride, tile, qt, n);
                for (int i = 0; i < n; i++) Unrotate(dq + (i0 + i) * stride, i0 + i);
                KeyGrads(dkc, ds, qr, t);
                KeyGrads(dvc, p, dor, t);
            }
            if (full < t)
            {
                TransposeKeys(kt, w, k, stride, t, tile);
                TransposeKeys(vt, w, v, stride, t, tile);
            }
            for (int i = full; i < t; i++)
            {
                TailQuery(dq + i * stride, dkc, dvc, q + i * stride, dO + i * c, o + i * c, lse[i], k, stride, kt, vt,
                    t, Op.Scale, p, ds);
                Unrotate(dq + i * stride, i);
            }
            for (int j = 0; j < t; j++)
            {
                Vector512.Load(dkc + 16 * j).Store(dk + j * stride);
                Vector512.Load(dvc + 16 * j).Store(dv + j * stride);
                Unrotate(dk + j * stride, j);
            }
        }

        /// <summary>The transpose of RoPE on one 16-float row of position pos, in place (nothing without tables).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly void Unrotate(float* row, int pos)
        {
            if (Cos != null) RopeRotate(row, Cos + pos * 16, Sin + pos * 16, 8, -1f);
        }

        /// <summary>dst (16, W) = the t rows (16 floats, stride apart) transposed, zero past t; tile (16, 16) scratch.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void TransposeKeys(float* dst, int w, float* rows, long stride, int t, float* tile)
        {
            for (int j0 = 0; j0 < t; j0 += 16)
            {
                if (t - j0 >= 16)
                {
                    GemmKernels.Transpose16x16(rows + j0 * stride, (nint)stride, dst + j0, w);
                    continue;
                }
                LoadRows(tile, rows + j0 * stride, stride, t - j0);
                GemmKernels.Transpose16x16(tile, 16, dst + j0, w);
            }
        }

        /// <summary>
        /// One query (q, dO, O: its rows; lse its log-sum) with the keys in the lanes: s and dP over the key vectors
        /// of kt, vt (16, W), P and dS into p, ds (W, zero past t); then over the t keys in order, dq = Σ_j dS_j k_j
        /// (two chains, even and odd keys, added), dK_j += dS_j q and dV_j += P_j dO in dkc, dvc (t, 16).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void TailQuery(float* dq, float* dkc, float* dvc, float* q, float* dO, float* o, float lse,
            float* k, long stride, float* kt, float* vt, int t, float scale, float* p, float* ds)
        {
            int w = (t + 15) / 16 * 16;
            Vector512<float> qv = Vector512.Load(q), dov = Vector512.Load(dO), sc = Vector512.Create(scale);
            var d = Vector512.Create(Vector512.Sum(dov * Vector512.Load(o)));
            var lv = Vector512.Create(lse);
            for (int j0 = 0; j0 < w; j0 += 16)
            {
                Vector512<float> s = Vector512.Create(q[0]) * Vector512.Load(kt + j0);
                Vector512<float> dp = Vector512.Create(dO[0]) * Vector512.Load(vt + j0);
                for (int e = 1; e < 16; e++)
                {
                    s = Vector512.FusedMultiplyAdd(Vector512.Create(q[e]), Vector512.Load(kt + e * w + j0), s);
                    dp = Vector512.FusedMultiplyAdd(Vector512.Create(dO[e]), Vector512.Load(vt + e * w + j0), dp);
                }
                Vector512<float> live = Vector512.LessThan(Vector512<int>.Indices + Vector512.Create(j0),
                    Vector512.Create(t)).AsSingle();
                Vector512<float> pv = ExpNonPositive(s * sc - lv) & live;
                pv.Store(p + j0);
                (pv * (dp - d) * sc).Store(ds + j0);
            }
            Vector512<float> a0 = default, a1 = default;
            for (int j = 0; j < t; j++)
            {
                var g = Vector512.Create(ds[j]);
                if ((j & 1) == 0) a0 = Vector512.FusedMultiplyAdd(g, Vector512.Load(k + j * stride), a0);
                else a1 = Vector512.FusedMultiplyAdd(g, Vector512.Load(k + j * stride), a1);
                Vector512.FusedMultiplyAdd(g, qv, Vector512.Load(dkc + 16 * j)).Store(dkc + 16 * j);
                var pj = Vector512.Create(p[j]);
                Vector512.FusedMultiplyAdd(pj, dov, Vector512.Load(dvc + 16 * j)).Store(dvc + 16 * j);
            }
            (a0 + a1).Store(dq);
        }

        /// <summary>The n rows at dst (stride apart) = src (16, 16: row d = dimension d of the 16 queries)
        /// transposed; scratch (16, 16) for a ragged block.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void StoreRows(float* dst, long stride, float* src, float* scratch, int n)
        {
            if (n == 16)
            {
                GemmKernels.Transpose16x16(src, 16, dst, (nint)stride);
                return;
            }
            GemmKernels.Transpose16x16(src, 16, scratch, 16);
            for (int i = 0; i < n; i++) Vector512.Load(scratch + 16 * i).Store(dst + i * stride);
        }

        /// <summary>D per lane: Σ_d a[d] · b[d] over the 16 rows of two transposed (16, 16) tiles, in d order.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static Vector512<float> RowDots(float* a, float* b)
        {
            Vector512<float> d = Vector512.Load(a) * Vector512.Load(b);
            for (int r = 16; r < 256; r += 16)
                d = Vector512.FusedMultiplyAdd(Vector512.Load(a + r), Vector512.Load(b + r), d);
            return d;
        }

        /// <summary>
        /// In place over the t keys: s_j becomes P = exp(s_j·scale − lse) (0 in lanes past n), dp_j becomes
        /// dS = P·(dp_j − D)·scale.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void ProbabilitiesAndScoreGrads(float* s, float* dp, int t, int n, float scale,
            Vector512<float> lse, Vector512<float> d)
        {
            var sc = Vector512.Create(scale);
            Vector512<float> live = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(n)).AsSingle();
            for (int j = 0; j < 16 * t; j += 16)
            {
                Vector512<float> p = ExpNonPositive(Vector512.Load(s + j) * sc - lse) & live;
                p.Store(s + j);
                (p * (Vector512.Load(dp + j) - d) * sc).Store(dp + j);
            }
        }

        /// <summary>out (16, 16), row d = dimension d of the block's dQ: Σ_j ds_j · k_j[d] over the t keys in order.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void QueryGrads(float* output, float* ds, float* k, long stride, int t)
        {
            Vector512<float> o0 = default, o1 = default, o2 = default, o3 = default, o4 = default, o5 = default;
            Vector512<float> o6 = default, o7 = default, o8 = default, o9 = default, o10 = default, o11 = default;
            Vector512<float> o12 = default, o13 = default, o14 = default, o15 = default;
            float* kr = k;
            for (int j = 0; j < t; j++, kr += stride)
            {
                Vector512<float> g = Vector512.Load(ds + 16 * j);
                o0 = Vector512.FusedMultiplyAdd(g, Vector512.Create(kr[0]), o0);
                o1 = Vector512.FusedMultiplyAdd(g, Vector512.Create(kr[1]), o1);
                o2 = Vector512.FusedMultiplyAdd(g, Vector512.Create(kr[2]), o2);
                o3 = Vector512.FusedMultiplyAdd(g, Vector512.Create(kr[3]), o3);
                o4 = Vector512.FusedMultiplyAdd(g, Vector512.Create(kr[4]), o4);
                o5 = Vector512.FusedMultiplyAdd(g, Vector512.Create(kr[5]), o5);
                o6 = Vector512.FusedMultiplyAdd(g, Vector512.Create(kr[6]), o6);
                o7 = Vector512.FusedMultiplyAdd(g, Vector512.Create(kr[7]), o7);
                o8 = Vector512.FusedMultiplyAdd(g, Vector512.Create(kr[8]), o8);
                o9 = Vector512.FusedMultiplyAdd(g, Vector512.Create(kr[9]), o9);
                o10 = Vector512.FusedMultiplyAdd(g, Vector512.Create(kr[10]), o10);
                o11 = Vector512.FusedMultiplyAdd(g, Vector512.Create(kr[11]), o11);
                o12 = Vector512.FusedMultiplyAdd(g, Vector512.Create(kr[12]), o12);
                o13 = Vector512.FusedMultiplyAdd(g, Vector512.Create(kr[13]), o13);
                o14 = Vector512.FusedMultiplyAdd(g, Vector512.Create(kr[14]), o14);
                o15 = Vector512.FusedMultiplyAdd(g, Vector512.Create(kr[15]), o15);
            }
            o0.Store(output);
            o1.Store(output + 16);
            o2.Store(output + 32);
            o3.Store(output + 48);
            o4.Store(output + 64);
            o5.Store(output + 80);
            o6.Store(output + 96);
            o7.Store(output + 112);
            o8.Store(output + 128);
            o9.Store(output + 144);
            o10.Store(output + 160);
            o11.Store(output + 176);
            o12.Store(output + 192);
            o13.Store(output + 208);
            o14.Store(output + 224);
            o15.Store(output + 240);
        }

        /// <summary>
        /// acc_j (16 floats; acc (t, 16)) += Σ_i w_j[i] · rows_i for the t keys: w (t, 16), lane i = query i;
        /// rows (16, 16), row i = query i (zero past the block's queries). Two chains of 8 queries, added, then added
        /// to acc_j.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void KeyGrads(float* acc, float* w, float* rows, int t)
        {
            Vector512<float> r0 = Vector512.Load(rows), r1 = Vector512.Load(rows + 16);
            Vector512<float> r2 = Vector512.Load(rows + 32), r3 = Vector512.Load(rows + 48);
            Vector512<float> r4 = Vector512.Load(rows + 64), r5 = Vector512.Load(rows + 80);
            Vector512<float> r6 = Vector512.Load(rows + 96), r7 = Vector512.Load(rows + 112);
            Vector512<float> r8 = Vector512.Load(rows + 128), r9 = Vector512.Load(rows + 144);
            Vector512<float> r10 = Vector512.Load(rows + 160), r11 = Vector512.Load(rows + 176);
            Vector512<float> r12 = Vector512.Load(rows + 192), r13 = Vector512.Load(rows + 208);
            Vector512<float> r14 = Vector512.Load(rows + 224), r15 = Vector512.Load(rows + 240);
            float* ar = acc, wr = w;
            for (int j = 0; j < t; j++, ar += 16, wr += 16)
            {
                Vector512<float> a = r0 * Vector512.Create(wr[0]), e = r8 * Vector512.Create(wr[8]);
                a = Vector512.FusedMultiplyAdd(r1, Vector512.Create(wr[1]), a);
                e = Vector512.FusedMultiplyAdd(r9, Vector512.Create(wr[9]), e);
                a = Vector512.FusedMultiplyAdd(r2, Vector512.Create(wr[2]), a);
                e = Vector512.FusedMultiplyAdd(r10, Vector512.Create(wr[10]), e);
                a = Vector512.FusedMultiplyAdd(r3, Vector512.Create(wr[3]), a);
                e = Vector512.FusedMultiplyAdd(r11, Vector512.Create(wr[11]), e);
                a = Vector512.FusedMultiplyAdd(r4, Vector512.Create(wr[4]), a);
                e = Vector512.FusedMultiplyAdd(r12, Vector512.Create(wr[12]), e);
                a = Vector512.FusedMultiplyAdd(r5, Vector512.Create(wr[5]), a);
                e = Vector512.FusedMultiplyAdd(r13, Vector512.Create(wr[13]), e);
                a = Vector512.FusedMultiplyAdd(r6, Vector512.Create(wr[6]), a);
                e = Vector512.FusedMultiplyAdd(r14, Vector512.Create(wr[14]), e);
                a = Vector512.FusedMultiplyAdd(r7, Vector512.Create(wr[7]), a);
                e = Vector512.FusedMultiplyAdd(r15, Vector512.Create(wr[15]), e);
                (Vector512.Load(ar) + (a + e)).Store(ar);
            }
        }
    }
}
