// elementwise.cu — streaming ops of HrmOp.Elementwise, plus the bf16 casts that feed the bf16 GEMMs.
//
// Mirrors CpuOps.Elementwise.cs / CpuOps.Embedding.cs (GatherRows). All fp32 buffers are float*, ids and flags
// int32, bf16 buffers are u16 bit patterns. Every kernel writes its output (=); nothing accumulates.
//
//   add_kernel1          dst[i] = a[i] + b[i]                     dst, a, b (n)      dst may alias a or b
//                        dsth[i] = bf16(dst[i]) too when dsth is not null (dsth (n) u16; the bf16 GEMM's operand);
//                        dst null: only dsth is written (a bf16 residual stream)
//   fill_kernel1         dst[i] = value                           dst (n)
//   copy_kernel1         dst[i] = src[i]                          dst, src (n)       no partial overlap
//   reset_carry_kernel1  z[b,t,:] = init[:] where halted[b] != 0  z (B,T,C), init (C), halted (B) int32
//                        (a select, never a blend: NaN garbage in a reset row cannot survive)
//   gather_rows_kernel1  dst[n,:] = table[ids[n],:]               dst (N,W), table (R,W), ids (N) int32
//                        an id outside [0, R) yields a row of NaN (the host validates ids first, as CpuOps throws)
//   gather_rows_kernel2  gather_rows_kernel1 on bf16 dst and table (u16 bit patterns; NaN = 0x7FC0)
//   f32_to_bf16_kernel1  dst[i] = bf16(src[i]), RNE, NaN -> 0x7FC0|sign (= BFloat16.FromFloat)   dst (n) u16
//   bf16_to_f32_kernel1  dst[i] = float(src[i]) (exact)           dst (n) float, src (n) u16
//
// Launch, dynamic shared memory 0 everywhere:
//   add, fill, copy, f32_to_bf16, bf16_to_f32: block = 256, grid = max(1, min(ceil(n / 256), 65535)) (add_kernel2:
//     max(1, min(ceil(n / 1024), 65535))); grid-stride loops over a 64-bit n, so any grid >= 1 is correct; skip the
//     launch when n == 0.
//   reset_carry: grid = B*T (one block per row), block = 256 (any multiple of 32 works).
//   gather_rows: grid = N (one block per row), block = 256 (any multiple of 32 works).
//
// Versions: kernel1 = the plain port (one element per thread per iteration, coalesced); add_kernel2 = add with
// 4 elements per thread (16-byte loads and stores; dst, a, b 16-byte and dsth 8-byte aligned, any n: the last n % 4
// elements as kernel1), bitwise kernel1. kernel1's loads, one element at a time behind the loop bound and a possibly
// aliased store, ran the op near 2.66 TB/s on an H200 (Sudoku batch 768, 2026-11-30).
#include "common.cuh"

// dst = a + b (and dsth = bf16(dst) unless null). block = 256, grid = max(1, min(ceil(n / 256), 65535)).
extern "C" __global__ void add_kernel1(float* dst,               // (n) =, may alias a or b; or null
                                       bf16* __restrict__ dsth,  // (n) bf16 = bf16(dst), or null
                                       const float* a,           // (n)
                                       const float* b,           // (n)
                                       i64 n) {
    for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
        float x = a[i] + b[i];
        if (dst) dst[i] = x;
        if (dsth) dsth[i] = f32_to_bf16(x);
    }
}

// add_kernel1 with 4 elements per thread. block = 256, grid = max(1, min(ceil(n / 1024), 65535)).
extern "C" __global__ void add_kernel2(float* dst,               // (n) =, may alias a or b; or null
                                       bf16* __restrict__ dsth,  // (n) bf16 = bf16(dst), or null
                                       const float* a,           // (n)
                                       const float* b,           // (n)
                                       i64 n) {
    i64 n4 = n >> 2, stride = (i64)gridDim.x * blockDim.x;
    for (i64 v = (i64)blockIdx.x * blockDim.x + threadIdx.x; v < n4; v += stride) {
        float4 x = reinterpret_cast<const float4*>(a)[v], y = reinterpret_cast<const float4*>(b)[v];
        x.x = x.x + y.x;
        x.y = x.y + y.y;
        x.z = x.z + y.z;
        x.w = x.w + y.w;
        if (dst) reinterpret_cast<float4*>(dst)[v] = x;
        if (dsth)
            reinterpret_cast<uint2*>(dsth)[v] =
                make_uint2((u32)f32_to_bf16(x.x) | ((u32)f32_to_bf16(x.y) << 16),
                           (u32)f32_to_bf16(x.z) | ((u32)f32_to_bf16(x.w) << 16));
    }
    i64 i = 4 * n4 + (i64)blockIdx.x * blockDim.x + threadIdx.x;  // the tail: fewer than 4 elements
    if (i < n) {
        float x = a[i] + b[i];
        if (dst) dst[i] = x;
        if (dsth) dsth[i] = f32_to_bf16(x);
    }
}

// dst = value. block = 256, grid = max(1, min(ceil(n / 256), 65535)).
extern "C" __global__ void fill_kernel1(float* __restrict__ dst,  // (n) =
                                        float value, i64 n) {
    for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x)
        dst[i] = value;
}

// dst = src (no partial overlap). block = 256, grid = max(1, min(ceil(n / 256), 65535)).
extern "C" __global__ void copy_kernel1(float* __restrict__ dst,        // (n) =
                                        const float* __restrict__ src,  // (n)
                                        i64 n) {
    for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x)
        dst[i] = src[i];
}

// One block per row (b, t); rows of halted batch entries become init.
extern "C" __global__ void reset_carry_kernel1(float* __restrict__ z,           // (B, T, C) updated in place
                                               const float* __restrict__ init,  // (C)
                                               const int* __restrict__ halted,  // (B) int32, != 0: reset
                                               int batch, int t, int c) {
    int row = blockIdx.x;  // b * T + t
    if (row >= batch * t || halted[row / t] == 0) return;
    float* zr = z + (i64)row * c;
    for (int i = threadIdx.x; i < c; i += blockDim.x) zr[i] = init[i];
}

// The body of gather_rows_kernel1/2: row `row` of dst = row ids[row] of table, or `nan` for an out-of-range id.
template <typename T>
HRM_DEVICE void gather_row(T* __restrict__ dst, const T* __restrict__ table, const int* __restrict__ ids, int n, int w,
                           int tableRows, T nan) {
    int row = blockIdx.x;
    if (row >= n) return;
    int id = ids[row];
    bool ok = id >= 0 && id < tableRows;
    const T* src = table + (ok ? (i64)id * w : 0);
    T* d = dst + (i64)row * w;
    for (int i = threadIdx.x; i < w; i += blockDim.x) d[i] = ok ? src[i] : nan;
}

// One block per gathered row n; an out-of-range id gives NaN.
extern "C" __global__ void gather_rows_kernel1(float* __restrict__ dst,          // (N, W) =
                                               const float* __restrict__ table,  // (R, W)
                                               const int* __restrict__ ids,      // (N) int32
                                               int n, int w, int tableRows) {
    gather_row(dst, table, ids, n, w, tableRows, __int_as_float(0x7fc00000));
}

// gather_rows_kernel1 on bf16 rows (the no-grad forward's bf16 residual stream). One block per gathered row.
extern "C" __global__ void gather_rows_kernel2(bf16* __restrict__ dst,          // (N, W) bf16 =
                                               const bf16* __restrict__ table,  // (R, W) bf16
                                               const int* __restrict__ ids,     // (N) int32
                                               int n, int w, int tableRows) {
    gather_row(dst, table, ids, n, w, tableRows, (bf16)0x7fc0);
}

// dst = bf16(src), RNE, NaN -> 0x7FC0 | sign. block = 256, grid = max(1, min(ceil(n / 256), 65535)).
extern "C" __global__ void f32_to_bf16_kernel1(bf16* __restrict__ dst,         // (n) bf16 =
                                               const float* __restrict__ src,  // (n)
                                               i64 n) {
    for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x)
        dst[i] = f32_to_bf16(src[i]);
}

// dst = float(src) (exact). block = 256, grid = max(1, min(ceil(n / 256), 65535)).
extern "C" __global__ void bf16_to_f32_kernel1(float* __restrict__ dst,       // (n) =
                                               const bf16* __restrict__ src,  // (n) bf16
                                               i64 n) {
    for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x)
        dst[i] = bf16_to_f32(src[i]);
}
