// attention.cuh — the forward pieces of attention.cu on top of its tile toolkit (attention_tiles.cuh): the online
// softmax over key tiles, the RoPE + pack of one head's rows, and the short-sequence forward (attention_forward_rope:
// RoPE + pack + attention of one (batch, head) by one block, T <= 128), shared with the persistent module kernel
// (module_fused.cu). Included after common.cuh; see attention.cu for the math, the buffers and the kernels.
#pragma once
#include "common.cuh"
#include "attention_tiles.cuh"

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

// Q rows 0..127 of one head into stage 1 of smem and K, V rows 0..63 into stage 0, Q and K rotated (RoPE with cos,
// sin; written back to qkv when keep) and all rounded to bf16 (rows >= t zero). ONE_BATCH: every load in flight at
// once; else Q first, then K and V (half the registers; the same values in shared memory).
template <typename T, bool ONE_BATCH>
__device__ __forceinline__ void attention_rope_pack_head(bf16* smem, T* Q, T* K, T* V, i64 stride, int t,
                                                         const float* __restrict__ cos,
                                                         const float* __restrict__ sin, int keep) {
    const int tileElems = ATT_TILE_BYTES / 2, stageElems = ATT_STAGE_BYTES / 2;
    if (ONE_BATCH) {
        RopeRows<ATT_FWD_BM> q;
        RopeRows<ATT_BN> k, v;
        rope_rows_load(q, Q, stride, 0, t);
        rope_rows_load(k, K, stride, 0, t);
        rope_rows_load(v, V, stride, 0, t);
        rope_rows_store(smem + stageElems, q, Q, stride, 0, t, cos, sin, keep);
        rope_rows_store(smem, k, K, stride, 0, t, cos, sin, keep);
        rope_rows_store(smem + tileElems, v, V, stride, 0, t, nullptr, nullptr, 0);
    } else {
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
}

// The online softmax over the `tiles` resident key tiles (stage j at s0 + j * ATT_STAGE_BYTES) and the store, for
// this warp's query rows: MT = 2, rows [32w, 32w + 32) from qf[0], qf[1]; MT = 1, rows [16w, 16w + 16) from qf[0], then
// [64 + 16w, 80 + 16w) from qf[1]. A warp with no row below T returns (no barrier follows).
template <int MT>
__device__ __forceinline__ void attention_forward_resident(float* __restrict__ out, bf16* __restrict__ outh,
                                                           float* __restrict__ lse, const u32 (&qf)[2][4][4], u32 s0,
                                                           int tiles, int b, int h, int t, int nh) {
    int warp = threadIdx.x >> 5;
    if constexpr (MT == 2) {
        float o[2][8][4], m[2][2], l[2][2];
        attention_forward_init<2>(o, m, l);
        if (warp * 2 * 16 >= t) return;  // no row of this warp below T (warp 3 at T = 82)
        for (int j = 0; j < tiles; j++)
            attention_forward_tile<2>(o, m, l, qf, s0 + j * ATT_STAGE_BYTES, j * ATT_BN, t);
        attention_forward_store<2>(out, outh, lse, o, m, l, b, h, 0, t, nh);
    } else {
#pragma unroll
        for (int p = 0; p < 2; p++) {  // unrolled: qf[p] stays in registers
            if (p * ATT_WARPS * 16 + warp * 16 >= t) return;  // no row of this warp's pass below T
            float o[1][8][4], m[1][2], l[1][2];
            attention_forward_init<1>(o, m, l);
            const u32(&q1)[1][4][4] = *reinterpret_cast<const u32(*)[1][4][4]>(&qf[p]);
            for (int j = 0; j < tiles; j++)
                attention_forward_tile<1>(o, m, l, q1, s0 + j * ATT_STAGE_BYTES, j * ATT_BN, t);
            attention_forward_store<1>(out, outh, lse, o, m, l, b, h, p * ATT_WARPS * 16, t, nh);
        }
    }
}

// The body of attention_forward_rope_kernel3/4/6 for batch b, head h (the kernels': blockIdx.z, blockIdx.y): qkv stored
// as T (float or bf16); smem 2 * ATT_STAGE_BYTES (the kernels' static tile). Every thread of the block (128) calls it;
// its last __syncthreads comes before any warp returns, so a caller that reuses smem afterwards needs one first.
// ONE_BATCH (the kernels'): every Q, K and V load in flight at once; false: Q first, then K and V. MT = 2 (kernel3 and
// 4): warp w computes query rows [32w, 32w + 32) at once; MT = 1 (kernel6, at 128 registers, and module_fused.cu's
// kernel, where the attention shares the registers with the other stages): rows [16w, 16w + 16), then [64 + 16w, 80 +
// 16w) (half the accumulator registers; the same results, bitwise: every row is computed alike). ONE_BATCH false:
// module_fused.cu's kernel only.
template <typename T, bool ONE_BATCH = true, int MT = ATT_MT>
__device__ __forceinline__ void attention_forward_rope(bf16* smem, float* __restrict__ out, bf16* __restrict__ outh,
                                                       float* __restrict__ lse, T* __restrict__ qkv,
                                                       const float* __restrict__ cos, const float* __restrict__ sin,
                                                       int batch, int t, int nh, int keep, int b, int h) {
    static_assert(MT == 1 || MT == 2, "MT: 1 or 2 row tiles per warp");
    int warp = threadIdx.x >> 5;
    if (t > ATT_FWD_BM) return;  // the host launches this kernel for T <= 128 only
    i64 c = (i64)nh * ATT_D, stride = 3 * c;
    T* Q = qkv + (i64)b * t * stride + h * ATT_D;
    T* K = Q + c;
    T* V = Q + 2 * c;
    const int tileElems = ATT_TILE_BYTES / 2, stageElems = ATT_STAGE_BYTES / 2;
    attention_rope_pack_head<T, ONE_BATCH>(smem, Q, K, V, stride, t, cos, sin, keep);
    __syncthreads();
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
    attention_forward_resident<MT>(out, outh, lse, qf, s0, tiles, b, h, t, nh);
}
