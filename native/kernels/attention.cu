// attention.cu — non-causal softmax attention, head size 64, on tensor cores (HrmOp.Attention, kernel2 versions):
// the packs and the forwards, mirroring CpuOps.Attention.cs / ReferenceOps.Attention. The backward is in
// attention_backward.cu (split kernels) and attention_backward_short.cu (T <= 128); the fp32 port in attention_f32.cu.
//
// Math (per batch b, head h; scale = 1/sqrt(64) = 0.125; s_ij = scale * q_i . k_j over all j < T, no mask):
//   out_i = sum_j softmax_j(s_i.) v_j          lse_i = log sum_j exp(s_ij)        (natural log)
// Q, K and V are rounded to bf16 and multiplied on tensor cores (mma.sync m16n8k16, fp32 accumulate); softmax
// statistics, lse and out are fp32; P is rounded to bf16 as an mma operand (as FlashAttention 2).
// Expect about 1e-2 relative agreement with the fp32/double references, not 1e-6.
//
// Buffers: qkv (B,T,3C) float = [Q | K | V] per row, head h at h*64 of each part; out (B,T,C) float; lse (B,NH,T)
//   float; C = NH*64; outh (B,T,C) bf16 = bf16(out) (RNE, as f32_to_bf16_kernel1), written by the forward only when
//   not null (the output projection's bf16 operand); the forwards' out may be null when outh is not (a no-grad
//   forward's bf16 output only). qkvh (3,B,NH,T,64) bf16 scratch: Q, K, V packed per head.
// qkv and qkvh must be 16-byte aligned, out 8-byte aligned, outh 4-byte aligned (device allocations and 256-byte
// sub-buffers are).
//
// Kernels, in launch order (static shared memory below 48 KiB):
//   forward   1. attention_pack_kernel2(qkvh, qkv, B, T, NH, parts = 3)       grid = B*T, block = 256
//                or attention_pack_rope_kernel2(qkvh, qkv, cos, sin, B, T, NH, keep)  grid = B*T, block = 256: RoPE fused
//                into the pack (Q, K rotated in place exactly as rope_forward_kernel1, then packed; bitwise the
//                two kernels in a row, one read of qkv fewer)
//             2. attention_forward_kernel2(out, outh, lse, qkvh, B, T, NH)    grid = (ceil(T/128), NH, B), block = 128
//             or, for T <= 128, 1 and 2 in one: attention_forward_rope_kernel3(out, outh, lse, qkv, cos, sin, B, T, NH,
//                keep), or attention_forward_rope_kernel4 or 6 (out, outh, lse, qkvh16, cos, sin, B, T, NH) on bf16
//                grid = (1, NH, B), block = 128: RoPE (in place on qkv when keep; kernel4 never writes qkv) and the
//                pack into shared memory (bitwise the two kernels)
//             or, on a bf16 qkv (no pack): attention_forward_kernel5(out, outh, lse, q, k, v, ld, B, T, NH), grid as
//                kernel2, reading the rows where they lie; for T > 128 with RoPE first
//                attention_rope_rows_kernel1(rot, qkv16, cos, sin, B, T, NH) (grid = B*T, block = 256: the rotated Q, K
//                into a (B,T,3C) scratch), then kernel5 on (rot, rot + C, qkv16 + 2C, 3C)
//   (attention_pack_kernel2 is also the backward's first step, on the recorded, post-RoPE qkv: attention_backward.cu.)
//
// Versions: kernel1 = the fp32 port (attention_f32.cu, any HS <= 128); kernel2 = this file: FlashAttention-2 style,
//   128 queries per block (4 warps x 32 rows), 64-key tiles, cp.async double buffering; kernel3 = kernel2 with RoPE
//   and the pack done by the block itself from fp32 qkv, for T <= 128 (one query block per head, so no other block
//   reads the rows it rotates); attention_forward_rope_kernel4 = kernel3 reading a bf16 qkv (bf16 intermediates),
//   never writing it; attention_forward_rope_kernel6 = kernel4 at 4 blocks per SM (one row tile per warp and pass:
//   128 registers); attention_forward_kernel5 = kernel2 reading bf16 rows in place (strided) instead of the pack.
// The forwards (2-5) skip the work of warps whose rows all lie past T, skip the 16-key groups of the last key tile
// that lie wholly past T, fold the softmax scale into the exponent's fma and rescale O only when a row maximum moved
// (session 18; see attention_forward_tile).
#include "common.cuh"
#include "attention.cuh"

// dst[part, b, h, t, :] = bf16(src[b, t, part*C + h*64 + :]) (RNE). One block per row (b, t); C % 4 == 0.
extern "C" __global__ void attention_pack_kernel2(bf16* __restrict__ dst,         // (parts, B, NH, T, 64) bf16 =
                                                  const float* __restrict__ src,  // (B, T, parts*C)
                                                  int batch, int t, int nh, int parts) {
    int row = blockIdx.x;
    if (row >= batch * t) return;
    int b = row / t, tt = row % t, c = nh * ATT_D;
    const float* s = src + (i64)row * parts * c;
    for (int e = threadIdx.x * 4; e < parts * c; e += blockDim.x * 4) {
        int part = e / c, h = (e - part * c) >> 6, d = e & 63;
        float4 x = *reinterpret_cast<const float4*>(s + e);
        uint2 y = make_uint2(pack_bf16x2(x.x, x.y), pack_bf16x2(x.z, x.w));
        *reinterpret_cast<uint2*>(dst + ((((i64)part * batch + b) * nh + h) * t + tt) * ATT_D + d) = y;
    }
}

// The body of attention_pack_rope_kernel2 and attention_rope_rows_kernel1: qkv stored as T (float or bf16). ROWS:
// dst has qkv's layout (B, T, 3C) and gets the rotated Q and K only (V is not copied); else dst is the packed
// (3, B, NH, T, 64) scratch and gets all three.
template <typename T, bool ROWS>
HRM_DEVICE void attention_pack_rope(bf16* __restrict__ dst, T* __restrict__ qkv, const float* __restrict__ cos,
                                    const float* __restrict__ sin, int batch, int t, int nh, int keep) {
    const int half = ATT_D / 2, quads = half / 2;  // a thread takes the pairs (i, half+i) and (i+1, half+i+1)
    int row = blockIdx.x;
    if (row >= batch * t) return;
    int b = row / t, tt = row % t, c = nh * ATT_D;
    T* s = qkv + (i64)row * 3 * c;
    const float* cs = cos + (i64)tt * ATT_D;
    const float* sn = sin + (i64)tt * ATT_D;
    for (int k = threadIdx.x; k < 2 * nh * quads; k += blockDim.x) {
        int h = k / quads, i = 2 * (k - h * quads);  // h < NH: Q heads, then K heads
        T* x = s + h * ATT_D;
        float2 a = load2(x + i);
        float2 e = load2(x + half + i);
        float2 lo, hi;
        lo.x = __fsub_rn(__fmul_rn(a.x, cs[i]), __fmul_rn(e.x, sn[i]));
        lo.y = __fsub_rn(__fmul_rn(a.y, cs[i + 1]), __fmul_rn(e.y, sn[i + 1]));
        hi.x = __fadd_rn(__fmul_rn(e.x, cs[half + i]), __fmul_rn(a.x, sn[half + i]));
        hi.y = __fadd_rn(__fmul_rn(e.y, cs[half + i + 1]), __fmul_rn(a.y, sn[half + i + 1]));
        if (keep) {
            store2(x + i, lo);
            store2(x + half + i, hi);
        }
        int part = h / nh, head = h - part * nh;
        bf16* d = ROWS ? dst + (i64)row * 3 * c + h * ATT_D
                       : dst + ((((i64)part * batch + b) * nh + head) * t + tt) * ATT_D;
        *reinterpret_cast<u32*>(d + i) = pack_bf16x2(lo.x, lo.y);
        *reinterpret_cast<u32*>(d + half + i) = pack_bf16x2(hi.x, hi.y);
    }
    if constexpr (!ROWS) {
        for (int e = threadIdx.x * 4; e < c; e += blockDim.x * 4) {  // V, as attention_pack_kernel2
            int h = e >> 6, d = e & 63;
            float4 x = load4(s + 2 * c + e);
            uint2 y = make_uint2(pack_bf16x2(x.x, x.y), pack_bf16x2(x.z, x.w));
            *reinterpret_cast<uint2*>(dst + ((((i64)2 * batch + b) * nh + h) * t + tt) * ATT_D + d) = y;
        }
    }
}

// The RoPE pass fused into the pack: per row (b, t), Q and K of qkv are rotated in place exactly as
// rope_forward_kernel1 computes it (rotate-half, separate roundings: bitwise the same floats), and Q, K, V are packed
// per head as attention_pack_kernel2 packs them (same conversion). cos, sin (T, 64). One block per row (b, t):
// grid = B*T, block = 256; qkv 8-byte aligned (16 for the V loads), C % 4 == 0. keep = 0: the rotated Q, K are only
// packed, not written back (a forward nobody differentiates: qkv is read only).
extern "C" __global__ void attention_pack_rope_kernel2(bf16* __restrict__ dst,         // (3, B, NH, T, 64) bf16 =
                                                       float* __restrict__ qkv,        // (B, T, 3C) Q, K in place (keep)
                                                       const float* __restrict__ cos,  // (T, 64)
                                                       const float* __restrict__ sin,  // (T, 64)
                                                       int batch, int t, int nh, int keep) {
    attention_pack_rope<float, false>(dst, qkv, cos, sin, batch, t, nh, keep);
}

// RoPE on a bf16 qkv (the no-grad forwards' GEMM product with bf16 intermediates), read only, into a scratch of the
// same layout: Q and K rotated exactly as attention_pack_rope_kernel2 rotates them (the stored bf16 widened) and
// rounded to bf16 as it packs them; V is not copied (attention_forward_kernel5 reads it from qkv). So kernel5 on
// (dst, dst + C, qkv + 2C) is bitwise kernel2 after attention_pack_rope_kernel2 on an fp32 qkv holding those values,
// with two thirds of the pack's bytes. grid = B*T, block = 256; qkv 8-byte aligned.
extern "C" __global__ void attention_rope_rows_kernel1(bf16* __restrict__ dst,         // (B, T, 3C) bf16, Q, K =
                                                       const bf16* __restrict__ qkv,   // (B, T, 3C) bf16
                                                       const float* __restrict__ cos,  // (T, 64)
                                                       const float* __restrict__ sin,  // (T, 64)
                                                       int batch, int t, int nh) {
    attention_pack_rope<bf16, true>(dst, const_cast<bf16*>(qkv), cos, sin, batch, t, nh, 0);
}

// The body of attention_forward_kernel2/5 for block (q-block, h, b): 128 queries, 4 warps x 32 rows; online softmax
// over 64-key tiles (exp2 with the scale folded into log2 units); out = O / l, lse = m ln2 + ln l. Q, K, V: row 0 of
// this block's (b, h) in each (bf16), rows `stride` elements apart. A warp whose 32 rows all lie at or past T (the last
// query block of a T that is not a multiple of 128: at T = 901 three of its four warps) loads its share of the tiles
// and meets the barriers but computes nothing: 928 query rows instead of 1024 at T = 901.
HRM_DEVICE void attention_forward_rows(bf16* smem, float* __restrict__ out, bf16* __restrict__ outh,
                                       float* __restrict__ lse, const bf16* __restrict__ Q,
                                       const bf16* __restrict__ K, const bf16* __restrict__ V, i64 stride, int b,
                                       int h, int t, int nh) {
    int q0 = blockIdx.x * ATT_FWD_BM;
    int warp = threadIdx.x >> 5;
    bool active = q0 + warp * ATT_MT * 16 < t;  // warp-uniform
    u32 s0 = smem_u32(smem);
    load_rows<ATT_FWD_BM>(s0 + ATT_STAGE_BYTES, Q, q0, t, stride);
    load_rows<ATT_BN>(s0, K, 0, t, stride);
    load_rows<ATT_BN>(s0 + ATT_TILE_BYTES, V, 0, t, stride);
    cp_async_commit();
    cp_async_wait_all();
    __syncthreads();
    u32 qf[ATT_MT][4][4];
#pragma unroll
    for (int mt = 0; mt < ATT_MT; mt++) load_a_frags(qf[mt], s0 + ATT_STAGE_BYTES, (warp * ATT_MT + mt) * 16);
    __syncthreads();

    float o[ATT_MT][8][4], m[ATT_MT][2], l[ATT_MT][2];
    attention_forward_init<ATT_MT>(o, m, l);
    int tiles = (t + ATT_BN - 1) / ATT_BN;
    for (int j = 0; j < tiles; j++) {
        u32 cur = s0 + (j & 1) * ATT_STAGE_BYTES;
        if (j + 1 < tiles) {
            u32 nxt = s0 + ((j + 1) & 1) * ATT_STAGE_BYTES;
            load_rows<ATT_BN>(nxt, K, (j + 1) * ATT_BN, t, stride);
            load_rows<ATT_BN>(nxt + ATT_TILE_BYTES, V, (j + 1) * ATT_BN, t, stride);
        }
        cp_async_commit();
        if (active) attention_forward_tile(o, m, l, qf, cur, j * ATT_BN, t);
        cp_async_wait_all();
        __syncthreads();
    }
    if (active) attention_forward_store(out, outh, lse, o, m, l, b, h, q0, t, nh);
}

// Block (q-block, h, b) on the packed qkvh scratch (attention_pack_kernel2 / attention_pack_rope_kernel2).
extern "C" __global__ void __launch_bounds__(ATT_THREADS, ATT_FWD_MIN_BLOCKS)
    attention_forward_kernel2(float* __restrict__ out,         // (B, T, C) =, or null (outh only)
                              bf16* __restrict__ outh,         // (B, T, C) bf16 = bf16(out), or null
                              float* __restrict__ lse,         // (B, NH, T) =
                              const bf16* __restrict__ qkvh,   // (3, B, NH, T, 64) bf16
                              int batch, int t, int nh) {
    __shared__ __align__(16) bf16 smem[2 * ATT_STAGE_BYTES / 2];  // 2 stages x (K, V); Q first sits in stage 1
    int b = blockIdx.z, h = blockIdx.y;
    i64 bh = (i64)b * nh + h, head = (i64)t * ATT_D, parts = (i64)batch * nh * head;
    const bf16* Q = qkvh + bh * head;
    attention_forward_rows(smem, out, outh, lse, Q, Q + parts, Q + 2 * parts, ATT_D, b, h, t, nh);
}

// kernel2 reading Q, K and V where they lie, with no pack: rows of ld elements, (B, T, ld) each, head h at h * 64 of a
// row; a bf16 qkv (B, T, 3C) is q = qkv, k = qkv + C, v = qkv + 2C, ld = 3C (or Q and K from another buffer of that
// layout: attention_rope_rows_kernel1's). Bitwise kernel2 on the same values packed. q, k, v 16-byte aligned,
// ld % 8 == 0. grid = (ceil(T/128), NH, B), block = 128.
extern "C" __global__ void __launch_bounds__(ATT_THREADS, ATT_FWD_MIN_BLOCKS)
    attention_forward_kernel5(float* __restrict__ out,         // (B, T, C) =, or null (outh only)
                              bf16* __restrict__ outh,         // (B, T, C) bf16 = bf16(out), or null
                              float* __restrict__ lse,         // (B, NH, T) =
                              const bf16* __restrict__ q,      // (B, T, ld) bf16, Q of head h at h * 64
                              const bf16* __restrict__ k,      // (B, T, ld) bf16, K likewise
                              const bf16* __restrict__ v,      // (B, T, ld) bf16, V likewise
                              i64 ld, int batch, int t, int nh) {
    __shared__ __align__(16) bf16 smem[2 * ATT_STAGE_BYTES / 2];  // 2 stages x (K, V); Q first sits in stage 1
    int b = blockIdx.z, h = blockIdx.y;
    i64 at = (i64)b * t * ld + h * ATT_D;
    attention_forward_rows(smem, out, outh, lse, q + at, k + at, v + at, ld, b, h, t, nh);
}

// attention_forward_kernel2 with RoPE and the pack fused in, for T <= 128 (one query block per head): Q and K of
// the block's head are rotated in qkv in place (bitwise attention_pack_rope_kernel2; only when keep != 0: a forward
// nobody differentiates leaves qkv as it was and saves the write-back), and Q, K, V go from qkv to
// shared memory as bf16 (bitwise that pack), so out, outh and lse are bitwise pack_rope + kernel2. Block (0, h, b):
// grid = (1, NH, B), block = 128; qkv, cos and sin 16-byte aligned (float4 loads and stores), C % 4 == 0.
extern "C" __global__ void __launch_bounds__(ATT_THREADS, ATT_FWD_MIN_BLOCKS)
    attention_forward_rope_kernel3(float* __restrict__ out,         // (B, T, C) =, or null (outh only)
                                   bf16* __restrict__ outh,         // (B, T, C) bf16 = bf16(out), or null
                                   float* __restrict__ lse,         // (B, NH, T) =
                                   float* __restrict__ qkv,         // (B, T, 3C) Q, K of head h rotated in place
                                   const float* __restrict__ cos,   // (T, 64)
                                   const float* __restrict__ sin,   // (T, 64)
                                   int batch, int t, int nh,
                                   int keep) {                      // 0: Q, K not written back (qkv read only)
    __shared__ __align__(16) bf16 smem[2 * ATT_STAGE_BYTES / 2];  // K, V rows 0-63 in stage 0; Q, then K, V 64-127
    attention_forward_rope(smem, out, outh, lse, qkv, cos, sin, batch, t, nh, keep, blockIdx.z, blockIdx.y);
}

// kernel3 on a bf16 qkv (the GEMM's bf16 product: CudaBackend.Bf16Intermediates; the no-grad forwards, and the
// recorded ones at T <= 128 with Bf16RecordedQkv, whose backward, attention_backward_kernel4, rotates it again):
// the same rotation on the stored bf16 values widened to fp32, so out, outh and lse are bitwise kernel3 on an fp32
// qkv holding those values. qkv is read only. Block (0, h, b): grid = (1, NH, B), block = 128; qkv 8-byte,
// cos and sin 16-byte aligned.
extern "C" __global__ void __launch_bounds__(ATT_THREADS, ATT_FWD_MIN_BLOCKS)
    attention_forward_rope_kernel4(float* __restrict__ out,         // (B, T, C) =, or null (outh only)
                                   bf16* __restrict__ outh,         // (B, T, C) bf16 = bf16(out), or null
                                   float* __restrict__ lse,         // (B, NH, T) =
                                   bf16* __restrict__ qkv,          // (B, T, 3C) bf16, read only
                                   const float* __restrict__ cos,   // (T, 64)
                                   const float* __restrict__ sin,   // (T, 64)
                                   int batch, int t, int nh) {
    __shared__ __align__(16) bf16 smem[2 * ATT_STAGE_BYTES / 2];  // K, V rows 0-63 in stage 0; Q, then K, V 64-127
    attention_forward_rope(smem, out, outh, lse, qkv, cos, sin, batch, t, nh, 0, blockIdx.z, blockIdx.y);
}

// kernel4 at 4 resident blocks per SM instead of 2: one 16-row tile per warp and pass (MT = 1, two passes) instead
// of two at once, which takes it to 128 registers without spilling (kernel4: 231), so twice the blocks hide each
// other's memory latency (the T = 82 forwards at batch 768, kernel4 and kernel3 together, moved 1.2 TB/s on an H200:
// latency-bound). Bitwise kernel4 (every row is computed alike in either mode). Same grid, block and arguments.
extern "C" __global__ void __launch_bounds__(ATT_THREADS, 4)
    attention_forward_rope_kernel6(float* __restrict__ out,         // (B, T, C) =, or null (outh only)
                                   bf16* __restrict__ outh,         // (B, T, C) bf16 = bf16(out), or null
                                   float* __restrict__ lse,         // (B, NH, T) =
                                   bf16* __restrict__ qkv,          // (B, T, 3C) bf16, read only
                                   const float* __restrict__ cos,   // (T, 64)
                                   const float* __restrict__ sin,   // (T, 64)
                                   int batch, int t, int nh) {
    __shared__ __align__(16) bf16 smem[2 * ATT_STAGE_BYTES / 2];  // K, V rows 0-63 in stage 0; Q, then K, V 64-127
    attention_forward_rope<bf16, true, 1>(smem, out, outh, lse, qkv, cos, sin, batch, t, nh, 0, blockIdx.z,
                                          blockIdx.y);
}
