// attention_tiles.cuh — the tensor-core tile toolkit of attention.cu (head size 64, bf16 mma, fp32 softmax): the
// tiling constants, shared-memory tile loads, the mma helpers, accumulator stores, and the fp32/bf16 element access of
// qkv. Included by attention.cuh; see attention.cu for the math, the buffers and the kernels.
#pragma once
#include "common.cuh"

#define ATT_D 64            // head size of this path
#define ATT_LD 72           // smem row stride in bf16 (144 bytes: the 8 rows of an ldmatrix hit distinct banks)
#define ATT_BN 64           // keys (forward, dq) or queries (dkdv) per inner tile
#define ATT_WARPS 4
#define ATT_THREADS (32 * ATT_WARPS)
#define ATT_MT 2                                // forward: m16 tiles per warp
#define ATT_FWD_BM (16 * ATT_MT * ATT_WARPS)    // forward: queries per block (128)
#define ATT_BWD_BM (16 * ATT_WARPS)             // dq: queries per block; dkdv: keys per block (64)
#define ATT_TILE_BYTES (ATT_BN * ATT_LD * 2)    // one 64-row bf16 tile in smem
#define ATT_STAGE_BYTES (2 * ATT_TILE_BYTES)    // two tiles (K,V or Q,dO) per pipeline stage
#define ATT_SCALE_LOG2 (0.125f * HRM_LOG2E)     // softmax scale folded with log2(e) for exp2
#ifndef ATT_FWD_MIN_BLOCKS
#define ATT_FWD_MIN_BLOCKS 2                    // resident forward blocks per SM (caps registers at 255)
#endif
#ifndef ATT_DQ_MIN_BLOCKS
#define ATT_DQ_MIN_BLOCKS 3                     // 168 registers, no spill
#endif
#ifndef ATT_DKDV_MIN_BLOCKS
#define ATT_DKDV_MIN_BLOCKS 2                   // 3 would spill
#endif

static_assert(ATT_FWD_BM * ATT_LD * 2 <= ATT_STAGE_BYTES, "the forward Q tile must fit in one stage");
static_assert(ATT_BWD_BM == ATT_BN && ATT_THREADS == 2 * ATT_BN, "backward tiling assumes 64-row blocks, 128 threads");

// rows [row0, row0 + NROWS) of a (T, 64) bf16 matrix whose rows lie `stride` elements apart (ATT_D: packed) ->
// smem (NROWS x ATT_LD); rows >= t are zero-filled. src and stride * 2 bytes 16-byte aligned.
template <int NROWS>
__device__ __forceinline__ void load_rows(u32 sdst, const bf16* src, int row0, int t, i64 stride = ATT_D) {
#pragma unroll
    for (int k = 0; k < NROWS * 8 / ATT_THREADS; k++) {
        int f = threadIdx.x + k * ATT_THREADS, r = f >> 3, c = f & 7;
        bool ok = row0 + r < t;
        cp_async_16(sdst + (u32)(r * ATT_LD + c * 8) * 2u, src + (i64)(ok ? row0 + r : 0) * stride + c * 8, ok);
    }
}

// A fragments (16 rows x 64 columns, 4 k-steps) of the smem tile at sbase, rows row0..row0+15.
__device__ __forceinline__ void load_a_frags(u32 (&f)[4][4], u32 sbase, int row0) {
    int lane = threadIdx.x & 31;
#pragma unroll
    for (int ks = 0; ks < 4; ks++)
        ldmatrix_x4(f[ks], sbase + (u32)((row0 + (lane & 15)) * ATT_LD + ks * 16 + (lane >> 4) * 8) * 2u);
}

// acc[m] (16 x 64) += A[m] (16 x 64, fragments) . tile^T for m < M, tile = 64 rows x 64 columns in smem (B operand
// "col": the tile's rows are the output columns). Each B fragment is loaded once and used for all M row tiles. Only
// the first `groups` 16-column groups (warp-uniform, 1..4) are computed; the others are left as they are.
template <int M>
__device__ __forceinline__ void mma_abt(float (&acc)[M][8][4], const u32 (&a)[M][4][4], u32 tile, int groups = 4) {
    int lane = threadIdx.x & 31;
#pragma unroll
    for (int ks = 0; ks < 4; ks++) {
#pragma unroll
        for (int np = 0; np < 4; np++) {
            if (np >= groups) break;
            u32 b[4];
            int row = np * 16 + (lane & 7) + ((lane >> 4) << 3), col = ks * 16 + ((lane >> 3) & 1) * 8;
            ldmatrix_x4(b, tile + (u32)(row * ATT_LD + col) * 2u);
#pragma unroll
            for (int m = 0; m < M; m++) {
                mma_bf16_16816(acc[m][2 * np], a[m][ks][0], a[m][ks][1], a[m][ks][2], a[m][ks][3], b[0], b[1]);
                mma_bf16_16816(acc[m][2 * np + 1], a[m][ks][0], a[m][ks][1], a[m][ks][2], a[m][ks][3], b[2], b[3]);
            }
        }
    }
}

// acc[m] (16 x 64) += P[m] (16 x 64, fp32 accumulator layout, rounded to bf16) . tile for m < M, tile = 64 rows
// (the k index) x 64 columns in smem. Each B fragment is loaded once and used for all M row tiles. Only the first
// `groups` 16-row groups of the tile (warp-uniform, 1..4) are summed: the caller's P is 0 beyond them.
template <int M>
__device__ __forceinline__ void mma_pb(float (&acc)[M][8][4], const float (&p)[M][8][4], u32 tile, int groups = 4) {
    int lane = threadIdx.x & 31;
#pragma unroll
    for (int ks = 0; ks < 4; ks++) {
        if (ks >= groups) break;
        u32 a[M][4];
#pragma unroll
        for (int m = 0; m < M; m++) {
            a[m][0] = pack_bf16x2(p[m][2 * ks][0], p[m][2 * ks][1]);
            a[m][1] = pack_bf16x2(p[m][2 * ks][2], p[m][2 * ks][3]);
            a[m][2] = pack_bf16x2(p[m][2 * ks + 1][0], p[m][2 * ks + 1][1]);
            a[m][3] = pack_bf16x2(p[m][2 * ks + 1][2], p[m][2 * ks + 1][3]);
        }
#pragma unroll
        for (int np = 0; np < 4; np++) {
            u32 b[4];
            int row = ks * 16 + (lane & 7) + ((lane >> 3) & 1) * 8, col = np * 16 + (lane >> 4) * 8;
            ldmatrix_x4_trans(b, tile + (u32)(row * ATT_LD + col) * 2u);
#pragma unroll
            for (int m = 0; m < M; m++) {
                mma_bf16_16816(acc[m][2 * np], a[m][0], a[m][1], a[m][2], a[m][3], b[0], b[1]);
                mma_bf16_16816(acc[m][2 * np + 1], a[m][0], a[m][1], a[m][2], a[m][3], b[2], b[3]);
            }
        }
    }
}

// The single-row-tile forms used by the backward kernels.
__device__ __forceinline__ void mma_abt1(float (&acc)[8][4], const u32 (&a)[4][4], u32 tile) {
    mma_abt<1>(reinterpret_cast<float(&)[1][8][4]>(acc), reinterpret_cast<const u32(&)[1][4][4]>(a), tile);
}

__device__ __forceinline__ void mma_pb1(float (&acc)[8][4], const float (&p)[8][4], u32 tile) {
    mma_pb<1>(reinterpret_cast<float(&)[1][8][4]>(acc), reinterpret_cast<const float(&)[1][8][4]>(p), tile);
}

__device__ __forceinline__ void zero_acc(float (&a)[8][4]) {
#pragma unroll
    for (int i = 0; i < 8; i++) a[i][0] = a[i][1] = a[i][2] = a[i][3] = 0.0f;
}

// Stores a 16 x 64 fp32 accumulator (times mul) to rows row0.. of a strided fp32 matrix; rows >= t are skipped.
// With hbase (not null), the same values rounded to bf16 (f32_to_bf16) also go to that bf16 matrix (same layout);
// base may be null when hbase is not (the bf16 values only).
__device__ __forceinline__ void store_acc(float* base, i64 rowStride, int row0, int t, const float (&a)[8][4],
                                          float mul0, float mul1, bf16* hbase = nullptr) {
    int lane = threadIdx.x & 31, g = lane >> 2, qd = lane & 3;
#pragma unroll
    for (int hh = 0; hh < 2; hh++) {
        int row = row0 + g + hh * 8;
        if (row >= t) continue;
        float mul = hh ? mul1 : mul0;
#pragma unroll
        for (int nt = 0; nt < 8; nt++) {
            float x0 = a[nt][2 * hh] * mul, x1 = a[nt][2 * hh + 1] * mul;
            if (base)
                *reinterpret_cast<float2*>(base + row * rowStride + 2 * qd + nt * 8) = make_float2(x0, x1);
            if (hbase)
                *reinterpret_cast<u32*>(hbase + row * rowStride + 2 * qd + nt * 8) =
                    (u32)f32_to_bf16(x0) | ((u32)f32_to_bf16(x1) << 16);
        }
    }
}

// store_acc for dQ or dK (times mul) with RoPE's backward applied on the way out when cos is not null: the transpose
// of the rotate-half rotation exactly as rope_backward_kernel1 computes it on the stored values (same roundings:
// __fmul_rn / __fadd_rn / __fsub_rn), x[i] paired with x[32 + i], which this lane holds in a[nt] and a[nt + 4].
// cos, sin (T, 64) rows are positions; base and hbase as in store_acc.
__device__ __forceinline__ void store_acc_rope_backward(float* base, i64 rowStride, int row0, int t,
                                                        const float (&a)[8][4], float mul, const float* cos,
                                                        const float* sin, bf16* hbase) {
    if (cos == nullptr) {
        store_acc(base, rowStride, row0, t, a, mul, mul, hbase);
        return;
    }
    int lane = threadIdx.x & 31, g = lane >> 2, qd = lane & 3;
#pragma unroll
    for (int hh = 0; hh < 2; hh++) {
        int row = row0 + g + hh * 8;
        if (row >= t) continue;
        const float* cs = cos + (i64)row * ATT_D;
        const float* sn = sin + (i64)row * ATT_D;
#pragma unroll
        for (int nt = 0; nt < 4; nt++) {
            float lo[2], hi[2];
#pragma unroll
            for (int c = 0; c < 2; c++) {
                int i = nt * 8 + 2 * qd + c;
                float x1 = a[nt][2 * hh + c] * mul, x2 = a[nt + 4][2 * hh + c] * mul;
                float s1 = -sn[i], s2 = -sn[ATT_D / 2 + i];
                lo[c] = __fsub_rn(__fmul_rn(x1, cs[i]), __fmul_rn(x2, s1));
                hi[c] = __fadd_rn(__fmul_rn(x2, cs[ATT_D / 2 + i]), __fmul_rn(x1, s2));
            }
            i64 o = row * rowStride + nt * 8 + 2 * qd;
            if (base) {
                *reinterpret_cast<float2*>(base + o) = make_float2(lo[0], lo[1]);
                *reinterpret_cast<float2*>(base + o + ATT_D / 2) = make_float2(hi[0], hi[1]);
            }
            if (hbase) {
                *reinterpret_cast<u32*>(hbase + o) = (u32)f32_to_bf16(lo[0]) | ((u32)f32_to_bf16(lo[1]) << 16);
                *reinterpret_cast<u32*>(hbase + o + ATT_D / 2) =
                    (u32)f32_to_bf16(hi[0]) | ((u32)f32_to_bf16(hi[1]) << 16);
            }
        }
    }
}

// Two or four consecutive elements of qkv as floats, and back: fp32 storage as it is, bf16 widened / rounded (RNE;
// element 0 in the low half, as pack_bf16x2 packs).
HRM_DEVICE float2 load2(const float* p) { return *reinterpret_cast<const float2*>(p); }
HRM_DEVICE float2 load2(const bf16* p) {
    u32 u = *reinterpret_cast<const u32*>(p);
    return make_float2(bf16_to_f32((bf16)(u & 0xffffu)), bf16_to_f32((bf16)(u >> 16)));
}
HRM_DEVICE void store2(float* p, float2 v) { *reinterpret_cast<float2*>(p) = v; }
HRM_DEVICE void store2(bf16* p, float2 v) { *reinterpret_cast<u32*>(p) = pack_bf16x2(v.x, v.y); }
HRM_DEVICE float4 load4(const float* p) { return *reinterpret_cast<const float4*>(p); }
HRM_DEVICE float4 load4(const bf16* p) {
    uint2 u = *reinterpret_cast<const uint2*>(p);
    return make_float4(bf16_to_f32((bf16)(u.x & 0xffffu)), bf16_to_f32((bf16)(u.x >> 16)),
                       bf16_to_f32((bf16)(u.y & 0xffffu)), bf16_to_f32((bf16)(u.y >> 16)));
}
HRM_DEVICE void store4(float* p, float4 v) { *reinterpret_cast<float4*>(p) = v; }
HRM_DEVICE void store4(bf16* p, float4 v) {
    *reinterpret_cast<uint2*>(p) = make_uint2(pack_bf16x2(v.x, v.y), pack_bf16x2(v.z, v.w));
}
