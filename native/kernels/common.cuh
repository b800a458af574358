// common.cuh — the only header of the HRM kernels (passed to NVRTC as an in-memory header).
//
// Every kernel file compiles on its own for sm_80 and sm_90 with no CUDA toolkit header and no -D option (written
// for NVRTC 11.8, 12.x and 13.x using NVRTC builtins only; checked with 11.8). This file provides:
//   * fixed-width integer typedefs (u16, u32, u64, i32, i64) and bf16 (= u16 bit pattern);
//   * bf16 <-> f32 conversion: f32_to_bf16 rounds to nearest, ties to even; a NaN becomes the quiet NaN 0x7FC0 with
//     the input's sign (bit-identical to Hrm.Runtime.Numerics.BFloat16.FromFloat); pack_bf16x2 is the hardware
//     cvt.rn.bf16x2.f32 (same rounding, canonical NaN), used to feed tensor cores;
//   * warp reductions (sum, max) through __shfl_xor_sync: every lane gets the result;
//   * block reductions (sum) for blockDim.x a multiple of 32 (<= 1024): every thread gets the result;
//   * exp: hrm_exp2_approx = ex2.approx.ftz.f32 (fast, about 2 ulp, for softmax with log2(e) folded into the
//     scores); everywhere else the accurate libdevice expf / exp (no --use_fast_math is ever passed);
//   * tensor cores: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 and ldmatrix(.trans).x4 through inline PTX;
//   * cp.async (16-byte and 4-byte, zero-filling when the source is out of range), commit and wait (sm_80+).
//
// Fragment layouts of mma.m16n8k16 (PTX ISA "Matrix Fragments for mma.m16n8k16"); g = lane >> 2, q = lane & 3:
//   A (16x16, row-major, 4 regs of 2 bf16):  a0 = (g, 2q..2q+1)  a1 = (g+8, 2q..)  a2 = (g, 2q+8..)  a3 = (g+8, 2q+8..)
//   B (16x8, "col" = stored N x K):          b0 = (k 2q..2q+1, n g)               b1 = (k 2q+8.., n g)
//   C/D (16x8 fp32, 4 regs):                 c0,c1 = (g, 2q..2q+1)                c2,c3 = (g+8, 2q..2q+1)
// In a register holding two bf16, the lower 16 bits hold the element with the smaller column (or k) index.
#pragma once

typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef int i32;
typedef long long i64;
typedef u16 bf16;   // bfloat16 bit pattern

#define HRM_DEVICE __device__ __forceinline__
#define HRM_FULL_MASK 0xffffffffu

// ---- bf16 -------------------------------------------------------------------------------------------------------

HRM_DEVICE bf16 f32_to_bf16(float f) {
    u32 bits = __float_as_uint(f);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (bf16)(((bits >> 16) & 0x8000u) | 0x7fc0u);  // NaN
    u32 rounding = 0x7fffu + ((bits >> 16) & 1u);
    return (bf16)((bits + rounding) >> 16);
}

HRM_DEVICE float bf16_to_f32(bf16 h) { return __uint_as_float(((u32)h) << 16); }

// A stored element as fp32: a float as it is, a bf16 widened (for kernels templated on their storage type).
HRM_DEVICE float as_f32(float x) { return x; }
HRM_DEVICE float as_f32(bf16 h) { return bf16_to_f32(h); }

// Two floats as bf16 in one register: lo in bits 0..15, hi in bits 16..31 (RNE, hardware conversion).
// cvt.rn.bf16x2.f32 d, a, b puts a in the upper half and b in the lower half.
HRM_DEVICE u32 pack_bf16x2(float lo, float hi) {
    u32 r;
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
    return r;
}

// ---- reductions ------------------------------------------------------------------------------------------------

HRM_DEVICE float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(HRM_FULL_MASK, v, o);
    return v;
}

HRM_DEVICE double warp_sum_f64(double v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(HRM_FULL_MASK, v, o);
    return v;
}

HRM_DEVICE int warp_sum_i32(int v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(HRM_FULL_MASK, v, o);
    return v;
}

HRM_DEVICE float warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(HRM_FULL_MASK, v, o));
    return v;
}

// Sum over the block; scratch: >= 32 elements of shared memory. All threads must call it; all get the result.
// The order of additions is fixed by blockDim, so the result is deterministic.
HRM_DEVICE float block_sum(float v, float* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    v = warp_sum(v);
    __syncthreads();  // scratch may still be read by a previous call
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : 0.0f;
    return warp_sum(v);
}

HRM_DEVICE double block_sum_f64(double v, double* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    v = warp_sum_f64(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : 0.0;
    return warp_sum_f64(v);
}

HRM_DEVICE int block_sum_i32(int v, int* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    v = warp_sum_i32(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : 0;
    return warp_sum_i32(v);
}

// ---- math ------------------------------------------------------------------------------------------------------

// 2^x, ex2.approx.ftz.f32: max relative error about 2^-22; 2^-inf = +0; denormal results flush to 0.
HRM_DEVICE float hrm_exp2_approx(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}

#define HRM_LOG2E 1.4426950408889634f
#define HRM_LN2 0.6931471805599453f

// ---- tensor cores ------------------------------------------------------------------------------------------------

// Shared-memory address (32-bit) of a generic pointer into shared memory.
HRM_DEVICE u32 smem_u32(const void* p) {
    u32 r;
    asm("{ .reg .u64 t; cvta.to.shared.u64 t, %1; cvt.u32.u64 %0, t; }" : "=r"(r) : "l"(p));
    return r;
}

// Four 8x8 b16 matrices; lanes 8i..8i+7 give the row addresses (16 bytes each) of matrix i, r[i] receives it:
// lane holds row lane>>2, columns 2(lane&3), 2(lane&3)+1 (.trans: the transposed matrix).
HRM_DEVICE void ldmatrix_x4(u32 (&r)[4], u32 addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(addr));
}

HRM_DEVICE void ldmatrix_x4_trans(u32 (&r)[4], u32 addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(addr));
}

// d += A (16x16 bf16, row) * B (16x8 bf16, col), fp32 accumulate.
HRM_DEVICE void mma_bf16_16816(float (&d)[4], u32 a0, u32 a1, u32 a2, u32 a3, u32 b0, u32 b1) {
    asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

// ---- asynchronous copies (sm_80+) ---------------------------------------------------------------------------------

// 16 bytes global -> shared; when !valid the 16 bytes are zero-filled (src must still be a valid address).
HRM_DEVICE void cp_async_16(u32 dst, const void* src, bool valid) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(dst), "l"(src), "r"(valid ? 16 : 0));
}

// 4 bytes global -> shared; zero-filled when !valid.
HRM_DEVICE void cp_async_4(u32 dst, const void* src, bool valid) {
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;" ::"r"(dst), "l"(src), "r"(valid ? 4 : 0));
}

HRM_DEVICE void cp_async_commit() { asm volatile("cp.async.commit_group;" ::: "memory"); }

// Waits for every committed group of this thread; a __syncthreads() must follow before other threads' data is read.
HRM_DEVICE void cp_async_wait_all() { asm volatile("cp.async.wait_group 0;" ::: "memory"); }

// ---- grid-wide barrier (persistent kernels) ---------------------------------------------------------------------

// The GPU's global timer in nanoseconds (%globaltimer: the same on every SM; for stage timings).
HRM_DEVICE long long hrm_time_ns() {
    u64 t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    return (long long)t;
}

// Every thread of every block of the grid calls it; returns once all have, with every global-memory write made
// before it by any thread of the grid visible to every thread after it (the pattern of cooperative groups'
// grid.sync: a block barrier, thread 0 arrives with release semantics through __threadfence and an atomic, waits for
// the generation to move, __threadfence, a block barrier). bar: 2 words in global memory, zero before the first
// launch that uses them and left so by every barrier (bar[0] counts arrivals, bar[1] is the generation, which only
// ever grows). Only for grids whose blocks are all resident at once (a cooperative launch, which the driver refuses
// otherwise, of at most the occupancy query's blocks per SM times the SMs): otherwise the first blocks would wait for
// ones that cannot start. A wait longer than about 2^33 clock
// cycles (seconds) traps (CUDA_ERROR_LAUNCH_FAILED on the host) instead of hanging the device.
HRM_DEVICE void grid_barrier(u32* bar, u32 nblocks) {
    __syncthreads();
    if (threadIdx.x == 0 && threadIdx.y == 0 && threadIdx.z == 0) {
        volatile u32* gen = bar + 1;
        u32 g = *gen;  // cannot move before this block arrives
        __threadfence();
        if (atomicAdd(bar, 1u) == nblocks - 1) {
            atomicExch(bar, 0u);  // before the generation moves: the next barrier's arrivals start from 0
            __threadfence();
            atomicAdd(bar + 1, 1u);
        } else {
            long long t0 = clock64();
            while (*gen == g) {
                asm volatile("nanosleep.u32 64;");
                if (clock64() - t0 > (1LL << 33)) __trap();
            }
        }
        __threadfence();
    }
    __syncthreads();
}
