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
// Launch (all kernels): grid = N (one block per row), block = 256 (any multiple of 32), dynamic smem 0.
//
// Versions: kernel1 = one block per row, one element per thread per iteration, fp32 gateUp; kernel2 = the same
// with bf16 gateUp, act and dact.
#include "common.cuh"

// One row: act = SiLU(g) * u, stored to a (fp32) and/or ah (bf16) where not null. T = float or bf16 storage of gateUp.
template <typename T>
HRM_DEVICE void swiglu_forward_row(float* __restrict__ a, bf16* __restrict__ ah, const T* __restrict__ gate,
                                   const T* __restrict__ up, int inter) {
    for (int i = threadIdx.x; i < inter; i += blockDim.x) {
        float g = as_f32(gate[i]);
        float y = g / (1.0f + expf(-g)) * as_f32(up[i]);
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
        float g = as_f32(gate[i]);
        float s = 1.0f / (1.0f + expf(-g));
        float ds = as_f32(da[i]) * s;
        float dg = ds * as_f32(up[i]) * fmaf(g, 1.0f - s, 1.0f), du = ds * g;
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
