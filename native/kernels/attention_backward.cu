// attention_backward.cu — the backward of attention.cu's tensor-core attention (head size 64, kernel2 versions),
// mirroring CpuOps.AttentionBackward / ReferenceOps.AttentionBackward, and the dot pre-pass it shares with the fp32
// path (attention_f32.cu). For T <= 128 attention_backward_short.cu does all of it in one kernel.
//
// Math (per batch b, head h; scale = 0.125; s_ij = scale * q_i . k_j; lse the forward's):
//   P_ij = exp(s_ij - lse_i), D_i = dO_i . O_i, dS_ij = P_ij (dO_i . v_j - D_i) scale,
//   dQ_i = sum_j dS_ij k_j,   dK_j = sum_i dS_ij q_i,   dV_j = sum_i P_ij dO_i
// Q, K, V and dO are rounded to bf16 and multiplied on tensor cores (mma.sync m16n8k16, fp32 accumulate); lse, D and
// all outputs are fp32; P and dS are rounded to bf16 as mma operands (as FlashAttention 2). Expect about 1e-2
// relative agreement with the fp32/double references, not 1e-6.
//
// Buffers: qkv (B,T,3C) float = [Q | K | V] per row (the forward's, post-RoPE), head h at h*64 of each part;
//   out, dout (B,T,C) float; lse, dd (B,NH,T) float; dqkv (B,T,3C) float; C = NH*64; qkvh (3,B,NH,T,64) bf16
//   scratch (attention.cu's pack); doh (B,NH,T,64) bf16 scratch: dout packed per head.
// qkv, qkvh, doh must be 16-byte aligned, dqkv 8-byte aligned, dqkvh 4-byte aligned (device allocations and 256-byte
// sub-buffers are).
//
// Kernels, in launch order (static shared memory below 48 KiB):
//   backward  1. attention_pack_kernel2(qkvh, qkv, B, T, NH, 3)   (the recorded, post-RoPE qkv of the forward)
//             2. attention_backward_dot_kernel1(dd, doh, dout, out, B, T, NH, 64)  grid = ceil(B*T*NH/8), block = 256
//             3. attention_backward_dq_kernel2(dqkv, dqkvh, cos, sin, qkvh, doh, lse, dd, B, T, NH)
//             4. attention_backward_dkdv_kernel2(dqkv, dqkvh, cos, sin, qkvh, doh, lse, dd, B, T, NH)
//                grid = (ceil(T/64), NH, B), block = 128 (3 and 4)
//   3 writes the Q part and 4 the K and V parts of dqkv (=): together all of it. No atomics: deterministic.
//   With cos, sin (T, 64) not null, RoPE's backward is applied to dQ and dK as they are stored: bitwise
//   rope_backward_kernel1 run on dqkv afterwards (fused: one pass over dqkv fewer). dqkvh (B,T,3C) bf16, when not
//   null, gets bf16(dqkv) (RNE, as f32_to_bf16_kernel1): the q/k/v projection's backward GEMM operand.
//   Any T >= 1 (tails are masked). The fp32 path uses attention_backward_dot_kernel1 with doh = null and any HS.
//   For T <= 128 (Sudoku) 1-4 in one: attention_backward_kernel3 (fp32 post-RoPE qkv) or attention_backward_kernel4
//                (bf16 pre-RoPE qkv, rotated again as the forward did), in attention_backward_short.cu: the whole head
//                in one block from the unpacked buffers (bitwise the four kernels; dd and doh not written)
//
// Versions: kernel1 = the fp32 port (attention_f32.cu, any HS <= 128); kernel2 = this file: FlashAttention-2 style,
//   split into a dK/dV kernel (per 64-key block, loop over query tiles) and a dQ kernel (per 64-query block, loop over
//   key tiles) instead of dQ atomics; the tiles are attention_backward.cuh's, shared with attention_backward_short.cu.
#include "common.cuh"
#include "attention.cuh"
#include "attention_backward.cuh"

// dd[b, h, t] = dout[b, t, h*HS:] . out[b, t, h*HS:] (fp32 fma); doh = bf16(dout) per head when not null.
// One warp per (b, t, h): block = 256, grid = ceil(B*T*NH / 8). Any HS.
extern "C" __global__ void attention_backward_dot_kernel1(float* __restrict__ dd,          // (B, NH, T) =
                                                          bf16* __restrict__ doh,          // (B, NH, T, HS) = or null
                                                          const float* __restrict__ dout,  // (B, T, C)
                                                          const float* __restrict__ out,   // (B, T, C)
                                                          int batch, int t, int nh, int hs) {
    int w = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (w >= batch * t * nh) return;
    int row = w / nh, h = w % nh, b = row / t, tt = row % t;
    i64 o = (i64)row * nh * hs + h * hs, head = ((i64)b * nh + h) * t + tt;
    float s = 0.0f;
    for (int d = lane; d < hs; d += 32) {
        float g = dout[o + d];
        s = fmaf(g, out[o + d], s);
        if (doh != nullptr) doh[head * hs + d] = f32_to_bf16(g);
    }
    s = warp_sum(s);
    if (lane == 0) dd[head] = s;
}

// Block (q-block, h, b): 64 queries, 4 warps x 16 rows; loops over 64-key tiles: S = Q K^T, dP = dO V^T,
// dS = P (dP - D), dQ += dS K; dQ * scale written to the Q part of dqkv.
extern "C" __global__ void __launch_bounds__(ATT_THREADS, ATT_DQ_MIN_BLOCKS)
    attention_backward_dq_kernel2(float* __restrict__ dqkv,        // (B, T, 3C) Q part =
                                  bf16* __restrict__ dqkvh,        // (B, T, 3C) bf16 Q part = bf16(dqkv), or null
                                  const float* __restrict__ cos,   // (T, 64) RoPE's table, or null: no RoPE
                                  const float* __restrict__ sin,   // (T, 64) (read only with cos)
                                  const bf16* __restrict__ qkvh,   // (3, B, NH, T, 64) bf16
                                  const bf16* __restrict__ doh,    // (B, NH, T, 64) bf16
                                  const float* __restrict__ lse,   // (B, NH, T)
                                  const float* __restrict__ dd,    // (B, NH, T)
                                  int batch, int t, int nh) {
    __shared__ __align__(16) bf16 smem[2 * ATT_STAGE_BYTES / 2];  // 2 stages x (K, V); Q, dO first sit in stage 1
    int b = blockIdx.z, h = blockIdx.y, q0 = blockIdx.x * ATT_BWD_BM;
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2;
    i64 bh = (i64)b * nh + h, head = (i64)t * ATT_D, parts = (i64)batch * nh * head;
    const bf16* Q = qkvh + bh * head;
    const bf16* K = Q + parts;
    const bf16* V = K + parts;
    u32 s0 = smem_u32(smem);
    load_rows<ATT_BN>(s0 + ATT_STAGE_BYTES, Q, q0, t);
    load_rows<ATT_BN>(s0 + ATT_STAGE_BYTES + ATT_TILE_BYTES, doh + bh * head, q0, t);
    load_rows<ATT_BN>(s0, K, 0, t);
    load_rows<ATT_BN>(s0 + ATT_TILE_BYTES, V, 0, t);
    cp_async_commit();
    cp_async_wait_all();
    __syncthreads();
    u32 qf[4][4], of[4][4];
    load_a_frags(qf, s0 + ATT_STAGE_BYTES, warp * 16);
    load_a_frags(of, s0 + ATT_STAGE_BYTES + ATT_TILE_BYTES, warp * 16);
    __syncthreads();

    float l2[2], dr[2];  // lse * log2(e) and D of rows g, g + 8 (padding rows: +inf and 0, so P = dS = 0)
#pragma unroll
    for (int hh = 0; hh < 2; hh++) {
        int row = q0 + warp * 16 + g + hh * 8;
        l2[hh] = row < t ? lse[bh * t + row] * HRM_LOG2E : __int_as_float(0x7f800000);
        dr[hh] = row < t ? dd[bh * t + row] : 0.0f;
    }
    float dq[8][4];
    zero_acc(dq);
    int tiles = (t + ATT_BN - 1) / ATT_BN;
    for (int j = 0; j < tiles; j++) {
        u32 cur = s0 + (j & 1) * ATT_STAGE_BYTES;
        if (j + 1 < tiles) {
            u32 nxt = s0 + ((j + 1) & 1) * ATT_STAGE_BYTES;
            load_rows<ATT_BN>(nxt, K, (j + 1) * ATT_BN, t);
            load_rows<ATT_BN>(nxt + ATT_TILE_BYTES, V, (j + 1) * ATT_BN, t);
        }
        cp_async_commit();
        attention_dq_tile(dq, qf, of, l2, dr, cur, cur + ATT_TILE_BYTES, j * ATT_BN, t);
        cp_async_wait_all();
        __syncthreads();
    }
    i64 at = (i64)b * t * 3 * nh * ATT_D + h * ATT_D;
    store_acc_rope_backward(dqkv + at, (i64)3 * nh * ATT_D, q0 + warp * 16, t, dq, 0.125f, cos, sin,
                            dqkvh ? dqkvh + at : nullptr);
}

// lse and D of queries [i0, i0 + 64) -> sl, sd (64 floats each) with cp.async; threads 0..63 copy lse, 64..127 D.
__device__ __forceinline__ void load_stats(float* sl, float* sd, const float* lse, const float* dd, int i0, int t) {
    int k = threadIdx.x & 63;
    bool ok = i0 + k < t, isLse = threadIdx.x < 64;
    cp_async_4(smem_u32((isLse ? sl : sd) + k), (isLse ? lse : dd) + (ok ? i0 + k : 0), ok);
}

// Block (k-block, h, b): 64 keys, 4 warps x 16 keys; loops over 64-query tiles: S^T = K Q^T, P^T, dV += P^T dO,
// dP^T = V dO^T, dS^T = P^T (dP^T - D), dK += dS^T Q; dK * scale and dV written to the K and V parts of dqkv.
extern "C" __global__ void __launch_bounds__(ATT_THREADS, ATT_DKDV_MIN_BLOCKS)
    attention_backward_dkdv_kernel2(float* __restrict__ dqkv,        // (B, T, 3C) K and V parts =
                                    bf16* __restrict__ dqkvh,        // (B, T, 3C) bf16 K, V parts = bf16(dqkv), or null
                                    const float* __restrict__ cos,   // (T, 64) RoPE's table, or null: no RoPE
                                    const float* __restrict__ sin,   // (T, 64) (read only with cos)
                                    const bf16* __restrict__ qkvh,   // (3, B, NH, T, 64) bf16
                                    const bf16* __restrict__ doh,    // (B, NH, T, 64) bf16
                                    const float* __restrict__ lse,   // (B, NH, T)
                                    const float* __restrict__ dd,    // (B, NH, T)
                                    int batch, int t, int nh) {
    __shared__ __align__(16) bf16 smem[2 * ATT_STAGE_BYTES / 2];  // 2 stages x (Q, dO); K, V first sit in stage 1
    __shared__ float sl[2][ATT_BN], sd[2][ATT_BN];                // lse and D of the query tile, per stage
    int b = blockIdx.z, h = blockIdx.y, k0 = blockIdx.x * ATT_BWD_BM;
    int warp = threadIdx.x >> 5;
    i64 bh = (i64)b * nh + h, head = (i64)t * ATT_D, parts = (i64)batch * nh * head;
    const bf16* Q = qkvh + bh * head;
    const bf16* K = Q + parts;
    const bf16* V = K + parts;
    const bf16* dO = doh + bh * head;
    const float* L = lse + bh * t;
    const float* D = dd + bh * t;
    u32 s0 = smem_u32(smem);
    load_rows<ATT_BN>(s0 + ATT_STAGE_BYTES, K, k0, t);
    load_rows<ATT_BN>(s0 + ATT_STAGE_BYTES + ATT_TILE_BYTES, V, k0, t);
    load_rows<ATT_BN>(s0, Q, 0, t);
    load_rows<ATT_BN>(s0 + ATT_TILE_BYTES, dO, 0, t);
    load_stats(sl[0], sd[0], L, D, 0, t);
    cp_async_commit();
    cp_async_wait_all();
    __syncthreads();
    u32 kf[4][4], vf[4][4];
    load_a_frags(kf, s0 + ATT_STAGE_BYTES, warp * 16);
    load_a_frags(vf, s0 + ATT_STAGE_BYTES + ATT_TILE_BYTES, warp * 16);
    __syncthreads();

    float dk[8][4], dv[8][4];
    zero_acc(dk);
    zero_acc(dv);
    int tiles = (t + ATT_BN - 1) / ATT_BN;
    for (int i = 0; i < tiles; i++) {
        int st = i & 1;
        u32 cur = s0 + st * ATT_STAGE_BYTES;
        if (i + 1 < tiles) {
            u32 nxt = s0 + (st ^ 1) * ATT_STAGE_BYTES;
            load_rows<ATT_BN>(nxt, Q, (i + 1) * ATT_BN, t);
            load_rows<ATT_BN>(nxt + ATT_TILE_BYTES, dO, (i + 1) * ATT_BN, t);
            load_stats(sl[st ^ 1], sd[st ^ 1], L, D, (i + 1) * ATT_BN, t);
        }
        cp_async_commit();
        attention_dkdv_tile(dk, dv, kf, vf, sl[st], sd[st], cur, cur + ATT_TILE_BYTES, i * ATT_BN, t);
        cp_async_wait_all();
        __syncthreads();
    }
    i64 at = (i64)b * t * 3 * nh * ATT_D + h * ATT_D;
    bf16* hbase = dqkvh ? dqkvh + at : nullptr;
    store_acc_rope_backward(dqkv + at + nh * ATT_D, (i64)3 * nh * ATT_D, k0 + warp * 16, t, dk, 0.125f, cos, sin,
                            hbase ? hbase + nh * ATT_D : nullptr);
    store_acc(dqkv + at + 2 * nh * ATT_D, (i64)3 * nh * ATT_D, k0 + warp * 16, t, dv, 1.0f, 1.0f,
              hbase ? hbase + 2 * nh * ATT_D : nullptr);
}
