using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Hrm.Runtime.Threading;
using static Hrm.Runtime.Backends.Cpu.CpuOpsSupport;

namespace Hrm.Runtime.Backends.Cpu;

// The key-tile attention backward (CpuOps.Attention.cs has the entry point and the forward; short sequences take
// CpuOps.AttentionShort.cs): one task per (batch, head), queries by quads, pairs and one, over key tiles.
public static unsafe partial class CpuOps
{
    /// <summary>The operands of <see cref="AttentionBackward"/>, shared by its two jobs.</summary>
    private struct AttentionBackwardOperands
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
        public int Tasks;
        public int Threads;

        /// <summary>The (batch, head) of pool index <paramref name="index"/> (thread-major, see
        /// <see cref="ThreadMajor"/>): its task number and the offsets of its first row in qkv / dqkv (Q part) and in
        /// out / dout; rows are 3C and C floats apart.</summary>
        public readonly int Head(int index, out long qOff, out long oOff)
        {
            index = ThreadMajor(index, Tasks, Threads);
            Offsets(index, out qOff, out oOff);
            return index;
        }

        /// <summary>The offsets of <see cref="Head"/> for task number <paramref name="task"/> (batch task / NH, head task % NH).</summary>
        public readonly void Offsets(int task, out long qOff, out long oOff)
        {
            long c = (long)Nh * Hs;
            qOff = (long)(task / Nh) * T * 3 * c + (long)(task % Nh) * Hs;
            oOff = (long)(task / Nh) * T * c + (long)(task % Nh) * Hs;
        }
    }

    private struct AttentionBackwardJob : IParallelJob
    {
        public AttentionBackwardOperands Op;

        [SkipLocalsInit]
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int index)
        {
            index = Op.Head(index, out long qOff, out long oOff);
            int t = Op.T, hs = Op.Hs;
            float scale = Op.Scale;
            long c = (long)Op.Nh * hs, stride = 3 * c;
            float* q = Op.Qkv + qOff, k = q + c, v = q + 2 * c, dq = Op.DQkv + qOff, dk = dq + c, dv = dq + 2 * c;
            float* dO = Op.DOut + oOff, o = Op.Out + oOff, lse = Op.Lse + (long)index * t;

            int w = KeyTileWidth(t, hs, TileFloats, TileFloats);
            int need = 5 * hs * w + t + 8 * w;
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
            // Per key tile: K and V transposed (HS, w) for the scores, K contiguous (w, HS) for dQ, and contiguous
            // dK, dV accumulators (w, HS) written to dqkv once the tile is done (qkv rows are 3C floats apart).
            // p0..p3 (4 x w), ds0..ds3 (4 x w): a quad of queries; dd (t).
            int tileFloats = hs * w;
            float* kt = buf, vt = kt + tileFloats, kc = vt + tileFloats, dkc = kc + tileFloats, dvc = dkc + tileFloats;
            float* p0 = dvc + tileFloats, p1 = p0 + w, ds0 = p0 + 4 * w, ds1 = ds0 + w, dd = ds0 + 4 * w;

            for (int i = 0; i < t; i++)
            {
                new Span<float>(dq + i * stride, hs).Clear();
                dd[i] = SimdMath.Dot(dO + i * c, o + i * c, hs); // D_i = dO_i · O_i
            }
            for (int j0 = 0; j0 < t; j0 += w)
            {
                int kn = Math.Min(w, t - j0), nv = (kn + 15) / 16;
                TransposeTile(kt, 16 * nv, k + j0 * stride, stride, kn, hs);
                TransposeTile(vt, 16 * nv, v + j0 * stride, stride, kn, hs);
                CopyTile(kc, k + j0 * stride, stride, kn, hs);
                new Span<float>(dkc, kn * hs).Clear();
                new Span<float>(dvc, kn * hs).Clear();
                int i = 0;
                for (; i + 3 < t; i += 4)
                {
                    // Four queries: each key-tile and row load feeds four (per query the pair kernels' arithmetic).
                    float* qa = q + i * stride, dOa = dO + i * c;
                    Scores4(qa, stride, kt, nv, hs, scale, p0, w);
                    Scores4(dOa, c, vt, nv, hs, 1f, ds0, w);
                    for (int u = 0; u < 4; u++)
                        ProbabilitiesAndScoreGrads(p0 + u * w, ds0 + u * w, nv, lse[i + u], dd[i + u], scale);
                    AccumulateRows4(dq + i * stride, stride, 1f, 1f, 1f, 1f, ds0, w, kn, kc, hs);
                    RankUpdate4(dkc, hs, kn, ds0, w, qa, stride, hs);
                    RankUpdate4(dvc, hs, kn, p0, w, dOa, c, hs);
                }
                for (; i + 1 < t; i += 2)
                {
                    float* qa = q + i * stride, qb = qa + stride, dOa = dO + i * c, dOb = dOa + c;
                    // s → p0/p1 and dP → ds0/ds1, then p = exp(s − lse), dS = p·(dP − D)·scale in place.
                    Scores2(qa, qb, kt, nv, hs, scale, p0, p1);
                    Scores2(dOa, dOb, vt, nv, hs, 1f, ds0, ds1);
                    ProbabilitiesAndScoreGrads(p0, ds0, nv, lse[i], dd[i], scale);
                    ProbabilitiesAndScoreGrads(p1, ds1, nv, lse[i + 1], dd[i + 1], scale);
                    float* dqa = dq + i * stride;
                    AccumulateRows2(dqa, dqa + stride, 1f, 1f, ds0, ds1, kn, kc, hs, hs);
                    RankUpdate2(dkc, hs, kn, ds0, ds1, qa, qb, hs);
                    RankUpdate2(dvc, hs, kn, p0, p1, dOa, dOb, hs);
                }
                if (i < t)
                {
                    // The odd query: the two-query score kernel with the query twice (same arithmetic).
                    float* qa = q + i * stride, dOa = dO + i * c;
                    Scores2(qa, qa, kt, nv, hs, scale, p0, p1);
                    Scores2(dOa, dOa, vt, nv, hs, 1f, ds0, ds1);
                    ProbabilitiesAndScoreGrads(p0, ds0, nv, lse[i], dd[i], scale);
                    AccumulateRows(dq + i * stride, 1f, ds0, kn, kc, hs, hs);
                    for (int j = 0; j < kn; j++)
                    {
                        SimdMath.Axpy(dkc + j * hs, qa, ds0[j], hs);
                        SimdMath.Axpy(dvc + j * hs, dOa, p0[j], hs);
                    }
                }
                nuint rowBytes = (nuint)hs * sizeof(float);
                for (int j = 0; j < kn; j++)
                {
                    Buffer.MemoryCopy(dkc + j * hs, dk + (j0 + j) * stride, rowBytes, rowBytes);
                    Buffer.MemoryCopy(dvc + j * hs, dv + (j0 + j) * stride, rowBytes, rowBytes);
                }
            }
        }

        /// <summary>s (nv·16 scaled scores) becomes p = exp(s − lse); dp (nv·16) becomes dS = p·(dp − D)·scale.
        /// Lanes past the tile's keys hold finite garbage; the callers never read them.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void ProbabilitiesAndScoreGrads(float* s, float* dp, int nv, float lse, float d, float scale)
        {
            if (Group16.Use256)
            {
                ProbabilitiesAndScoreGradsNarrow<Group256>(s, dp, nv, lse, d, scale);
                return;
            }
            if (Group16.Use128)
            {
                ProbabilitiesAndScoreGradsNarrow<Group128>(s, dp, nv, lse, d, scale);
                return;
            }
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
}
