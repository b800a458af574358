// common.cuh — CPU stand-in for native/kernels/common.cuh (tests only; the CUDA kernel emulator of tests/gpu-emu).
//
// build.sh compiles every native/kernels/X.cu as C++17 next to this file instead of the real header. It provides:
//   * the CUDA keywords and built-ins the kernels use (threadIdx..., __syncthreads, shuffles, float2..., bit casts,
//     __fmul_rn..., min/max), as plain C++;
//   * the real header's API with the same semantics: bf16 conversions, warp/block reductions (the same code), and
//     the PTX instructions of the real header (cvt.rn.bf16x2, ex2.approx.ftz, ldmatrix, mma.m16n8k16, cp.async)
//     emulated per the PTX ISA.
// Each CUDA thread runs as a coroutine (emu_core.cpp); warp-wide operations and barriers switch between them, and a
// warp-wide operation completes only when all 32 lanes of the warp have reached it.
// Shared memory: build.sh rewrites `__shared__ T x[..];` into a static array registered with emu_shared_static()
// (filled with NaN garbage at the start of each block, as a GPU leaves it uninitialised) and `extern __shared__ T
// x[];` into `T* x = (T*)emu_dynamic_smem();`. Shared addresses (smem_u32) are offsets in a per-block 32-bit window
// of the registered arrays; ldmatrix and cp.async check them against the array they point into.
#pragma once
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#define EMU_API __attribute__((visibility("hidden")))

// ---- CUDA keywords -----------------------------------------------------------------------------------------------
#define __global__
#define __device__ static  // device helpers get internal linkage: every kernel file is linked into one library
#define __host__
#define __forceinline__ inline
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __restrict__ __restrict
#define __align__(n) __attribute__((aligned(n)))
#define __shared__ EMU_ERROR_shared_declaration_not_rewritten_by_build_sh

typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef int i32;
typedef long long i64;
typedef u16 bf16;  // bfloat16 bit pattern

#define HRM_DEVICE static inline
#define HRM_FULL_MASK 0xffffffffu

// ---- built-in variables and vector types -------------------------------------------------------------------------
struct uint3 { unsigned x, y, z; };
struct dim3 { unsigned x, y, z; };
extern EMU_API uint3 threadIdx, blockIdx;  // set by the scheduler before it resumes a thread
extern EMU_API dim3 blockDim, gridDim;
static const int warpSize = 32;

// Vector types (aligned as in CUDA): a GPU faults on a misaligned access, e.g. *reinterpret_cast<float4*>(p) with p
// not 16-byte aligned; copies from and assignments to these check the address (then copy as bytes).
[[noreturn]] EMU_API void emu_fail(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void emu_check_align(const void* p, unsigned align, const char* type) {
    uintptr_t a = (uintptr_t)p;
    asm("" : "+r"(a));  // hides the type's alignment, which lets the optimiser fold the test away (clang does)
    if (a % align) emu_fail("misaligned %s access at %p (a GPU needs %u-byte alignment)", type, p, align);
}
#define EMU_VECTOR_TYPE(T, E, A, ...)                                                     \
    struct __align__(A) T {                                                              \
        E __VA_ARGS__;                                                                   \
        T() = default;                                                                   \
        T(const T& o) { emu_check_align(&o, A, #T), memcpy((void*)this, &o, sizeof o); } \
        T& operator=(const T& o) {                                                       \
            emu_check_align(this, A, #T), emu_check_align(&o, A, #T);                    \
            memcpy((void*)this, &o, sizeof o);                                           \
            return *this;                                                                \
        }                                                                                \
    };
EMU_VECTOR_TYPE(float2, float, 8, x, y)
EMU_VECTOR_TYPE(float4, float, 16, x, y, z, w)
EMU_VECTOR_TYPE(uint2, unsigned, 8, x, y)
EMU_VECTOR_TYPE(uint4, unsigned, 16, x, y, z, w)
static inline float2 make_float2(float x, float y) { float2 r; r.x = x, r.y = y; return r; }
static inline float4 make_float4(float x, float y, float z, float w) {
    float4 r;
    r.x = x, r.y = y, r.z = z, r.w = w;
    return r;
}
static inline uint2 make_uint2(unsigned x, unsigned y) { uint2 r; r.x = x, r.y = y; return r; }
static inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) {
    uint4 r;
    r.x = x, r.y = y, r.z = z, r.w = w;
    return r;
}

// ---- math built-ins ----------------------------------------------------------------------------------------------
// expf, logf, sqrtf, atan2f, fmaf, fmaxf, exp, log, log1p, fmax, fabs come from <math.h> (glibc: within 1 ulp where
// CUDA's are within 2; IEEE sqrtf and division as NVRTC's defaults). build.sh passes -ffp-contract=off, so a * b + c
// is never fused here (NVRTC fuses by default: results of such expressions may differ in the last bit).
template <class To, class From> static inline To emu_bits(From v) {
    static_assert(sizeof(To) == sizeof(From), "bit cast");
    To r;
    memcpy(&r, &v, sizeof r);
    return r;
}
static inline float __int_as_float(int v) { return emu_bits<float>(v); }
static inline float __uint_as_float(unsigned v) { return emu_bits<float>(v); }
static inline int __float_as_int(float v) { return emu_bits<int>(v); }
static inline unsigned __float_as_uint(float v) { return emu_bits<unsigned>(v); }
static inline double __longlong_as_double(long long v) { return emu_bits<double>(v); }
static inline long long __double_as_longlong(double v) { return emu_bits<long long>(v); }
static inline float __fmul_rn(float a, float b) { return a * b; }  // never contracted (-ffp-contract=off)
static inline float __fadd_rn(float a, float b) { return a + b; }
static inline float __fsub_rn(float a, float b) { return a - b; }
static inline float __fdiv_rn(float a, float b) { return a / b; }
static inline int min(int a, int b) { return a < b ? a : b; }
static inline int max(int a, int b) { return a > b ? a : b; }
static inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
static inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
static inline long long min(long long a, long long b) { return a < b ? a : b; }
static inline long long max(long long a, long long b) { return a > b ? a : b; }
static inline float min(float a, float b) { return fminf(a, b); }
static inline float max(float a, float b) { return fmaxf(a, b); }
static inline double min(double a, double b) { return fmin(a, b); }
static inline double max(double a, double b) { return fmax(a, b); }

// ---- the emulator core (emu_core.cpp) ----------------------------------------------------------------------------
EMU_API void emu_shared_static(const void* p, unsigned bytes);  // a static __shared__ array (see the top)
EMU_API void* emu_dynamic_smem();                               // the block's dynamic shared memory
EMU_API u32 emu_smem_addr(const void* p);                       // cvta.to.shared
EMU_API int emu_syncthreads(int pred);                          // __syncthreads_or; 0 when nobody passed pred
EMU_API void emu_grid_sync();                                   // every thread of the grid arrives

// A warp-wide operation: the lane writes its operands to emu_lane()->in, emu_warp_op() returns once all 32 lanes
// of the warp reached an operation of the same kind and the results are in emu_lane()->out.
enum { EMU_OP_SHFL = 1, EMU_OP_LDMATRIX, EMU_OP_MMA };
struct EmuLane { u32 in[10], out[4]; };
extern EMU_API EmuLane* emu_cur_lane;  // the current thread's
static inline EmuLane* emu_lane() { return emu_cur_lane; }
EMU_API void emu_warp_op(int kind, u32 mask);

EMU_API void emu_cp_async(u32 dst, const void* src, int bytes, bool valid);
EMU_API void emu_cp_async_wait_all();

static inline void __syncthreads() { emu_syncthreads(0); }
static inline int __syncthreads_or(int pred) { return emu_syncthreads(pred != 0); }

// shfl.sync (PTX ISA "shfl.sync"): mode 0 up, 1 down, 2 bfly, 3 idx; b the lane operand, c = ((32 - width) << 8) |
// (up ? 0 : 31) as CUDA's __shfl_*_sync pass it. 8-byte values go as two 32-bit shuffles (as CUDA does).
template <class T> static inline T emu_shfl(u32 mask, T v, int mode, int b, int width) {
    static_assert(sizeof(T) == 4 || sizeof(T) == 8, "shuffle of a 4- or 8-byte value");
    EmuLane* l = emu_lane();
    memcpy(l->in, &v, sizeof(T));
    l->in[2] = sizeof(T) / 4;
    l->in[3] = (u32)mode;
    l->in[4] = (u32)b;
    l->in[5] = ((u32)(32 - width) << 8) | (mode == 0 ? 0u : 31u);
    emu_warp_op(EMU_OP_SHFL, mask);
    T r;
    memcpy(&r, l->out, sizeof(T));
    return r;
}
template <class T> static inline T __shfl_sync(u32 mask, T v, int src, int width = 32) {
    return emu_shfl(mask, v, 3, src, width);
}
template <class T> static inline T __shfl_xor_sync(u32 mask, T v, int laneMask, int width = 32) {
    return emu_shfl(mask, v, 2, laneMask, width);
}
template <class T> static inline T __shfl_up_sync(u32 mask, T v, unsigned delta, int width = 32) {
    return emu_shfl(mask, v, 0, (int)delta, width);
}
template <class T> static inline T __shfl_down_sync(u32 mask, T v, unsigned delta, int width = 32) {
    return emu_shfl(mask, v, 1, (int)delta, width);
}
// vote.sync.all (PTX ISA "vote.sync"): nonzero when pred holds in every lane; a butterfly of shuffles here.
static inline int __all_sync(u32 mask, int pred) {
    int v = pred != 0;
    for (int o = 16; o > 0; o >>= 1) v &= __shfl_xor_sync(mask, v, o);
    return v;
}

// ---- bf16 (same code as the real header) -------------------------------------------------------------------------
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

// cvt.rn.bf16x2.f32 d, a, b (PTX ISA "cvt"): a (here hi) to the upper half, b (lo) to the lower half; round to
// nearest even, subnormals kept, a NaN becomes the canonical NaN 0x7fff.
static inline u32 emu_cvt_rn_bf16(float f) {
    u32 bits = __float_as_uint(f);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return 0x7fffu;
    return (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
}
HRM_DEVICE u32 pack_bf16x2(float lo, float hi) { return (emu_cvt_rn_bf16(hi) << 16) | emu_cvt_rn_bf16(lo); }

// ---- reductions (same code as the real header) -------------------------------------------------------------------
HRM_DEVICE float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(HRM_FULL_MASK, v, o);
    return v;
}

HRM_DEVICE double warp_sum_f64(double v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(HRM_FULL_MASK, v, o);
    return v;
}

HRM_DEVICE int warp_sum_i32(int v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(HRM_FULL_MASK, v, o);
    return v;
}

HRM_DEVICE float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(HRM_FULL_MASK, v, o));
    return v;
}

HRM_DEVICE float block_sum(float v, float* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    v = warp_sum(v);
    __syncthreads();
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

// ---- math --------------------------------------------------------------------------------------------------------

// ex2.approx.ftz.f32: a subnormal input counts as 0, a subnormal result flushes to +0 (2^-inf = +0).
HRM_DEVICE float hrm_exp2_approx(float x) {
    if (fabsf(x) < 1.17549435e-38f) x = 0.0f;
    float y = exp2f(x);
    return y < 1.17549435e-38f ? 0.0f : y;
}

#define HRM_LOG2E 1.4426950408889634f
#define HRM_LN2 0.6931471805599453f

// ---- tensor cores (emulated in emu_core.cpp, PTX ISA "ldmatrix" and "mma.m16n8k16") --------------------------------

HRM_DEVICE u32 smem_u32(const void* p) { return emu_smem_addr(p); }

// in[0] = this lane's row address, in[1] = .trans; out[0..3] = r[0..3].
static inline void emu_ldmatrix(u32 (&r)[4], u32 addr, u32 trans) {
    EmuLane* l = emu_lane();
    l->in[0] = addr;
    l->in[1] = trans;
    emu_warp_op(EMU_OP_LDMATRIX, HRM_FULL_MASK);
    for (int i = 0; i < 4; i++) r[i] = l->out[i];
}
HRM_DEVICE void ldmatrix_x4(u32 (&r)[4], u32 addr) { emu_ldmatrix(r, addr, 0); }
HRM_DEVICE void ldmatrix_x4_trans(u32 (&r)[4], u32 addr) { emu_ldmatrix(r, addr, 1); }

// in = a0..a3, b0, b1, c0..c3 (fp32 bits); out = d0..d3.
HRM_DEVICE void mma_bf16_16816(float (&d)[4], u32 a0, u32 a1, u32 a2, u32 a3, u32 b0, u32 b1) {
    EmuLane* l = emu_lane();
    const u32 ab[6] = {a0, a1, a2, a3, b0, b1};
    memcpy(l->in, ab, sizeof ab);
    memcpy(l->in + 6, d, sizeof d);
    emu_warp_op(EMU_OP_MMA, HRM_FULL_MASK);
    memcpy(d, l->out, sizeof d);
}

// ---- asynchronous copies (sm_80+) --------------------------------------------------------------------------------
// The copy is recorded when issued and lands in shared memory only at cp_async_wait_all of the issuing thread (so a
// read before the wait, or by another thread before the following __syncthreads, sees stale data or is reported).
HRM_DEVICE void cp_async_16(u32 dst, const void* src, bool valid) { emu_cp_async(dst, src, 16, valid); }
HRM_DEVICE void cp_async_4(u32 dst, const void* src, bool valid) { emu_cp_async(dst, src, 4, valid); }
HRM_DEVICE void cp_async_commit() {}  // groups only matter to wait_group N > 0, which the kernels do not use
HRM_DEVICE void cp_async_wait_all() { emu_cp_async_wait_all(); }

// ---- grid-wide barrier ---------------------------------------------------------------------------------------------
// hrm_time_ns: the host's monotonic clock in nanoseconds (the GPU's %globaltimer).
HRM_DEVICE long long hrm_time_ns() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// The real one spins on global memory, which coroutines cannot (the blocks run interleaved on one thread): here the
// emulator parks the block until every block of the grid has arrived (emu_core.cpp). `bar` is read, not written.
// It checks what the real one relies on: bar[0] (the arrival count) is 0 whenever a barrier starts.
HRM_DEVICE void grid_barrier(u32* bar, u32 nblocks) {
    (void)nblocks;
    if (threadIdx.x == 0 && threadIdx.y == 0 && threadIdx.z == 0 && bar[0] != 0)
        emu_fail("grid_barrier: bar[0] = %u at a barrier's start (the real barrier would never complete: its two "
                 "words must be zero before the launch, and every barrier leaves them so)", bar[0]);
    emu_grid_sync();
}
