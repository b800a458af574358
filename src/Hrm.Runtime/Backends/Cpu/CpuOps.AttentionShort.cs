using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Hrm.Runtime.Threading;
using static Hrm.Runtime.Backends.Cpu.CpuOpsSupport;

namespace Hrm.Runtime.Backends.Cpu;

// The attention backward of short sequences (Sudoku: T = 82) as five small GEMMs per (batch, head) on the GEMM's
// 14x32 micro-kernel, with the whole (W, W) score matrix of the head in the task's scratch (W = T rounded up to 32;
// a per-task tile of at most 160 x 160 floats, never a global S x S matrix).
public static unsafe partial class CpuOps
{
    /// <summary>Longest sequence the per-head GEMM backward takes: its three (W, W) matrices stay in L2.</summary>
    private const int ShortAttentionMaxT = 128;

    /// <summary>Whether <see cref="AttentionBackward"/> runs <see cref="AttentionBackwardShortJob"/>.</summary>
    private static bool ShortAttention(int t, int hs) =>
        Gemm.Best == GemmPath.Vector512 && t <= ShortAttentionMaxT && hs > 0 && hs % 32 == 0;

    /// <summary>
    /// One task per (batch, head): S = Q·Kᵀ and dP = dO·Vᵀ (T, W) from packed Q / dO micro-panels and the
    /// transposed K / V; P = exp(S·scale − lse) and dS = P·(dP − D)·scale in place; then dV = Pᵀ·dO and dK = dSᵀ·Q
    /// read P and dS in place (reduction step i = row i), dQ = dS·K reads dSᵀ. Every product reduces over exactly T
    /// steps or HS, in order; the padding rows and columns (up to W) are computed but never read into a result.
    /// (B, T, NH, HS) = (32, 82, 8, 64), 2 threads: 5.7 → 4.7 ms per call in isolation against the key-tile
    /// kernels, 8.4-8.8 → 6.1-6.4 ms in the training step (`profile-train`, alternating).
    /// </summary>
    private struct AttentionBackwardShortJob : IParallelJob
    {
        private const int Mr = 14, Nr = 32;

        public AttentionBackwardOperands Op;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int index)
        {
            index = Op.Head(index, out long qOff, out long oOff);
            int t = Op.T, hs = Op.Hs;
            long c = (long)Op.Nh * hs, stride = 3 * c;
            float* q = Op.Qkv + qOff, k = q + c, v = q + 2 * c, dq = Op.DQkv + qOff, dk = dq + c, dv = dq + 2 * c;
            float* dO = Op.DOut + oOff, o = Op.Out + oOff, lse = Op.Lse + (long)index * t;

            int tq = (t + Mr - 1) / Mr * Mr, w = (tq + Nr - 1) / Nr * Nr; // micro-panel rows; score width
            int square = w * w, packed = tq * hs + 16, trans = hs * w;      // + 16: PackMicroPanel's two-float spill
            int rows = t * hs;
            float* buf = Align64(HeapScratch(3 * square + 2 * packed + 2 * trans + 3 * rows + Mr * Nr + t + 32));
            float* s = buf;                  // (W, W): S, then P (rows < T)
            float* dp = s + square;          // (W, W): dP, then dS
            float* dst = dp + square;        // (W, W): dSᵀ
            float* qp = dst + square;        // (TQ/14) micro-panels of Q (HS steps of 14)
            float* dop = qp + packed;        // the same of dO
            float* kt = dop + packed;        // (HS, W) Kᵀ, zero past T
            float* vt = kt + trans;          // (HS, W) Vᵀ, zero past T
            float* qc = vt + trans;          // (T, HS) Q, contiguous (dK's B operand; qkv rows are 3C apart)
            float* kc = qc + rows;           // (T, HS) K (dQ's)
            float* doc = kc + rows;          // (T, HS) dO (dV's)
            float* tile = doc + rows;        // (14, 32) a ragged output tile
            float* dd = tile + Mr * Nr;      // (T) D_i = dO_i · O_i

            for (int r = 0; r < tq; r += Mr)
            {
                Gemm.PackMicroPanel(GemmPath.Vector512, qp + r * hs, q, (nint)stride, t, r, 0, hs);
                Gemm.PackMicroPanel(GemmPath.Vector512, dop + r * hs, dO, (nint)c, t, r, 0, hs);
            }
            TransposeTile(kt, w, k, stride, t, hs);
            TransposeTile(vt, w, v, stride, t, hs);
            CopyTile(qc, q, stride, t, hs);
            CopyTile(kc, k, stride, t, hs);
            CopyTile(doc, dO, c, t, hs);
            // The thread's next head (the next task in thread-major order): its qkv, dO and O rows and the dqkv rows
            // it will write, into L2 while this head computes, a share per micro-panel. qkv rows are 3C floats apart,
            // a stride the hardware prefetchers do not follow. Training step at batch 32 (`profile-train`, two
            // pairs each): 7.34-7.39 ms per call without, 6.60-6.79 with the inputs, 6.11-6.37 with the outputs too.
            bool next = index + 1 < Op.Tasks;
            Op.Offsets(index + 1, out long nqOff, out long noOff);
            int panels = tq / Mr;
            for (int r = 0; r < tq; r += Mr)
            {
                if (next)
                {
                    int m = r / Mr, i0 = m * t / panels, n = (m + 1) * t / panels - i0;
                    long rowOff = nqOff + i0 * stride, oRowOff = noOff + i0 * c;
                    for (int part = 0; part < 3; part++)
                    {
                        PrefetchRow(Op.Qkv + rowOff + part * c, n, stride, hs);
                        PrefetchRow(Op.DQkv + rowOff + part * c, n, stride, hs);
                    }
                    PrefetchRow(Op.DOut + oRowOff, n, c, hs);
                    PrefetchRow(Op.Out + oRowOff, n, c, hs);
                }
                for (int j = 0; j < w; j += Nr)
                {
                    GemmKernels.Kernel512(qp + r * hs, kt + j, w, s + r * w + j, w, hs, false);
                    GemmKernels.Kernel512(dop + r * hs, vt + j, w, dp + r * w + j, w, hs, false);
                }
            }
            var sc = Vector512.Create(Op.Scale);
            for (int i = 0; i < t; i++)
            {
                dd[i] = SimdMath.Dot(dO + i * c, o + i * c, hs);
                var lv = Vector512.Create(lse[i]);
                var dv0 = Vector512.Create(dd[i]);
                float* si = s + i * w, dpi = dp + i * w;
                for (int j = 0; j < w; j += 16)
                {
                    Vector512<float> p = SimdMath.Exp(Vector512.FusedMultiplyAdd(Vector512.Load(si + j), sc, -lv));
                    p.Store(si + j);
                    (p * (Vector512.Load(dpi + j) - dv0) * sc).Store(dpi + j);
                }
            }
            // dSᵀ: rows j < T (the reduction steps of dQ), columns i < TQ (its micro-panels).
            for (int j = 0; j < t; j += 16)
            {
                for (int i = 0; i < tq; i += 16)
                    GemmKernels.Transpose16x16(dp + (nint)i * w + j, w, dst + (nint)j * w + i, w);
            }
            for (int r = 0; r < tq; r += Mr)
            {
                int rh = Math.Min(Mr, t - r);
                for (int e = 0; e < hs; e += Nr)
                {
                    PanelProduct(s + r, w, doc + e, hs, t, dv + r * stride + e, stride, rh, tile); // dV = Pᵀ·dO
                    PanelProduct(dp + r, w, qc + e, hs, t, dk + r * stride + e, stride, rh, tile);  // dK = dSᵀ·Q
                    PanelProduct(dst + r, w, kc + e, hs, t, dq + r * stride + e, stride, rh, tile); // dQ = dS·K
                }
            }
        }
    }

    /// <summary>
    /// The rh valid rows of out (14 x 32, row stride ldo) = Σ_p a[p·lda + 0..13] ⊗ b[p·ldb + 0..31], p &lt; kc;
    /// a ragged tile goes through <paramref name="tile"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PanelProduct(float* a, nint lda, float* b, long ldb, int kc, float* output, long ldo, int rh,
        float* tile)
    {
        if (rh == 14)
        {
            GemmKernels.Kernel512(a, b, (nint)ldb, output, (nint)ldo, kc, false, null, 0, lda);
            return;
        }
        GemmKernels.Kernel512(a, b, (nint)ldb, tile, 32, kc, false, null, 0, lda);
        for (int i = 0; i < rh; i++) Vector512.Store(Vector512.Load(tile + i * 32), output + i * ldo);
        for (int i = 0; i < rh; i++) Vector512.Store(Vector512.Load(tile + i * 32 + 16), output + i * ldo + 16);
    }
}
