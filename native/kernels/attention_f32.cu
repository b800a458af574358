// attention_f32.cu — non-causal softmax attention in fp32 for any head size HS <= 128 (HrmOp.Attention, kernel1
// versions: the plain port of CpuOps.Attention / ReferenceOps.Attention). Used when HS != 64 (the small presets use
// HS 16 and 32), and usable for HS = 64 when fp32 accuracy is wanted (tests).
//
// Math (per batch b, head h; scale = (float)(1 / sqrt((double)HS)); s_ij = scale * q_i . k_j over all j < T):
//   forward:  online softmax over key tiles: out_i = sum_j exp(s_ij - m_i) v_j / l_i,  lse_i = m_i + log(l_i)
//   backward: p_ij = exp(s_ij - lse_i), D_i = dO_i . O_i (from attention_backward_dot_kernel1 in attention_backward.cu,
//             doh = null), ds_ij = p_ij (dO_i . v_j - D_i) scale,
//             dQ_i = sum_j ds_ij k_j,  dK_j = sum_i ds_ij q_i,  dV_j = sum_i p_ij dO_i
//   All fp32 with the accurate expf/logf; sums in a different order than the CPU (agreement ~1e-6 relative).
//
// Buffers: qkv (B,T,3C) float = [Q | K | V] per row, head h at h*HS; out, dout (B,T,C) float; lse, dd (B,NH,T)
//   float; dqkv (B,T,3C) float. C = NH*HS. Outputs are written (=); dq writes the Q part of dqkv, dkdv the K and V
//   parts, so the two kernels together write all of dqkv. Deterministic (no atomics). Any T >= 1.
//
// Launch: block = 128 (4 warps; each warp owns 4 query rows, or 4 key rows in dkdv), grid = (ceil(T/16), NH, B),
// dynamic shared memory (bytes), with KS = HS | 1 (odd row stride, conflict-free column reads):
//   attention_forward_kernel1        4 * (16*HS + 32*KS + 32*HS)
//   attention_backward_dq_kernel1    4 * (32*HS + 64*KS)
//   attention_backward_dkdv_kernel1  4 * (32*HS + 64*KS + 64)
// (above 48 KiB only for HS > 120 in the backward: set CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES then).
// Backward order: attention_backward_dot_kernel1 (dd), then dq and dkdv (either order).
//
// Versions: kernel1 = this file; kernel2 = the HS = 64 tensor-core path in attention.cu and
// attention_backward.cu.
#include "common.cuh"

#define AF_QPW 4                      // rows (queries; keys in dkdv) per warp
#define AF_WARPS 4
#define AF_ROWS (AF_QPW * AF_WARPS)   // rows per block
#define AF_TILE 32                    // inner tile: one key (query in dkdv) per lane
#define AF_MAXD 4                     // HS <= 32 * AF_MAXD
#define AF_INF __int_as_float(0x7f800000)

__device__ __forceinline__ float af_scale(int hs) { return (float)(1.0 / sqrt((double)hs)); }

// smem (nrows x ld) <- rows [row0, row0 + nrows) of a strided fp32 matrix (HS columns); rows >= t are zero.
__device__ __forceinline__ void af_load(float* s, int ld, const float* src, i64 stride, int row0, int nrows,
                                        int t, int hs) {
    for (int i = threadIdx.x; i < nrows * hs; i += blockDim.x) {
        int r = i / hs, d = i - r * hs, row = row0 + r;
        s[r * ld + d] = row < t ? src[row * stride + d] : 0.0f;
    }
}

// Block (16 queries, h, b), warp = 4 queries, lane = key of a 32-key tile; online softmax in fp32.
// grid = (ceil(T / 16), NH, B), block = 128, dynamic smem = 4 * (16*HS + 32*KS + 32*HS).
extern "C" __global__ void __launch_bounds__(128, 6)
    attention_forward_kernel1(float* __restrict__ out,        // (B, T, C) =
                              float* __restrict__ lse,        // (B, NH, T) =
                              const float* __restrict__ qkv,  // (B, T, 3C)
                              int batch, int t, int nh, int hs) {
    extern __shared__ float sm[];
    int ks = hs | 1;
    float* sQ = sm;                   // (16, HS)
    float* sK = sQ + AF_ROWS * hs;    // (32, KS)
    float* sV = sK + AF_TILE * ks;    // (32, HS)
    int b = blockIdx.z, h = blockIdx.y, r0 = blockIdx.x * AF_ROWS, warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    i64 c = (i64)nh * hs, stride = 3 * c;
    const float* base = qkv + (i64)b * t * stride + (i64)h * hs;
    float scale = af_scale(hs);
    af_load(sQ, hs, base, stride, r0, AF_ROWS, t, hs);
    float o[AF_QPW][AF_MAXD], m[AF_QPW], l[AF_QPW];
#pragma unroll
    for (int r = 0; r < AF_QPW; r++) {
        m[r] = -AF_INF;
        l[r] = 0.0f;
#pragma unroll
        for (int k = 0; k < AF_MAXD; k++) o[r][k] = 0.0f;
    }
    for (int j0 = 0; j0 < t; j0 += AF_TILE) {
        __syncthreads();
        af_load(sK, ks, base + c, stride, j0, AF_TILE, t, hs);
        af_load(sV, hs, base + 2 * c, stride, j0, AF_TILE, t, hs);
        __syncthreads();
        bool valid = j0 + lane < t;
        float s[AF_QPW];
#pragma unroll
        for (int r = 0; r < AF_QPW; r++) s[r] = 0.0f;
        for (int d = 0; d < hs; d++) {
            float kd = sK[lane * ks + d];
#pragma unroll
            for (int r = 0; r < AF_QPW; r++) s[r] = fmaf(sQ[(warp * AF_QPW + r) * hs + d], kd, s[r]);
        }
#pragma unroll
        for (int r = 0; r < AF_QPW; r++) {
            float x = valid ? s[r] * scale : -AF_INF;
            float mnew = fmaxf(m[r], warp_max(x));
            float p = valid ? expf(x - mnew) : 0.0f;
            float alpha = expf(m[r] - mnew);  // 0 on the first tile (m = -inf)
            l[r] = l[r] * alpha + warp_sum(p);
            m[r] = mnew;
            s[r] = p;
#pragma unroll
            for (int k = 0; k < AF_MAXD; k++) o[r][k] *= alpha;
        }
        int n = min(AF_TILE, t - j0);
        for (int jj = 0; jj < n; jj++) {
#pragma unroll
            for (int k = 0; k < AF_MAXD; k++) {
                int d = lane + 32 * k;
                float v = d < hs ? sV[jj * hs + d] : 0.0f;
#pragma unroll
                for (int r = 0; r < AF_QPW; r++) o[r][k] = fmaf(__shfl_sync(HRM_FULL_MASK, s[r], jj), v, o[r][k]);
            }
        }
    }
#pragma unroll
    for (int r = 0; r < AF_QPW; r++) {
        int row = r0 + warp * AF_QPW + r;
        if (row >= t) continue;
        float inv = 1.0f / l[r];
        float* orow = out + ((i64)b * t + row) * c + (i64)h * hs;
#pragma unroll
        for (int k = 0; k < AF_MAXD; k++)
            if (lane + 32 * k < hs) orow[lane + 32 * k] = o[r][k] * inv;
        if (lane == 0) lse[((i64)b * nh + h) * t + row] = m[r] + logf(l[r]);
    }
}

// Block (16 queries, h, b), lane = key of a 32-key tile: dQ_i = sum_j ds_ij k_j.
// grid = (ceil(T / 16), NH, B), block = 128, dynamic smem = 4 * (32*HS + 64*KS).
extern "C" __global__ void __launch_bounds__(128, 6)
    attention_backward_dq_kernel1(float* __restrict__ dqkv,        // (B, T, 3C) Q part =
                                  const float* __restrict__ dout,  // (B, T, C)
                                  const float* __restrict__ qkv,   // (B, T, 3C)
                                  const float* __restrict__ lse,   // (B, NH, T)
                                  const float* __restrict__ dd,    // (B, NH, T)
                                  int batch, int t, int nh, int hs) {
    extern __shared__ float sm[];
    int ks = hs | 1;
    float* sQ = sm;                    // (16, HS)
    float* sO = sQ + AF_ROWS * hs;     // (16, HS) dout rows
    float* sK = sO + AF_ROWS * hs;     // (32, KS)
    float* sV = sK + AF_TILE * ks;     // (32, KS)
    int b = blockIdx.z, h = blockIdx.y, r0 = blockIdx.x * AF_ROWS, warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    i64 c = (i64)nh * hs, stride = 3 * c, bh = (i64)b * nh + h;
    const float* base = qkv + (i64)b * t * stride + (i64)h * hs;
    float scale = af_scale(hs);
    af_load(sQ, hs, base, stride, r0, AF_ROWS, t, hs);
    af_load(sO, hs, dout + (i64)b * t * c + (i64)h * hs, c, r0, AF_ROWS, t, hs);
    float lr[AF_QPW], dr[AF_QPW], dq[AF_QPW][AF_MAXD];
#pragma unroll
    for (int r = 0; r < AF_QPW; r++) {
        int row = r0 + warp * AF_QPW + r;
        lr[r] = row < t ? lse[bh * t + row] : AF_INF;  // padding rows: p = 0
        dr[r] = row < t ? dd[bh * t + row] : 0.0f;
#pragma unroll
        for (int k = 0; k < AF_MAXD; k++) dq[r][k] = 0.0f;
    }
    for (int j0 = 0; j0 < t; j0 += AF_TILE) {
        __syncthreads();
        af_load(sK, ks, base + c, stride, j0, AF_TILE, t, hs);
        af_load(sV, ks, base + 2 * c, stride, j0, AF_TILE, t, hs);
        __syncthreads();
        bool valid = j0 + lane < t;
        float s[AF_QPW], dp[AF_QPW];
#pragma unroll
        for (int r = 0; r < AF_QPW; r++) s[r] = dp[r] = 0.0f;
        for (int d = 0; d < hs; d++) {
            float kd = sK[lane * ks + d], vd = sV[lane * ks + d];
#pragma unroll
            for (int r = 0; r < AF_QPW; r++) {
                s[r] = fmaf(sQ[(warp * AF_QPW + r) * hs + d], kd, s[r]);
                dp[r] = fmaf(sO[(warp * AF_QPW + r) * hs + d], vd, dp[r]);
            }
        }
#pragma unroll
        for (int r = 0; r < AF_QPW; r++) {
            float p = valid ? expf(s[r] * scale - lr[r]) : 0.0f;
            s[r] = p * (dp[r] - dr[r]) * scale;  // ds
        }
        int n = min(AF_TILE, t - j0);
        for (int jj = 0; jj < n; jj++) {
#pragma unroll
            for (int k = 0; k < AF_MAXD; k++) {
                int d = lane + 32 * k;
                float kv = d < hs ? sK[jj * ks + d] : 0.0f;
#pragma unroll
                for (int r = 0; r < AF_QPW; r++) dq[r][k] = fmaf(__shfl_sync(HRM_FULL_MASK, s[r], jj), kv, dq[r][k]);
            }
        }
    }
#pragma unroll
    for (int r = 0; r < AF_QPW; r++) {
        int row = r0 + warp * AF_QPW + r;
        if (row >= t) continue;
        float* drow = dqkv + ((i64)b * t + row) * stride + (i64)h * hs;
#pragma unroll
        for (int k = 0; k < AF_MAXD; k++)
            if (lane + 32 * k < hs) drow[lane + 32 * k] = dq[r][k];
    }
}

// Block (16 keys, h, b), lane = query of a 32-query tile: dK_j = sum_i ds_ij q_i, dV_j = sum_i p_ij dO_i.
// grid = (ceil(T / 16), NH, B), block = 128, dynamic smem = 4 * (32*HS + 64*KS + 64).
extern "C" __global__ void __launch_bounds__(128, 6)
    attention_backward_dkdv_kernel1(float* __restrict__ dqkv,        // (B, T, 3C) K and V parts =
                                    const float* __restrict__ dout,  // (B, T, C)
                                    const float* __restrict__ qkv,   // (B, T, 3C)
                                    const float* __restrict__ lse,   // (B, NH, T)
                                    const float* __restrict__ dd,    // (B, NH, T)
                                    int batch, int t, int nh, int hs) {
    extern __shared__ float sm[];
    int ks = hs | 1;
    float* sK = sm;                    // (16, HS) this block's keys
    float* sV = sK + AF_ROWS * hs;     // (16, HS)
    float* sQ = sV + AF_ROWS * hs;     // (32, KS) query tile
    float* sO = sQ + AF_TILE * ks;     // (32, KS) dout tile
    float* sL = sO + AF_TILE * ks;     // (32) lse (+inf past T)
    float* sD = sL + AF_TILE;          // (32) D (0 past T)
    int b = blockIdx.z, h = blockIdx.y, r0 = blockIdx.x * AF_ROWS, warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    i64 c = (i64)nh * hs, stride = 3 * c, bh = (i64)b * nh + h;
    const float* base = qkv + (i64)b * t * stride + (i64)h * hs;
    const float* obase = dout + (i64)b * t * c + (i64)h * hs;
    float scale = af_scale(hs);
    af_load(sK, hs, base + c, stride, r0, AF_ROWS, t, hs);
    af_load(sV, hs, base + 2 * c, stride, r0, AF_ROWS, t, hs);
    float dk[AF_QPW][AF_MAXD], dv[AF_QPW][AF_MAXD];
#pragma unroll
    for (int r = 0; r < AF_QPW; r++) {
#pragma unroll
        for (int k = 0; k < AF_MAXD; k++) dk[r][k] = dv[r][k] = 0.0f;
    }
    for (int i0 = 0; i0 < t; i0 += AF_TILE) {
        __syncthreads();
        af_load(sQ, ks, base, stride, i0, AF_TILE, t, hs);
        af_load(sO, ks, obase, c, i0, AF_TILE, t, hs);
        if (threadIdx.x < AF_TILE) {
            int q = i0 + threadIdx.x;
            sL[threadIdx.x] = q < t ? lse[bh * t + q] : AF_INF;
            sD[threadIdx.x] = q < t ? dd[bh * t + q] : 0.0f;
        }
        __syncthreads();
        bool valid = i0 + lane < t;
        float s[AF_QPW], dp[AF_QPW];
#pragma unroll
        for (int r = 0; r < AF_QPW; r++) s[r] = dp[r] = 0.0f;
        for (int d = 0; d < hs; d++) {
            float qd = sQ[lane * ks + d], od = sO[lane * ks + d];
#pragma unroll
            for (int r = 0; r < AF_QPW; r++) {
                s[r] = fmaf(qd, sK[(warp * AF_QPW + r) * hs + d], s[r]);
                dp[r] = fmaf(od, sV[(warp * AF_QPW + r) * hs + d], dp[r]);
            }
        }
        float ds[AF_QPW];
#pragma unroll
        for (int r = 0; r < AF_QPW; r++) {
            s[r] = valid ? expf(s[r] * scale - sL[lane]) : 0.0f;  // p
            ds[r] = s[r] * (dp[r] - sD[lane]) * scale;
        }
        int n = min(AF_TILE, t - i0);
        for (int ii = 0; ii < n; ii++) {
#pragma unroll
            for (int k = 0; k < AF_MAXD; k++) {
                int d = lane + 32 * k;
                float qv = d < hs ? sQ[ii * ks + d] : 0.0f, ov = d < hs ? sO[ii * ks + d] : 0.0f;
#pragma unroll
                for (int r = 0; r < AF_QPW; r++) {
                    dv[r][k] = fmaf(__shfl_sync(HRM_FULL_MASK, s[r], ii), ov, dv[r][k]);
                    dk[r][k] = fmaf(__shfl_sync(HRM_FULL_MASK, ds[r], ii), qv, dk[r][k]);
                }
            }
        }
    }
#pragma unroll
    for (int r = 0; r < AF_QPW; r++) {
        int row = r0 + warp * AF_QPW + r;
        if (row >= t) continue;
        float* drow = dqkv + ((i64)b * t + row) * stride + (i64)h * hs;
#pragma unroll
        for (int k = 0; k < AF_MAXD; k++) {
            if (lane + 32 * k < hs) {
                drow[c + lane + 32 * k] = dk[r][k];
                drow[2 * c + lane + 32 * k] = dv[r][k];
            }
        }
    }
}
