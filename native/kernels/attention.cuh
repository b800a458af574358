// attention.cuh — the tensor-core tile toolkit of attention.cu (head size 64, bf16 mma, fp32 softmax) and the
// short-sequence forward (attention_forward_rope: RoPE + pack + attention of one (batch, head) by one block, T <= 128),
// shared with the persistent module kernel (module_fused.cu). Included after common.cuh; see attention.cu for the
// math, the buffers and the kernels.
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
// cos, sin (T, 64) rows are positions; hbase as in store_acc.
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
            *reinterpret_cast<float2*>(base + o) = make_float2(lo[0], lo[1]);
            *reinterpret_cast<float2*>(base + o + ATT_D / 2) = make_float2(hi[0], hi[1]);
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

// The forward's state per warp: O (MT row tiles of 16 x 64; ATT_MT in the kernels), running max m and sum l of rows g
// and g + 8.
template <int MT>
__device__ __forceinline__ void attention_forward_init(float (&o)[MT][8][4], float (&m)[MT][2], float (&l)[MT][2]) {
#pragma unroll
    for (int mt = 0; mt < MT; mt++) {
        zero_acc(o[mt]);
        m[mt][0] = m[mt][1] = -__int_as_float(0x7f800000);
        l[mt][0] = l[mt][1] = 0.0f;
    }
}

// One 64-key tile of the online softmax: K at cur, V at cur + ATT_TILE_BYTES (smem), keys k0.. (those >= t masked).
// m is kept in log2 units of the scaled scores (m = max_j s_ij * scale * log2 e); the row maximum is taken on the raw
// scores (the scale is positive, and rounding is monotone, so max(s) * c == max(s * c) bitwise) and the scale goes
// into the exponent's fma: p = 2^(s * c - m), one instruction instead of a multiply and a subtraction. O is rescaled
// only when some row's maximum moved in this warp (alpha = 2^0 = 1 exactly otherwise: skipping is bitwise the same).
template <int MT>
__device__ __forceinline__ void attention_forward_tile(float (&o)[MT][8][4], float (&m)[MT][2], float (&l)[MT][2],
                                                       const u32 (&qf)[MT][4][4], u32 cur, int k0, int t) {
    int qd = threadIdx.x & 3;
    bool tail = k0 + ATT_BN > t;
    int groups = tail ? (t - k0 + 15) >> 4 : 4;  // 16-key groups holding a key below T (the others: masked, P = 0)
    float s[MT][8][4];
#pragma unroll
    for (int mt = 0; mt < MT; mt++) zero_acc(s[mt]);
    mma_abt<MT>(s, qf, cur, groups);  // S = Q K^T
#pragma unroll
    for (int mt = 0; mt < MT; mt++) {
        float alpha[2];
#pragma unroll
        for (int hh = 0; hh < 2; hh++) {  // rows g (hh = 0) and g + 8 (hh = 1)
            float mx = -__int_as_float(0x7f800000);
#pragma unroll
            for (int nt = 0; nt < 8; nt++) {
#pragma unroll
                for (int c = 2 * hh; c < 2 * hh + 2; c++) {
                    if (tail && k0 + nt * 8 + 2 * qd + (c & 1) >= t) s[mt][nt][c] = -__int_as_float(0x7f800000);
                    mx = fmaxf(mx, s[mt][nt][c]);
                }
            }
            mx = fmaxf(mx, __shfl_xor_sync(HRM_FULL_MASK, mx, 1));
            mx = fmaxf(mx, __shfl_xor_sync(HRM_FULL_MASK, mx, 2));
            mx = fmaxf(m[mt][hh], mx * ATT_SCALE_LOG2);
            alpha[hh] = hrm_exp2_approx(m[mt][hh] - mx);
            m[mt][hh] = mx;
            float sum = 0.0f;
#pragma unroll
            for (int nt = 0; nt < 8; nt++) {
#pragma unroll
                for (int c = 2 * hh; c < 2 * hh + 2; c++) {
                    float p = hrm_exp2_approx(fmaf(s[mt][nt][c], ATT_SCALE_LOG2, -mx));
                    s[mt][nt][c] = p;
                    sum += p;
                }
            }
            l[mt][hh] = l[mt][hh] * alpha[hh] + sum;  // this lane's share; the quad is summed at the end
        }
        if (!__all_sync(HRM_FULL_MASK, alpha[0] == 1.0f && alpha[1] == 1.0f)) {
#pragma unroll
            for (int nt = 0; nt < 8; nt++) {
#pragma unroll
                for (int c = 0; c < 4; c++) o[mt][nt][c] *= alpha[c >> 1];
            }
        }
    }
    mma_pb<MT>(o, s, cur + ATT_TILE_BYTES, groups);  // O += P V
}

// out = O / l (and outh = bf16(out) unless null), lse = m ln2 + ln l, for this warp's rows of query block q0 (warp w's
// row tiles: q0 + (w MT + mt) 16).
template <int MT>
__device__ __forceinline__ void attention_forward_store(float* __restrict__ out, bf16* __restrict__ outh,
                                                        float* __restrict__ lse, const float (&o)[MT][8][4],
                                                        const float (&m)[MT][2], const float (&l)[MT][2],
                                                        int b, int h, int q0, int t, int nh) {
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, qd = lane & 3, g = lane >> 2;
    i64 bh = (i64)b * nh + h;
#pragma unroll
    for (int mt = 0; mt < MT; mt++) {
        float inv[2];
#pragma unroll
        for (int hh = 0; hh < 2; hh++) {
            float sum = l[mt][hh];
            sum += __shfl_xor_sync(HRM_FULL_MASK, sum, 1);
            sum += __shfl_xor_sync(HRM_FULL_MASK, sum, 2);
            inv[hh] = 1.0f / sum;
            int row = q0 + (warp * MT + mt) * 16 + g + hh * 8;
            if (qd == 0 && row < t) lse[bh * t + row] = m[mt][hh] * HRM_LN2 + logf(sum);
        }
        i64 at = (i64)b * t * nh * ATT_D + h * ATT_D;
        store_acc(out ? out + at : nullptr, (i64)nh * ATT_D, q0 + (warp * MT + mt) * 16, t, o[mt], inv[0], inv[1],
                  outh ? outh + at : nullptr);
    }
}

// Rows [r0, r0 + NROWS) of one head's part of qkv (B, T, 3C), fp32 or bf16, held in registers between the two phases
// of the pack: 8 threads per row, each the columns [4c, 4c + 4) (a) and [32 + 4c, 32 + 4c + 4) (e) of its rows.
template <int NROWS>
struct RopeRows {
    float4 a[NROWS * 8 / ATT_THREADS], e[NROWS * 8 / ATT_THREADS];
};

// Phase 1: every load of the rows, none of them behind a branch (a row >= t reads row t - 1, which phase 2 discards),
// so that all of them are in flight at once: with a bounds branch per row the loads went out one after another, one
// memory latency each, and the short-T forward waited ~24 of them per block (GPU profile, 2026-11-30).
template <int NROWS, typename T>
__device__ __forceinline__ void rope_rows_load(RopeRows<NROWS>& v, const T* part, i64 rowStride, int r0, int t) {
    const int half = ATT_D / 2;
#pragma unroll
    for (int k = 0; k < NROWS * 8 / ATT_THREADS; k++) {
        int f = threadIdx.x + k * ATT_THREADS, r = f >> 3, i = 4 * (f & 7);
        const T* x = part + (i64)min(r0 + r, t - 1) * rowStride;
        v.a[k] = load4(x + i);
        v.e[k] = load4(x + half + i);
    }
}

// Phase 2: the rows of phase 1 -> a bf16 smem tile (NROWS x ATT_LD), converted as the packs convert (pack_bf16x2);
// rows >= t are zero-filled. With cs (not null) the rows are first rotated exactly as attention_pack_rope_kernel2
// rotates them and (keep != 0) the rotated values written back to qkv.
template <int NROWS, typename T>
__device__ __forceinline__ void rope_rows_store(bf16* stile, const RopeRows<NROWS>& v, T* part, i64 rowStride,
                                                int r0, int t, const float* cs, const float* sn, int keep) {
    const int half = ATT_D / 2;
#pragma unroll
    for (int k = 0; k < NROWS * 8 / ATT_THREADS; k++) {
        int f = threadIdx.x + k * ATT_THREADS, r = f >> 3, i = 4 * (f & 7);
        bool ok = r0 + r < t;
        float4 a = v.a[k], e = v.e[k];
        if (cs) {
            i64 at = (i64)min(r0 + r, t - 1) * ATT_D;
            float4 c0 = *reinterpret_cast<const float4*>(cs + at + i);
            float4 c1 = *reinterpret_cast<const float4*>(cs + at + half + i);
            float4 s0 = *reinterpret_cast<const float4*>(sn + at + i);
            float4 s1 = *reinterpret_cast<const float4*>(sn + at + half + i);
            float4 lo, hi;
            lo.x = __fsub_rn(__fmul_rn(a.x, c0.x), __fmul_rn(e.x, s0.x));
            lo.y = __fsub_rn(__fmul_rn(a.y, c0.y), __fmul_rn(e.y, s0.y));
            lo.z = __fsub_rn(__fmul_rn(a.z, c0.z), __fmul_rn(e.z, s0.z));
            lo.w = __fsub_rn(__fmul_rn(a.w, c0.w), __fmul_rn(e.w, s0.w));
            hi.x = __fadd_rn(__fmul_rn(e.x, c1.x), __fmul_rn(a.x, s1.x));
            hi.y = __fadd_rn(__fmul_rn(e.y, c1.y), __fmul_rn(a.y, s1.y));
            hi.z = __fadd_rn(__fmul_rn(e.z, c1.z), __fmul_rn(a.z, s1.z));
            hi.w = __fadd_rn(__fmul_rn(e.w, c1.w), __fmul_rn(a.w, s1.w));
            if (keep && ok) {
                T* x = part + (i64)(r0 + r) * rowStride;
                store4(x + i, lo);
                store4(x + half + i, hi);
            }
            a = lo;
            e = hi;
        }
        uint2 lo2 = make_uint2(0u, 0u), hi2 = make_uint2(0u, 0u);
        if (ok) {
            lo2 = make_uint2(pack_bf16x2(a.x, a.y), pack_bf16x2(a.z, a.w));
            hi2 = make_uint2(pack_bf16x2(e.x, e.y), pack_bf16x2(e.z, e.w));
        }
        *reinterpret_cast<uint2*>(stile + r * ATT_LD + i) = lo2;
        *reinterpret_cast<uint2*>(stile + r * ATT_LD + half + i) = hi2;
    }
}

// The body of attention_forward_rope_kernel3/4 for batch b, head h (the kernels': blockIdx.z, blockIdx.y): qkv stored
// as T (float or bf16); smem 2 * ATT_STAGE_BYTES (the kernels' static tile). Every thread of the block (128) calls it;
// its last __syncthreads comes before any warp returns, so a caller that reuses smem afterwards needs one first.
// ONE_BATCH (the kernels'): every Q, K and V load in flight at once; false: Q first, then K and V. MT = 2 (the
// kernels'): warp w computes query rows [32w, 32w + 32) at once; MT = 1: rows [16w, 16w + 16), then [64 + 16w, 80 + 16w)
// (half the accumulator registers; the same results, bitwise: every row is computed alike). The last two for
// module_fused.cu's kernel, where the attention shares the registers with the other stages.
template <typename T, bool ONE_BATCH = true, int MT = ATT_MT>
__device__ __forceinline__ void attention_forward_rope(bf16* smem, float* __restrict__ out, bf16* __restrict__ outh,
                                                       float* __restrict__ lse, T* __restrict__ qkv,
                                                       const float* __restrict__ cos, const float* __restrict__ sin,
                                                       int batch, int t, int nh, int keep, int b, int h) {
    int warp = threadIdx.x >> 5;
    if (t > ATT_FWD_BM) return;  // the host launches this kernel for T <= 128 only
    i64 c = (i64)nh * ATT_D, stride = 3 * c;
    T* Q = qkv + (i64)b * t * stride + h * ATT_D;
    T* K = Q + c;
    T* V = Q + 2 * c;
    const int tileElems = ATT_TILE_BYTES / 2, stageElems = ATT_STAGE_BYTES / 2;
    if (ONE_BATCH) {  // Q, K and V in one batch of loads
        RopeRows<ATT_FWD_BM> q;
        RopeRows<ATT_BN> k, v;
        rope_rows_load(q, Q, stride, 0, t);
        rope_rows_load(k, K, stride, 0, t);
        rope_rows_load(v, V, stride, 0, t);
        rope_rows_store(smem + stageElems, q, Q, stride, 0, t, cos, sin, keep);
        rope_rows_store(smem, k, K, stride, 0, t, cos, sin, keep);
        rope_rows_store(smem + tileElems, v, V, stride, 0, t, nullptr, nullptr, 0);
    } else {  // Q, then K and V: half the registers (the same values in shared memory)
        {
            RopeRows<ATT_FWD_BM> q;
            rope_rows_load(q, Q, stride, 0, t);
            rope_rows_store(smem + stageElems, q, Q, stride, 0, t, cos, sin, keep);
        }
        RopeRows<ATT_BN> k, v;
        rope_rows_load(k, K, stride, 0, t);
        rope_rows_load(v, V, stride, 0, t);
        rope_rows_store(smem, k, K, stride, 0, t, cos, sin, keep);
        rope_rows_store(smem + tileElems, v, V, stride, 0, t, nullptr, nullptr, 0);
    }
    __syncthreads();
    static_assert(MT == 1 || MT == 2, "MT: 1 or 2 row tiles per warp");
    u32 s0 = smem_u32(smem), qf[2][4][4];  // MT = 2: this warp's two row tiles; MT = 1: its tile in each pass
#pragma unroll
    for (int mt = 0; mt < 2; mt++)
        load_a_frags(qf[mt], s0 + ATT_STAGE_BYTES, (MT == 2 ? warp * 2 + mt : mt * ATT_WARPS + warp) * 16);
    __syncthreads();
    int tiles = (t + ATT_BN - 1) / ATT_BN;  // 1 or 2
    if (tiles > 1) {
        RopeRows<ATT_BN> k, v;
        rope_rows_load(k, K, stride, ATT_BN, t);
        rope_rows_load(v, V, stride, ATT_BN, t);
        rope_rows_store(smem + stageElems, k, K, stride, ATT_BN, t, cos, sin, keep);
        rope_rows_store(smem + stageElems + tileElems, v, V, stride, ATT_BN, t, nullptr, nullptr, 0);
        __syncthreads();
    }
    if constexpr (MT == 2) {
        float o[2][8][4], m[2][2], l[2][2];
        attention_forward_init<2>(o, m, l);
        if (warp * 2 * 16 >= t) return;  // no row of this warp below T (warp 3 at T = 82); no barrier follows
        for (int j = 0; j < tiles; j++) attention_forward_tile<2>(o, m, l, qf, s0 + j * ATT_STAGE_BYTES, j * ATT_BN, t);
        attention_forward_store<2>(out, outh, lse, o, m, l, b, h, 0, t, nh);
    } else {
#pragma unroll
        for (int p = 0; p < 2; p++) {  // unrolled: qf[p] stays in registers
            if (p * ATT_WARPS * 16 + warp * 16 >= t) return;  // no row of this warp's pass below T; no barrier follows
            float o[1][8][4], m[1][2], l[1][2];
            attention_forward_init<1>(o, m, l);
            const u32(&q1)[1][4][4] = *reinterpret_cast<const u32(*)[1][4][4]>(&qf[p]);
            for (int j = 0; j < tiles; j++)
                attention_forward_tile<1>(o, m, l, q1, s0 + j * ATT_STAGE_BYTES, j * ATT_BN, t);
            attention_forward_store<1>(out, outh, lse, o, m, l, b, h, p * ATT_WARPS * 16, t, nh);
        }
    }
}
