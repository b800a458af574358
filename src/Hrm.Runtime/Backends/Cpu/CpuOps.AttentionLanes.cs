using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Hrm.Runtime.Threading;
using static Hrm.Runtime.Backends.Cpu.CpuOpsSupport;

namespace Hrm.Runtime.Backends.Cpu;

// The attention forward of 16-wide heads (the quickstart's) on 512-bit vectors with the queries in the lanes: a block
// of 16 queries is one vector per head dimension, so a key's 16 scores are 16 FMAs with the key's dims broadcast,
// the softmax's max and sum are lane-wise (no horizontal reductions, no per-query scalar work), and the output is 16
// accumulators, one per dimension, transposed back at the end. Two passes over the keys (scores and their maximum,
// then exp, sum and P·V), so no online rescaling. The key-tile kernels put the keys in the lanes instead, which
// leaves a 16-wide head one vector of FMAs per key tile and query, and a horizontal max and sum per query.
public static unsafe partial class CpuOps
{
    /// <summary>Whether <see cref="AttentionForward"/> runs <see cref="AttentionForwardLanesJob"/> and
    /// <see cref="AttentionBackward"/> <see cref="AttentionBackwardLanesJob"/>.</summary>
    private static bool LanesAttention(int hs) => Avx512F.IsSupported && Vector512.IsHardwareAccelerated && hs == 16;

    /// <summary>
    /// A last block of at most this many queries goes to the key-tile kernels instead (<see
    /// cref="AttentionForwardJob.Rows"/>): a block costs the same whatever its number of queries, about 1.04 µs per
    /// thread at T = 82 against about 0.09 µs per query on the key-tile path (`hrm-bench attention 2 64,82,4,16`,
    /// 2026-12-02, Zen 5), so up to 11 queries are cheaper there.
    /// </summary>
    private const int LaneTailMax = 11;

    /// <summary>dst (16, 16) = the n rows (16 floats, stride apart), rows past n zero. Compiled fully at once, as
    /// every helper of these kernels: left to tiering, it ran as tier-0 code through a short benchmark and made the
    /// backward 20% slower there (`hrm-bench attention 2 64,82,4,16`, 1.7-1.9 against 1.4-1.5 ms).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void LoadRows(float* dst, float* rows, long stride, int n)
    {
        for (int i = 0; i < 16; i++)
            (i < n ? Vector512.Load(rows + i * stride) : Vector512<float>.Zero).Store(dst + 16 * i);
    }

    /// <summary>
    /// dst_j (16 lanes) = Σ_d rt[d] · row_j[d] for the t rows (16 floats, stride apart), rt (16, 16) a block of 16
    /// queries transposed (row d = dimension d): the scores of the forward and the backward, and the backward's dP.
    /// Two chains of 8 (dimensions 0-7 and 8-15), added; consecutive rows overlap in the pipeline.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void LaneDots(float* rt, float* rows, long stride, int t, float* dst)
    {
        Vector512<float> q0 = Vector512.Load(rt), q1 = Vector512.Load(rt + 16), q2 = Vector512.Load(rt + 32);
        Vector512<float> q3 = Vector512.Load(rt + 48), q4 = Vector512.Load(rt + 64), q5 = Vector512.Load(rt + 80);
        Vector512<float> q6 = Vector512.Load(rt + 96), q7 = Vector512.Load(rt + 112);
        Vector512<float> q8 = Vector512.Load(rt + 128), q9 = Vector512.Load(rt + 144);
        Vector512<float> q10 = Vector512.Load(rt + 160), q11 = Vector512.Load(rt + 176);
        Vector512<float> q12 = Vector512.Load(rt + 192), q13 = Vector512.Load(rt + 208);
        Vector512<float> q14 = Vector512.Load(rt + 224), q15 = Vector512.Load(rt + 240);
        float* kr = rows;
        for (int j = 0; j < t; j++, kr += stride)
        {
            Vector512<float> a = q0 * Vector512.Create(kr[0]), e = q8 * Vector512.Create(kr[8]);
            a = Vector512.FusedMultiplyAdd(q1, Vector512.Create(kr[1]), a);
            e = Vector512.FusedMultiplyAdd(q9, Vector512.Create(kr[9]), e);
            a = Vector512.FusedMultiplyAdd(q2, Vector512.Create(kr[2]), a);
            e = Vector512.FusedMultiplyAdd(q10, Vector512.Create(kr[10]), e);
            a = Vector512.FusedMultiplyAdd(q3, Vector512.Create(kr[3]), a);
            e = Vector512.FusedMultiplyAdd(q11, Vector512.Create(kr[11]), e);
            a = Vector512.FusedMultiplyAdd(q4, Vector512.Create(kr[4]), a);
            e = Vector512.FusedMultiplyAdd(q12, Vector512.Create(kr[12]), e);
            a = Vector512.FusedMultiplyAdd(q5, Vector512.Create(kr[5]), a);
            e = Vector512.FusedMultiplyAdd(q13, Vector512.Create(kr[13]), e);
            a = Vector512.FusedMultiplyAdd(q6, Vector512.Create(kr[6]), a);
            e = Vector512.FusedMultiplyAdd(q14, Vector512.Create(kr[14]), e);
            a = Vector512.FusedMultiplyAdd(q7, Vector512.Create(kr[7]), a);
            e = Vector512.FusedMultiplyAdd(q15, Vector512.Create(kr[15]), e);
            (a + e).Store(dst + 16 * j);
        }
    }

    /// <summary>
    /// e^x for x ≤ 0 (a score minus its row maximum, or in the backward minus its lse, ≤ 0 up to rounding; never
    /// NaN): SimdMath.Exp's reduction and polynomial, the power of two applied by vscalefps, which also takes care of
    /// underflow (x below −87.3 gives a denormal or 0 instead of SimdMath.Exp's 0; the clamp at −104 keeps n finite)
    /// and of a small positive x: 14 instructions where SimdMath.Exp takes 21.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> ExpNonPositive(Vector512<float> x)
    {
        x = Vector512.MaxNative(x, Vector512.Create(-104f));
        Vector512<float> n = SimdMath.ExpExponent(x);
        return Avx512F.Scale(SimdMath.ExpOfRemainder(x, n), n);
    }

    /// <summary>
    /// One task per (batch, head, part): a part is a run of 16-query blocks (all of them unless there are too few
    /// heads for the threads), the last block possibly ragged. A query's result depends on nothing but its own lane
    /// (or, in a short last block, on its own row of the key-tile kernels, whose results do not depend on the slot
    /// either), so it does not depend on the split, the block it falls in or the thread count.
    /// </summary>
    private struct AttentionForwardLanesJob : IParallelJob
    {
        /// <summary>The key-tile job of the same call (Out, Lse, Qkv, T, Nh, Hs, Splits, Tasks, Threads, Scale),
        /// which runs a short last block.</summary>
        public AttentionForwardJob Tiles;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int index)
        {
            int t = Tiles.T, nh = Tiles.Nh, splits = Tiles.Splits;
            index = ThreadMajor(index, Tiles.Tasks, Tiles.Threads);
            int bh = index / splits, split = index % splits;
            int b = bh / nh, h = bh % nh, blocks = (t + 15) / 16;
            int k0 = (int)Split(blocks, splits, split), k1 = (int)Split(blocks, splits, split + 1);
            long c = (long)nh * 16, stride = 3 * c;
            float* q = Tiles.Qkv + (long)b * t * stride + (long)h * 16;
            float* o = Tiles.Out + (long)b * t * c + (long)h * 16, lse = Tiles.Lse + (long)bh * t;
            // s (T, 16): one block's scores, a vector per key; tile, tileT (16, 16): a ragged block's rows and a
            // block transposed; stats (2, 16): the row maxima and sums. (The key-tile rows of a short last block
            // run after the last use of this scratch.)
            float* s = Align64(HeapScratch(16 * t + 2 * 256 + 32 + 16));
            float* tile = s + 16 * t, tileT = tile + 256, stats = tileT + 256;
            for (int blk = k0; blk < k1; blk++)
            {
                int i0 = 16 * blk, n = Math.Min(16, t - i0);
                if (n <= LaneTailMax)
                {
                    Tiles.Rows(index, bh, i0, t);
                    continue;
                }
                LoadTransposed(tileT, tile, q + i0 * stride, stride, n);
                Block(tileT, s, stats, q + c, q + 2 * c, stride, t, Tiles.Scale);
                if (n == 16)
                {
                    GemmKernels.Transpose16x16(tileT, 16, o + i0 * c, (nint)c);
                }
                else
                {
                    GemmKernels.Transpose16x16(tileT, 16, tile, 16);
                    for (int i = 0; i < n; i++) Vector512.Load(tile + 16 * i).Store(o + (i0 + i) * c);
                }
                (Vector512.Load(stats) + Vector512.Log(Vector512.Load(stats + 16))).Store(stats);
                for (int i = 0; i < n; i++) lse[i0 + i] = stats[i];
            }
        }

        /// <summary>dst (16, 16) = the n rows (16 floats, stride apart) transposed, rows past n read as zeros;
        /// tile (16, 16) scratch.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void LoadTransposed(float* dst, float* tile, float* rows, long stride, int n)
        {
            if (n == 16)
            {
                GemmKernels.Transpose16x16(rows, (nint)stride, dst, 16);
                return;
            }
            LoadRows(tile, rows, stride, n);
            GemmKernels.Transpose16x16(tile, 16, dst, 16);
        }

        /// <summary>
        /// qt (16, 16): row d = dimension d of the block's 16 queries; becomes their outputs, row d = dimension d.
        /// k, v: the head's first key and value row (16 floats, rows stride apart), t rows. s (t, 16) scratch;
        /// stats[0..15] = the queries' maximum scores, stats[16..31] = Σ exp(score − max).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Block(float* qt, float* s, float* stats, float* k, float* v, long stride, int t,
            float scale)
        {
            LaneDots(qt, k, stride, t, s);
            var sc = Vector512.Create(scale);
            var max = Vector512.Create(float.NegativeInfinity);
            for (int j = 0; j < 16 * t; j += 16)
            {
                Vector512<float> score = Vector512.Load(s + j) * sc;
                score.Store(s + j);
                max = Vector512.MaxNative(max, score);
            }
            max.Store(stats);
            ExpSumValues(qt, s, stats, v, stride, t, max);
        }

        /// <summary>p_j = exp(s_j − max) per lane, Σ p_j into stats[16..31], out (16, 16) = Σ_j p_j ⊗ v_j / Σ p_j,
        /// row d of out = dimension d.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void ExpSumValues(float* output, float* s, float* stats, float* v, long stride, int t,
            Vector512<float> max)
        {
            Vector512<float> o0 = default, o1 = default, o2 = default, o3 = default, o4 = default, o5 = default;
            Vector512<float> o6 = default, o7 = default, o8 = default, o9 = default, o10 = default, o11 = default;
            Vector512<float> o12 = default, o13 = default, o14 = default, o15 = default, sum = default;
            float* vr = v;
            for (int j = 0; j < t; j++, vr += stride)
            {
                Vector512<float> p = ExpNonPositive(Vector512.Load(s + 16 * j) - max);
                sum += p;
                o0 = Vector512.FusedMultiplyAdd(p, Vector512.Create(vr[0]), o0);
                o1 = Vector512.FusedMultiplyAdd(p, Vector512.Create(vr[1]), o1);
                o2 = Vector512.FusedMultiplyAdd(p, Vector512.Create(vr[2]), o2);
                o3 = Vector512.FusedMultiplyAdd(p, Vector512.Create(vr[3]), o3);
                o4 = Vector512.FusedMultiplyAdd(p, Vector512.Create(vr[4]), o4);
                o5 = Vector512.FusedMultiplyAdd(p, Vector512.Create(vr[5]), o5);
                o6 = Vector512.FusedMultiplyAdd(p, Vector512.Create(vr[6]), o6);
                o7 = Vector512.FusedMultiplyAdd(p, Vector512.Create(vr[7]), o7);
                o8 = Vector512.FusedMultiplyAdd(p, Vector512.Create(vr[8]), o8);
                o9 = Vector512.FusedMultiplyAdd(p, Vector512.Create(vr[9]), o9);
                o10 = Vector512.FusedMultiplyAdd(p, Vector512.Create(vr[10]), o10);
                o11 = Vector512.FusedMultiplyAdd(p, Vector512.Create(vr[11]), o11);
                o12 = Vector512.FusedMultiplyAdd(p, Vector512.Create(vr[12]), o12);
                o13 = Vector512.FusedMultiplyAdd(p, Vector512.Create(vr[13]), o13);
                o14 = Vector512.FusedMultiplyAdd(p, Vector512.Create(vr[14]), o14);
                o15 = Vector512.FusedMultiplyAdd(p, Vector512.Create(vr[15]), o15);
            }
            sum.Store(stats + 16);
            Vector512<float> inv = Vector512<float>.One / sum;
            (o0 * inv).Store(output);
            (o1 * inv).Store(output + 16);
            (o2 * inv).Store(output + 32);
            (o3 * inv).Store(output + 48);
            (o4 * inv).Store(output + 64);
            (o5 * inv).Store(output + 80);
            (o6 * inv).Store(output + 96);
            (o7 * inv).Store(output + 112);
            (o8 * inv).Store(output + 128);
            (o9 * inv).Store(output + 144);
            (o10 * inv).Store(output + 160);
            (o11 * inv).Store(output + 176);
            (o12 * inv).Store(output + 192);
            (o13 * inv).Store(output + 208);
            (o14 * inv).Store(output + 224);
            (o15 * inv).Store(output + 240);
        }
    }
}
