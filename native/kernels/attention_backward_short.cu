// attention_backward_short.cu — the whole attention backward of one (batch, head) in one block, for T <= 128
// (Sudoku's T = 82): the pack, the dot pre-pass and the dQ and dK/dV kernels of attention_backward.cu's split path
// (attention_pack_kernel2, attention_backward_dot_kernel1, attention_backward_dq_kernel2,
// attention_backward_dkdv_kernel2) in one launch, with every load of the block in one batch and each row read once.
// Math, tiling and buffers: attention_backward.cu.
//
// kernel3 reads the recorded qkv of attention_forward_rope_kernel3 (fp32, Q and K rotated in place); kernel4 the bf16
// qkv of attention_forward_rope_kernel4/6 (the GEMM's bf16 product, never rotated in memory: CudaBackend's
// Bf16RecordedQkv), which it rotates again exactly as those forwards rotate it (the stored bf16 widened, RoPE in fp32,
// rounded to bf16 for the tiles), so its tiles are bitwise the forward's and bitwise kernel3's on an fp32 qkv holding
// the rotated values. From there both run the same code: Q, K, V as bf16 tiles (as attention_pack_kernel2 converts
// them), dO as attention_backward_dot_kernel1 converts it, D_i = dO_i . O_i summed in that kernel's order; then the
// dQ blocks and the dK/dV blocks of the split kernels one after another on the resident tiles (the same tile functions
// in the same order), so dqkv and dqkvh are bitwise the split path's. dd and the doh scratch are not written. kernel4
// is the LEAN form (168 registers: 3 resident blocks per SM on sm_90; kernel3 236, 2): Q and K loaded one after the
// other, and each dK/dV block sums dV first and dK after it, computing P^T twice (the same values, the same sums).
//
// Block (0, h, b): grid = (1, NH, B), block = 128, dynamic smem ATT_BWD3_SMEM (74,752 bytes: the host raises the
// limit). qkv 16-byte (kernel3, float4 loads) or 8-byte (kernel4) aligned, dqkv 8-byte and dqkvh 4-byte aligned.
// dqkv may be null when dqkvh is not (kernel3 and 4): the gradient in bf16 only (a bf16 dqkv buffer, which only the
// q/k/v projection's backward GEMM reads).
#include "common.cuh"
#include "attention.cuh"
#include "attention_backward.cuh"

// Dynamic shared memory of the kernels: Q, K, V, dO of up to 128 rows (bf16, ATT_LD stride), then lse and D of those
// rows (floats).
#define ATT_BWD3_SMEM (4 * 2 * ATT_TILE_BYTES + 2 * ATT_FWD_BM * 4)
// kernel4's resident blocks per SM: as many as the shared memory holds (74,752 + 1,024 reserved bytes a block): 3 on
// 228 KiB (sm_90, sm_100: 168 registers, LEAN, no spill), 2 on 164 KiB (sm_80, sm_87), 1 on 100 KiB (sm_86, sm_89,
// sm_12x). A bound of 3 everywhere capped the kernel at 168 registers for an occupancy the shared memory never allows
// there, and NVRTC 11.8's ptxas spilled 8 bytes on sm_86, sm_87 and sm_89.
#ifndef ATT_BWD4_MIN_BLOCKS
#if defined(__CUDA_ARCH__) && (__CUDA_ARCH__ == 860 || __CUDA_ARCH__ == 890 || __CUDA_ARCH__ >= 1200)
#define ATT_BWD4_MIN_BLOCKS 1
#elif defined(__CUDA_ARCH__) && (__CUDA_ARCH__ == 800 || __CUDA_ARCH__ == 870)
#define ATT_BWD4_MIN_BLOCKS 2
#else
#define ATT_BWD4_MIN_BLOCKS 3
#endif
#endif

// The tiles of one head: Q, K, V (rows >= t zero) into sQ, sK, sV as bf16, Q and K rotated first when cos is not null
// (ROTATE: kernel4; kernel3's qkv holds them rotated), dO into sO as bf16, lse and D of the 128 rows into sl, sd
// (0 past T). Q and K in one batch of loads, or (LEAN) one after the other (half the registers). Ends with the block's
// barrier.
template <typename T, bool ROTATE, bool LEAN>
HRM_DEVICE void attention_backward_load(bf16* sQ, bf16* sK, bf16* sV, bf16* sO, float* sl, float* sd,
                                        const float* __restrict__ cos, const float* __restrict__ sin,
                                        const T* __restrict__ qkv, const float* __restrict__ dout,
                                        const float* __restrict__ out, const float* __restrict__ lse, int b, int h,
                                        int t, int nh) {
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    i64 c = (i64)nh * ATT_D, stride = 3 * c, bh = (i64)b * nh + h;
    const float* rc = ROTATE ? cos : nullptr;
    const float* rs = ROTATE ? sin : nullptr;
    T* Q = const_cast<T*>(qkv) + (i64)b * t * stride + h * ATT_D;  // read only: keep = 0 below
    {  // Q and K in one batch of loads (or one after the other), then V (as the pack: pack_bf16x2; rows >= t zero)
        RopeRows<ATT_FWD_BM> q, k;
        rope_rows_load(q, Q, stride, 0, t);
        if (LEAN) rope_rows_store(sQ, q, Q, stride, 0, t, rc, rs, 0);
        rope_rows_load(k, Q + c, stride, 0, t);
        if (!LEAN) rope_rows_store(sQ, q, Q, stride, 0, t, rc, rs, 0);
        rope_rows_store(sK, k, Q + c, stride, 0, t, rc, rs, 0);
    }
    {
        RopeRows<ATT_FWD_BM> v;
        rope_rows_load(v, Q + 2 * c, stride, 0, t);
        rope_rows_store(sV, v, Q + 2 * c, stride, 0, t, nullptr, nullptr, 0);
    }
    // dO and D: warp w takes rows w, w + 4, ... (one warp per row as the dot kernel: lane d and d + 32), 8 rows' loads
    // at a time; rows >= t: dO zero, lse and D 0.
    const float* G = dout + (i64)b * t * c + h * ATT_D;
    const float* O = out + (i64)b * t * c + h * ATT_D;
#pragma unroll 1
    for (int r0 = warp; r0 < ATT_FWD_BM; r0 += 8 * ATT_WARPS) {
        float g0[8], g1[8], o0[8], o1[8];
#pragma unroll
        for (int u = 0; u < 8; u++) {
            i64 at = (i64)min(r0 + u * ATT_WARPS, t - 1) * c;
            g0[u] = G[at + lane];
            g1[u] = G[at + lane + 32];
            o0[u] = O[at + lane];
            o1[u] = O[at + lane + 32];
        }
#pragma unroll
        for (int u = 0; u < 8; u++) {
            int r = r0 + u * ATT_WARPS;
            bool ok = r < t;
            float s = warp_sum(fmaf(g1[u], o1[u], fmaf(g0[u], o0[u], 0.0f)));
            sO[r * ATT_LD + lane] = ok ? f32_to_bf16(g0[u]) : (bf16)0;
            sO[r * ATT_LD + lane + 32] = ok ? f32_to_bf16(g1[u]) : (bf16)0;
            if (lane == 0) {
                sd[r] = ok ? s : 0.0f;
                sl[r] = ok ? lse[bh * t + r] : 0.0f;
            }
        }
    }
    __syncthreads();
}

// The backward of head (b, h) from its resident tiles: the dQ blocks, then the dK/dV blocks of the split kernels, each
// warp 16 rows of each 64-row block; dQ, dK (RoPE's backward applied when cos is not null) and dV stored into dqkv
// (or null) and dqkvh (or null). LEAN: each dK/dV block sums dV over the query tiles first, then dK (P^T computed
// twice, bitwise alike; dV and dK summed in the same order as together): fewer registers, one S^T product more.
template <bool LEAN>
HRM_DEVICE void attention_backward_resident(float* dqkv, bf16* dqkvh, const float* __restrict__ cos,
                                            const float* __restrict__ sin, const bf16* sQ, const bf16* sK,
                                            const bf16* sV, const bf16* sO, const float* sl, const float* sd, int b,
                                            int h, int t, int nh) {
    int warp = threadIdx.x >> 5, g = (threadIdx.x & 31) >> 2;
    i64 c = (i64)nh * ATT_D, stride = 3 * c, at = (i64)b * t * stride + h * ATT_D;
    int tiles = (t + ATT_BN - 1) / ATT_BN;  // 1 or 2
    u32 q_s = smem_u32(sQ), k_s = smem_u32(sK), v_s = smem_u32(sV), o_s = smem_u32(sO);
    float* base = dqkv ? dqkv + at : nullptr;
    bf16* hbase = dqkvh ? dqkvh + at : nullptr;
    for (int qb = 0; qb < tiles; qb++) {  // the dQ blocks
        int q0 = qb * ATT_BN + warp * 16;
        if (q0 >= t) continue;  // no row of this warp below T (no barrier follows)
        u32 qf[4][4], of[4][4];
        load_a_frags(qf, q_s, q0);
        load_a_frags(of, o_s, q0);
        float l2[2], dr[2];
#pragma unroll
        for (int hh = 0; hh < 2; hh++) {  // as the dq kernel: padding rows +inf and 0, so P = dS = 0
            int row = q0 + g + hh * 8;
            l2[hh] = row < t ? sl[row] * HRM_LOG2E : __int_as_float(0x7f800000);
            dr[hh] = row < t ? sd[row] : 0.0f;
        }
        float dq[8][4];
        zero_acc(dq);
        for (int j = 0; j < tiles; j++)
            attention_dq_tile(dq, qf, of, l2, dr, k_s + j * ATT_TILE_BYTES, v_s + j * ATT_TILE_BYTES, j * ATT_BN, t);
        store_acc_rope_backward(base, stride, q0, t, dq, 0.125f, cos, sin, hbase);
    }
    for (int kb = 0; kb < tiles; kb++) {  // the dK/dV blocks
        int k0 = kb * ATT_BN + warp * 16;
        if (k0 >= t) continue;
        u32 kf[4][4], vf[4][4];
        load_a_frags(kf, k_s, k0);
        float dk[8][4], dv[8][4];
        zero_acc(dv);
        if (LEAN) {  // dV over every query tile, stored, then dK: half the accumulators live at a time
            for (int i = 0; i < tiles; i++)
                attention_dv_tile(dv, kf, sl + i * ATT_BN, q_s + i * ATT_TILE_BYTES, o_s + i * ATT_TILE_BYTES,
                                  i * ATT_BN, t);
            store_acc(base ? base + 2 * c : nullptr, stride, k0, t, dv, 1.0f, 1.0f, hbase ? hbase + 2 * c : nullptr);
        }
        load_a_frags(vf, v_s, k0);
        zero_acc(dk);
        for (int i = 0; i < tiles; i++) {
            if (LEAN) {
                attention_dk_tile(dk, kf, vf, sl + i * ATT_BN, sd + i * ATT_BN, q_s + i * ATT_TILE_BYTES,
                                  o_s + i * ATT_TILE_BYTES, i * ATT_BN, t);
            } else {
                attention_dkdv_tile(dk, dv, kf, vf, sl + i * ATT_BN, sd + i * ATT_BN, q_s + i * ATT_TILE_BYTES,
                                    o_s + i * ATT_TILE_BYTES, i * ATT_BN, t);
            }
        }
        store_acc_rope_backward(base ? base + c : nullptr, stride, k0, t, dk, 0.125f, cos, sin,
                                hbase ? hbase + c : nullptr);
        if (!LEAN)
            store_acc(base ? base + 2 * c : nullptr, stride, k0, t, dv, 1.0f, 1.0f, hbase ? hbase + 2 * c : nullptr);
    }
}

// The body of both kernels: smem as ATT_BWD3_SMEM lays it out (a matrix: 128 rows, two 64-row tiles). LEAN: the
// form that fits 168 registers (3 resident blocks per SM), bitwise the other.
template <typename T, bool ROTATE, bool LEAN>
HRM_DEVICE void attention_backward_head(bf16* dsm, float* dqkv, bf16* dqkvh, const float* __restrict__ cos,
                                        const float* __restrict__ sin, const T* __restrict__ qkv,
                                        const float* __restrict__ dout, const float* __restrict__ out,
                                        const float* __restrict__ lse, int t, int nh) {
    if (t > ATT_FWD_BM) return;  // the host launches these kernels for T <= 128 only
    const int matElems = 2 * (ATT_TILE_BYTES / 2);
    bf16* sQ = dsm;
    bf16* sK = sQ + matElems;
    bf16* sV = sK + matElems;
    bf16* sO = sV + matElems;
    float* sl = reinterpret_cast<float*>(sO + matElems);  // lse of the 128 rows (0 past T)
    float* sd = sl + ATT_FWD_BM;                          // D of the 128 rows (0 past T)
    int b = blockIdx.z, h = blockIdx.y;
    attention_backward_load<T, ROTATE, LEAN>(sQ, sK, sV, sO, sl, sd, cos, sin, qkv, dout, out, lse, b, h, t, nh);
    attention_backward_resident<LEAN>(dqkv, dqkvh, cos, sin, sQ, sK, sV, sO, sl, sd, b, h, t, nh);
}

// The recorded fp32 qkv (post-RoPE: attention_forward_rope_kernel3 rotated it in place).
extern "C" __global__ void __launch_bounds__(ATT_THREADS, ATT_DKDV_MIN_BLOCKS)
    attention_backward_kernel3(float* __restrict__ dqkv,        // (B, T, 3C) =, or null (dqkvh only)
                               bf16* __restrict__ dqkvh,        // (B, T, 3C) bf16 = bf16(dqkv), or null
                               const float* __restrict__ cos,   // (T, 64) RoPE's table, or null: no RoPE
                               const float* __restrict__ sin,   // (T, 64) (read only with cos)
                               const float* __restrict__ qkv,   // (B, T, 3C) the recorded (post-RoPE) q, k, v
                               const float* __restrict__ dout,  // (B, T, C)
                               const float* __restrict__ out,   // (B, T, C) the forward's output
                               const float* __restrict__ lse,   // (B, NH, T)
                               int batch, int t, int nh) {
    extern __shared__ __align__(16) bf16 dsm[];
    attention_backward_head<float, false, false>(dsm, dqkv, dqkvh, cos, sin, qkv, dout, out, lse, t, nh);
}

// The recorded bf16 qkv (pre-RoPE: attention_forward_rope_kernel4/6 read it and never wrote it), rotated with cos,
// sin as those forwards rotate it; the same arguments otherwise. The LEAN form at as many resident blocks per SM as
// shared memory allows (ATT_BWD4_MIN_BLOCKS: sm_90 3 x 74,752 bytes, sm_80 2), against kernel3's 2: these short heads
// are bound by memory latency, which more resident blocks hide.
extern "C" __global__ void __launch_bounds__(ATT_THREADS, ATT_BWD4_MIN_BLOCKS)
    attention_backward_kernel4(float* __restrict__ dqkv,        // (B, T, 3C) =, or null (dqkvh only)
                               bf16* __restrict__ dqkvh,        // (B, T, 3C) bf16 = bf16(dqkv), or null
                               const float* __restrict__ cos,   // (T, 64) RoPE's table, or null: no RoPE
                               const float* __restrict__ sin,   // (T, 64) (read only with cos)
                               const bf16* __restrict__ qkv,    // (B, T, 3C) bf16, the GEMM's product (pre-RoPE)
                               const float* __restrict__ dout,  // (B, T, C)
                               const float* __restrict__ out,   // (B, T, C) the forward's output
                               const float* __restrict__ lse,   // (B, NH, T)
                               int batch, int t, int nh) {
    extern __shared__ __align__(16) bf16 dsm[];
    attention_backward_head<bf16, true, true>(dsm, dqkv, dqkvh, cos, sin, qkv, dout, out, lse, t, nh);
}
