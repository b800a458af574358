// module_fused.cu — a whole module call that nobody differentiates (IHrmBackend.TryFusedModuleForward),
// z <- blocks(z + inj), in one persistent kernel: the blocks of the grid take the work items of each stage in turn and
// meet at a grid-wide barrier (common.cuh's grid_barrier) between stages, instead of ~8 kernel launches per transformer
// block. For small batches (the batch-1 solve: 16 segments x 6 module calls x 4 blocks = 384 blocks, ~3,000 dependent
// launches unfused).
//
// Per transformer block (post-norm, as HrmModel.BlockForward), M = B*T rows, C = NH*64, I the SwiGLU width:
//   qkv  = bf16(x . Wqkv^T)                  GEMM, warp tile 16 x 32                  (M, 3C) bf16
//   att  = attention(RoPE(qkv))              attention_forward_rope, a block per (b, h) (M, C) bf16
//   prod = bf16(att . Wo^T)                  GEMM                                      (M, C) bf16
//   h1   = RMSNorm(x + prod)                 add_rmsnorm_forward_row, a warp per row   (M, C) fp32 + bf16 copy
//   act  = bf16(SiLU(g) u), g, u = bf16(h1 . Wgate^T), bf16(h1 . Wup^T)   GEMM of both halves + SwiGLU (M, I) bf16
//   prod = bf16(act . Wdown^T)               GEMM                                      (M, C) bf16
//   x    = RMSNorm(h1 + prod)                add_rmsnorm_forward_row                  (M, C) fp32 + bf16 copy
// The rounding points are those of the unfused bf16 path (CudaBackend with bf16 GEMMs and bf16 intermediates): each
// GEMM product rounded to bf16, attention, add + RMSNorm and SwiGLU by the same device code as their kernels
// (attention.cuh, rmsnorm.cuh, swiglu.cuh). Only the GEMMs' summation order differs from cuBLASLt's (fp32
// accumulation of bf16 products on tensor cores, k in order per mma): expect agreement within the bf16 tolerance.
//
// Buffers (the host's scratch, 16-byte aligned): z (M, C) fp32, read when FUSED_FIRST and written when FUSED_LAST;
//   inj (M, C) fp32 or bf16 (FUSED_INJ_BF16); x, h1 (M, C) fp32; opb (M, C) bf16: the current GEMM operand (bf16(x),
//   then bf16(h1)); qkv (M, 3C), att, prod (M, C), act (M, I) bf16; lse (B, NH, T), rstd (M) fp32 (written, unused);
//   cos, sin (T, 64) fp32 or null (no rotary positions); bar: 2 words for grid_barrier, zero before the first launch;
//   stamps: null, or 7 * layers + 1 + (FUSED_FIRST ? 1 : 0) words that get the global timer (ns), from block 0, at
//   the start, after every stage (its barrier passed) and at its end (hrm-bench's stage times);
//   w0..w15: the bf16 weights of up to 4 layers, layer l in w[4l..4l+3] = Wqkv (3C, C), Wo (C, C), Wgate_up (2I, C),
//   Wdown (C, I) (null past `layers`). A module of more layers is several launches: the first with FUSED_FIRST
//   (x = z + inj), the last with FUSED_LAST (its output into z), the stream passing through x and opb between them.
// ksplit: warps per GEMM tile (1, 2 or 4; see fused_gemm), a speed choice: results differ in the fp32 summation order.
// Limits (the host checks them): head size 64, T <= 128 (one attention block per head), C % 64 == 0, I % 32 == 0,
//   1 <= layers <= 4.
// Launch: cooperative (cuLaunchCooperativeKernel: the driver guarantees every block is resident at once, which
//   grid_barrier needs, or refuses the launch), block = 128 (4 warps), dynamic smem FUSED_SMEM, grid = at most the
//   occupancy query x SMs; any grid size >= 1 computes the same, bitwise (each output
//   element is computed by the same warps of one block in a fixed order, whichever block takes it).
#include "common.cuh"
#include "attention.cuh"
#include "rmsnorm.cuh"
#include "swiglu.cuh"

#define FUSED_WARPS 4
#define FUSED_THREADS (32 * FUSED_WARPS)
#define FUSED_SMEM (2 * ATT_STAGE_BYTES)  // attention_forward_rope's tile
#define FUSED_FIRST 1
#define FUSED_LAST 2
#define FUSED_INJ_BF16 4
#define FUSED_NT 4                        // n8 tiles per warp: a warp tile is 16 rows x 32 columns

static_assert(FUSED_THREADS == ATT_THREADS, "the attention stage runs attention_forward_rope's 128-thread blocks");
static_assert(FUSED_THREADS * 2 * FUSED_NT * 4 * 4 <= FUSED_SMEM, "fused_gemm's partial sums fit the attention's tile");

// acc (16 x 8*NT) = A rows [m0, m0 + 16) (clamped to m - 1: rows past m are computed and dropped) . W rows [n0, n0 +
// 8*NT)^T over k (% 16 == 0). A (m, lda) and W (n, ldw) bf16 row-major; fragments loaded straight from global memory
// (32-bit loads; W is the mma's "col" operand as stored).
template <int NT>
HRM_DEVICE void fused_warp_gemm(float (&acc)[NT][4], const bf16* A, int lda, int m0, int m, const bf16* __restrict__ W,
                                int ldw, int n0, int k) {
    int lane = threadIdx.x & 31, g = lane >> 2, q = lane & 3;
    const u32* a0 = reinterpret_cast<const u32*>(A + (i64)min(m0 + g, m - 1) * lda) + q;
    const u32* a1 = reinterpret_cast<const u32*>(A + (i64)min(m0 + g + 8, m - 1) * lda) + q;
    const u32* w[NT];
#pragma unroll
    for (int j = 0; j < NT; j++) {
        w[j] = reinterpret_cast<const u32*>(W + (i64)(n0 + 8 * j + g) * ldw) + q;
#pragma unroll
        for (int e = 0; e < 4; e++) acc[j][e] = 0.0f;
    }
#pragma unroll 4
    for (int kk = 0; kk < k / 2; kk += 8) {  // 16 bf16 = 8 words per k-step
        u32 x0 = a0[kk], x1 = a1[kk], x2 = a0[kk + 4], x3 = a1[kk + 4];
#pragma unroll
        for (int j = 0; j < NT; j++) mma_bf16_16816(acc[j], x0, x1, x2, x3, w[j][kk], w[j][kk + 4]);
    }
}

// The split of K a GEMM stage uses: `ksplit` (1, 2 or 4 warps per tile) halved until K / split is a multiple of 16.
HRM_DEVICE int fused_split(int k, int ksplit) {
    int s = ksplit == 4 || ksplit == 2 ? ksplit : 1;
    while (s > 1 && k % (16 * s) != 0) s >>= 1;
    return s;
}

// One GEMM stage: out (m, n) bf16 = bf16(A (m, k) . W (n, k)^T), or with SWIGLU (W = [Wgate; Wup], (2n, k)) out =
// bf16(SiLU(g) u) with g, u = bf16(A . Wgate^T), bf16(A . Wup^T): the gate/up GEMM's bf16 product and
// swiglu_forward_kernel3's element formula. n % 32 == 0. Tiles of 16 rows x 32 columns; each is computed by `ks` warps
// of one block (fused_split), warp kp over k columns [kp k/ks, (kp + 1) k/ks), the partial sums added in kp order
// through `red` (FUSED_WARPS x 32 lanes x 2 x 4 x FUSED_NT floats of shared memory), so a tile's result does not
// depend on the grid. Every thread of the block calls it (the block meets at __syncthreads when ks > 1).
template <bool SWIGLU>
HRM_DEVICE void fused_gemm(bf16* out, const bf16* A, const bf16* __restrict__ W, int m, int n, int k, int ksplit,
                           float* red) {
    const int NACC = (SWIGLU ? 2 : 1) * FUSED_NT * 4;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, q = lane & 3;
    int ks = fused_split(k, ksplit), per = FUSED_WARPS / ks, kp = warp % ks, slot = warp / ks, kc = k / ks;
    int mt = (m + 15) / 16, items = mt * (n / (8 * FUSED_NT)), passes = (items + per - 1) / per;
    for (int p = blockIdx.x; p < passes; p += gridDim.x) {
        int it = p * per + slot;
        bool ok = it < items;  // warp-uniform
        int m0 = (it % mt) * 16, n0 = (it / mt) * 8 * FUSED_NT;  // the items of a pass share W's columns
        float acc[2][FUSED_NT][4];
        if (ok) {
            fused_warp_gemm<FUSED_NT>(acc[0], A + kp * kc, k, m0, m, W + kp * kc, k, n0, kc);
            if (SWIGLU) fused_warp_gemm<FUSED_NT>(acc[1], A + kp * kc, k, m0, m, W + kp * kc, k, n + n0, kc);
        }
        if (ks > 1) {
            float* mine = red + (warp * 32 + lane) * NACC;
            __syncthreads();  // the previous pass's sums are read
            if (ok && kp > 0) {
#pragma unroll
                for (int i = 0; i < NACC; i++) mine[i] = (&acc[0][0][0])[i];
            }
            __syncthreads();
            if (ok && kp == 0) {
                for (int j = 1; j < ks; j++) {
#pragma unroll
                    for (int i = 0; i < NACC; i++) (&acc[0][0][0])[i] += mine[j * 32 * NACC + i];
                }
            }
        }
        if (!ok || kp != 0) continue;
#pragma unroll
        for (int j = 0; j < FUSED_NT; j++) {
            int col = n0 + 8 * j + 2 * q;
#pragma unroll
            for (int hh = 0; hh < 2; hh++) {
                int row = m0 + g + 8 * hh;
                if (row >= m) continue;
                u32 v;
                if (SWIGLU) {
                    float y[2];
#pragma unroll
                    for (int e = 0; e < 2; e++) {
                        float gv = bf16_to_f32(f32_to_bf16(acc[0][j][2 * hh + e]));
                        float uv = bf16_to_f32(f32_to_bf16(acc[1][j][2 * hh + e]));
                        y[e] = swiglu_forward_elem(gv, uv);
                    }
                    v = (u32)f32_to_bf16(y[0]) | ((u32)f32_to_bf16(y[1]) << 16);
                } else {
                    v = pack_bf16x2(acc[0][j][2 * hh], acc[0][j][2 * hh + 1]);
                }
                *reinterpret_cast<u32*>(out + (i64)row * n + col) = v;
            }
        }
    }
}

// out = rstd * (a + b) per row (out null: outh only), a warp per row over every warp of the grid.
HRM_DEVICE void fused_add_rmsnorm(float* out, bf16* outh, float* rstd, const float* a, const bf16* b, int m, int c,
                                  float eps) {
    int gw = blockIdx.x * FUSED_WARPS + (threadIdx.x >> 5), nw = gridDim.x * FUSED_WARPS;
    for (int r = gw; r < m; r += nw) add_rmsnorm_forward_row<float, bf16>(out, outh, rstd, a, b, r, c, eps);
}

// att (M, C) bf16 = attention(RoPE(qkv)): a block per (batch, head), attention_forward_rope (kernel4's body) with one
// 16-row tile per warp and pass (MT = 1: the kernels' two tiles at once took the whole kernel to 255 registers and
// spills; now 217). Not inlined: being a device function's argument, not a kernel's, qkv is never read through the
// non-coherent (ld.global.nc) path, which could return the previous layer's values: qkv is rewritten by other blocks
// within this launch.
__device__ __noinline__ void fused_attention(bf16* smem, bf16* att, float* lse, bf16* qkv, const float* cos,
                                             const float* sin, int batch, int t, int nh) {
    for (int it = blockIdx.x; it < batch * nh; it += gridDim.x) {
        __syncthreads();  // the previous item's warps are done with the tile
        attention_forward_rope<bf16, false, 1>(smem, nullptr, att, lse, qkv, cos, sin, batch, t, nh, 0, it / nh,
                                               it % nh);
    }
}

// Stage timing for benchmarks: with stamps not null, thread 0 of block 0 records the global timer (ns) as stamp k.
HRM_DEVICE void fused_stamp(long long* stamps, int k) {
    if (stamps != nullptr && blockIdx.x == 0 && threadIdx.x == 0) stamps[k] = hrm_time_ns();
}

// A stage ends: the grid-wide barrier, then stamp k (the stage's slowest block plus the barrier, seen from block 0).
HRM_DEVICE void fused_sync(u32* bar, u32 nb, long long* stamps, int k) {
    grid_barrier(bar, nb);
    fused_stamp(stamps, k);
}

// Layer l's pointer of four (l < 4; no local-memory array indexed at run time).
HRM_DEVICE const bf16* fused_pick(int l, const bf16* p0, const bf16* p1, const bf16* p2, const bf16* p3) {
    return l == 0 ? p0 : l == 1 ? p1 : l == 2 ? p2 : p3;
}

extern "C" __global__ void __launch_bounds__(FUSED_THREADS, 1)
    module_forward_fused_kernel1(float* z,                       // (M, C) carry: in (FIRST), out (LAST)
                                 const void* inj,                // (M, C) fp32, or bf16 with FUSED_INJ_BF16
                                 float* x,                       // (M, C) scratch: the stream
                                 float* h1,                      // (M, C) scratch
                                 bf16* opb,                      // (M, C) bf16 scratch: GEMM operand
                                 bf16* qkv,                      // (M, 3C) bf16 scratch
                                 bf16* att,                      // (M, C) bf16 scratch
                                 bf16* prod,                     // (M, C) bf16 scratch
                                 bf16* act,                      // (M, I) bf16 scratch
                                 float* lse,                     // (B, NH, T) scratch
                                 float* rstd,                    // (M) scratch
                                 const float* __restrict__ cos,  // (T, 64), or null
                                 const float* __restrict__ sin,  // (T, 64), or null
                                 u32* bar,                       // (2) grid barrier
                                 long long* stamps,              // (7 layers + 2) stage clock stamps, or null
                                 const bf16* w0, const bf16* w1, const bf16* w2, const bf16* w3,
                                 const bf16* w4, const bf16* w5, const bf16* w6, const bf16* w7,
                                 const bf16* w8, const bf16* w9, const bf16* w10, const bf16* w11,
                                 const bf16* w12, const bf16* w13, const bf16* w14, const bf16* w15,
                                 int batch, int t, int nh, int inter, int layers, int flags, int ksplit,
                                 float eps) {
    extern __shared__ __align__(16) bf16 fused_smem[];
    float* red = reinterpret_cast<float*>(fused_smem);  // the GEMM stages' partial sums (the attention's tile else)
    int m = batch * t, c = nh * ATT_D;
    u32 nb = gridDim.x;
    fused_stamp(stamps, 0);
    int s0 = 1;  // the stamp after the layers' first stage, less 1 (stamp indices are computed: no live counter)
    if (flags & FUSED_FIRST) {  // x = z + inj, opb = bf16(x)
        i64 n = (i64)m * c;
        for (i64 i = (i64)blockIdx.x * FUSED_THREADS + threadIdx.x; i < n; i += (i64)nb * FUSED_THREADS) {
            float v = z[i] + ((flags & FUSED_INJ_BF16) ? bf16_to_f32(((const bf16*)inj)[i]) : ((const float*)inj)[i]);
            x[i] = v;
            opb[i] = f32_to_bf16(v);
        }
        fused_sync(bar, nb, stamps, 1);
        s0 = 2;
    }
    // The weights are picked where they are used (fused_pick), so that few values stay live across the stages (the
    // attention stage is a call, and the registers it needs are the kernel's most).
    for (int l = 0; l < layers; l++) {
        int st = s0 + 7 * l;
        fused_gemm<false>(qkv, opb, fused_pick(l, w0, w4, w8, w12), m, 3 * c, c, ksplit, red);
        fused_sync(bar, nb, stamps, st);
        fused_attention(fused_smem, att, lse, qkv, cos, sin, batch, t, nh);
        fused_sync(bar, nb, stamps, st + 1);
        fused_gemm<false>(prod, att, fused_pick(l, w1, w5, w9, w13), m, c, c, ksplit, red);
        fused_sync(bar, nb, stamps, st + 2);
        fused_add_rmsnorm(h1, opb, rstd, x, prod, m, c, eps);
        fused_sync(bar, nb, stamps, st + 3);
        fused_gemm<true>(act, opb, fused_pick(l, w2, w6, w10, w14), m, inter, c, ksplit, red);
        fused_sync(bar, nb, stamps, st + 4);
        fused_gemm<false>(prod, act, fused_pick(l, w3, w7, w11, w15), m, c, inter, ksplit, red);
        fused_sync(bar, nb, stamps, st + 5);
        bool last = (flags & FUSED_LAST) && l == layers - 1;
        fused_add_rmsnorm(last ? z : x, last ? nullptr : opb, rstd, h1, prod, m, c, eps);
        if (l + 1 < layers) fused_sync(bar, nb, stamps, st + 6);
    }
    fused_stamp(stamps, s0 + 7 * layers - 1);  // block 0's end (no barrier: the other blocks' last stage may still run)
}

// Grid barriers alone, `rounds` of them (hrm-bench gpu times them at the fused kernel's grid): bar as above.
extern "C" __global__ void __launch_bounds__(FUSED_THREADS, 1) grid_barrier_bench_kernel1(u32* bar, int rounds) {
    for (int r = 0; r < rounds; r++) grid_barrier(bar, gridDim.x);
}
