// swiglu.cu — SwiGLU activation (HrmOp.SwiGlu), mirroring CpuOps.SwiGlu.cs.
//
// gateUp row r = [gate (I) | up (I)]: g = gateUp[r, i], u = gateUp[r, I + i].
// Forward (=):   act[r, i] = g / (1 + expf(-g)) * u                       (SiLU(g) * u)
// Backward (=):  s = 1 / (1 + expf(-g));  dgateUp[r, i] = dact * s * u * (1 + g * (1 - s))
//                                         dgateUp[r, I + i] = dact * s * g
//
// Buffers (N = rows = B*T): gateUp, dgateUp (N, 2I) float; act, dact (N, I) float; acth (N, I), dgateUph (N, 2I) bf16
// = bf16(act), bf16(dgateUp) (RNE, as f32_to_bf16_kernel1), written only when not null (the next bf16 GEMM's operand:
// the down projection's input, the gate/up projection's output gradient). expf is the accurate libdevice
// expf (the CPU uses its own ~1 ulp exp).
//
// kernel2 (bf16 intermediates: the model stores gateUp, act, dact and dgateUp in bf16, CudaBackend.Bf16Intermediates):
// the same formulas in fp32 on the stored bf16 g, u and dact; the forward writes act rounded to bf16 (RNE), the
// backward writes dgateUp in fp32 and/or bf16 (either may be null: with bf16 intermediates only the bf16 one).
//
// Launch (kernel1, kernel2): grid = N (one block per row), block = 256 (any multiple of 32), dynamic smem 0; kernel3:
// below.
//
// Versions: kernel1 = one block per row, one element per thread per iteration, fp32 gateUp; kernel2 = the same
// with bf16 gateUp, act and dact; kernel3 = kernel2 with 8 elements per thread (16-byte loads and stores) over the
// flattened (N, I/8) vectors: grid = ceil(N * I / 8 / 256), block = 256, I % 8 == 0, every buffer 16-byte aligned.
// kernel2's 2-byte loads kept too few bytes in flight: the gate/up GEMM + SwiGLU op ran at 0.683 ms per call at
// Sudoku batch 768 on an H200 (2026-11-30), of which the GEMM at the measured 541 TFLOP/s is ~0.37 ms, so the
// SwiGLU pass (580 MB) ran near 1.8 TB/s.
#include "common.cuh"
#include "swiglu.cuh"

// One row: act = SiLU(g) * u, stored to a (fp32) and/or ah (bf16) where not null. T = float or bf16 storage of gateUp.
template <typename T>
HRM_DEVICE void swiglu_forward_row(float* __restrict__ a, bf16* __restrict__ ah, const T* __restrict__ gate,
                                   const T* __restrict__ up, int inter) {
    for (int i = threadIdx.x; i < inter; i += blockDim.x) {
        float y = swiglu_forward_elem(as_f32(gate[i]), as_f32(up[i]));
        if (a) a[i] = y;
        if (ah) ah[i] = f32_to_bf16(y);
    }
}

// One row: dgate, dup from dact, stored to d (fp32, [dgate | dup]) and/or dh (bf16) where not null. T = float or bf16
// storage of dact and gateUp.
template <typename T>
HRM_DEVICE void swiglu_backward_row(float* __restrict__ d, bf16* __restrict__ dh, const T* __restrict__ da,
                                    const T* __restrict__ gate, const T* __restrict__ up, int inter) {
    for (int i = threadIdx.x; i < inter; i += blockDim.x) {
        float dg, du;
        swiglu_backward_elem(as_f32(da[i]), as_f32(gate[i]), as_f32(up[i]), dg, du);
        if (d) {
            d[i] = dg;
            d[inter + i] = du;
        }
        if (dh) {
            dh[i] = f32_to_bf16(dg);
            dh[inter + i] = f32_to_bf16(du);
        }
    }
}

// act = SiLU(gate) * up. One block per row: grid = N, block = 256.
extern "C" __global__ void swiglu_forward_kernel1(float* __restrict__ act,           // (N, I) =
                                                  bf16* __restrict__ acth,           // (N, I) bf16 = bf16(act), or null
                                                  const float* __restrict__ gateUp,  // (N, 2I) = [gate | up]
                                                  int rows, int inter) {
    int r = blockIdx.x;
    if (r >= rows) return;
    const float* gate = gateUp + 2 * (i64)r * inter;
    swiglu_forward_row(act + (i64)r * inter, acth ? acth + (i64)r * inter : nullptr, gate, gate + inter, inter);
}

// dgate, dup from dact. One block per row: grid = N, block = 256.
extern "C" __global__ void swiglu_backward_kernel1(float* __restrict__ dgateUp,       // (N, 2I) =
                                                   bf16* __restrict__ dgateUph,       // (N, 2I) bf16 = bf16(dgateUp), or null
                                                   const float* __restrict__ dact,    // (N, I)
                                                   const float* __restrict__ gateUp,  // (N, 2I)
                                                   int rows, int inter) {
    int r = blockIdx.x;
    if (r >= rows) return;
    i64 o = 2 * (i64)r * inter;
    swiglu_backward_row(dgateUp + o, dgateUph ? dgateUph + o : nullptr, dact + (i64)r * inter, gateUp + o,
                        gateUp + o + inter, inter);
}

// act (bf16) = SiLU(gate) * up from bf16 gateUp. One block per row: grid = N, block = 256.
extern "C" __global__ void swiglu_forward_kernel2(bf16* __restrict__ act,             // (N, I) bf16 =
                                                  const bf16* __restrict__ gateUp,    // (N, 2I) bf16 = [gate | up]
                                                  int rows, int inter) {
    int r = blockIdx.x;
    if (r >= rows) return;
    const bf16* gate = gateUp + 2 * (i64)r * inter;
    swiglu_forward_row(nullptr, act + (i64)r * inter, gate, gate + inter, inter);
}

// dgate, dup from bf16 dact and bf16 gateUp. One block per row: grid = N, block = 256.
extern "C" __global__ void swiglu_backward_kernel2(float* __restrict__ dgateUp,       // (N, 2I) =, or null
                                                   bf16* __restrict__ dgateUph,       // (N, 2I) bf16 = bf16(dgate, dup), or null
                                                   const bf16* __restrict__ dact,     // (N, I) bf16
                                                   const bf16* __restrict__ gateUp,   // (N, 2I) bf16
                                                   int rows, int inter) {
    int r = blockIdx.x;
    if (r >= rows) return;
    i64 o = 2 * (i64)r * inter;
    swiglu_backward_row(dgateUp ? dgateUp + o : nullptr, dgateUph ? dgateUph + o : nullptr, dact + (i64)r * inter,
                        gateUp + o, gateUp + o + inter, inter);
}

HRM_DEVICE float bf16_lo(u32 w) { return bf16_to_f32((bf16)(w & 0xffffu)); }
HRM_DEVICE float bf16_hi(u32 w) { return bf16_to_f32((bf16)(w >> 16)); }
HRM_DEVICE u32 bf16_pair(float lo, float hi) { return (u32)f32_to_bf16(lo) | ((u32)f32_to_bf16(hi) << 16); }

// Vector v of the flattened (N, I/8) view: row r, columns [c, c + 8).
HRM_DEVICE bool swiglu_vector(int rows, int inter, i64& r, int& c) {
    int per = inter >> 3;
    i64 v = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (v >= (i64)rows * per) return false;
    r = v / per;
    c = (int)(v - r * per) * 8;
    return true;
}

// kernel2 (forward) with 8 elements per thread: bitwise kernel2. grid = ceil(N * I / 8 / 256), block = 256;
// I % 8 == 0, act and gateUp 16-byte aligned.
extern "C" __global__ void swiglu_forward_kernel3(bf16* __restrict__ act,             // (N, I) bf16 =
                                                  const bf16* __restrict__ gateUp,    // (N, 2I) bf16 = [gate | up]
                                                  int rows, int inter) {
    i64 r;
    int c;
    if (!swiglu_vector(rows, inter, r, c)) return;
    const bf16* gate = gateUp + 2 * r * inter + c;
    uint4 g = *reinterpret_cast<const uint4*>(gate);
    uint4 u = *reinterpret_cast<const uint4*>(gate + inter);
    u32 gw[4] = {g.x, g.y, g.z, g.w}, uw[4] = {u.x, u.y, u.z, u.w}, y[4];
#pragma unroll
    for (int j = 0; j < 4; j++)
        y[j] = bf16_pair(swiglu_forward_elem(bf16_lo(gw[j]), bf16_lo(uw[j])),
                         swiglu_forward_elem(bf16_hi(gw[j]), bf16_hi(uw[j])));
    *reinterpret_cast<uint4*>(act + r * inter + c) = make_uint4(y[0], y[1], y[2], y[3]);
}

// kernel2 (backward) with 8 elements per thread: bitwise kernel2. grid = ceil(N * I / 8 / 256), block = 256;
// I % 8 == 0, every buffer 16-byte aligned.
extern "C" __global__ void swiglu_backward_kernel3(float* __restrict__ dgateUp,       // (N, 2I) =, or null
                                                   bf16* __restrict__ dgateUph,       // (N, 2I) bf16 = bf16(dgate, dup), or null
                                                   const bf16* __restrict__ dact,     // (N, I) bf16
                                                   const bf16* __restrict__ gateUp,   // (N, 2I) bf16
                                                   int rows, int inter) {
    i64 r;
    int c;
    if (!swiglu_vector(rows, inter, r, c)) return;
    i64 o = 2 * r * inter + c;
    uint4 a = *reinterpret_cast<const uint4*>(dact + r * inter + c);
    uint4 g = *reinterpret_cast<const uint4*>(gateUp + o);
    uint4 u = *reinterpret_cast<const uint4*>(gateUp + o + inter);
    u32 aw[4] = {a.x, a.y, a.z, a.w}, gw[4] = {g.x, g.y, g.z, g.w}, uw[4] = {u.x, u.y, u.z, u.w};
    float dg[8], du[8];
#pragma unroll
    for (int j = 0; j < 4; j++) {
        swiglu_backward_elem(bf16_lo(aw[j]), bf16_lo(gw[j]), bf16_lo(uw[j]), dg[2 * j], du[2 * j]);
        swiglu_backward_elem(bf16_hi(aw[j]), bf16_hi(gw[j]), bf16_hi(uw[j]), dg[2 * j + 1], du[2 * j + 1]);
    }
    if (dgateUp) {
        float4* d = reinterpret_cast<float4*>(dgateUp + o);
        float4* e = reinterpret_cast<float4*>(dgateUp + o + inter);
        d[0] = make_float4(dg[0], dg[1], dg[2], dg[3]);
        d[1] = make_float4(dg[4], dg[5], dg[6], dg[7]);
        e[0] = make_float4(du[0], du[1], du[2], du[3]);
        e[1] = make_float4(du[4], du[5], du[6], du[7]);
    }
    if (dgateUph) {
        *reinterpret_cast<uint4*>(dgateUph + o) =
            make_uint4(bf16_pair(dg[0], dg[1]), bf16_pair(dg[2], dg[3]), bf16_pair(dg[4], dg[5]), bf16_pair(dg[6], dg[7]));
        *reinterpret_cast<uint4*>(dgateUph + o + inter) =
            make_uint4(bf16_pair(du[0], du[1]), bf16_pair(du[2], du[3]), bf16_pair(du[4], du[5]), bf16_pair(du[6], du[7]));
    }
}
