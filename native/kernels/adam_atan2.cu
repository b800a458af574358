// adam_atan2.cu — one fused AdamATan2 step (adam-atan2 0.0.3, no epsilon) over a flat fp32 region
// (HrmOp.Optimizer), mirroring CpuOps.AdamATan2Step / ReferenceOps.AdamATan2Step.
//
// The host computes the per-call constants in double, exactly as AdamATan2Constants.Create, and rounds each to
// float:  stepSize = lr / (1 - beta1^t),  wdAlpha = 1 - lr*wd,  bc2Sqrt = sqrt(1 - beta2^t),
//         mb1 = 1 - beta1,  mb2 = 1 - beta2          (t = step number, 1 for the first update).
// Per element, in float, in this order (weight decay first):
//   p  = param * wdAlpha
//   m  = fma(mb1, g - m, m)                 (= beta1*m + (1-beta1)*g)
//   v  = fma(mb2, g*g - v, v)               (g*g rounded on its own, as the CPU does)
//   param = fma(-stepSize, atan2f(m, sqrtf(v) / bc2Sqrt), p)
//   shadow[i] = bf16(param) (RNE) when shadow != null: the bf16 copy of the updated weights for bf16 GEMMs.
// skip (1 int, or null): when *skip != 0 nothing is written (a diverged step, flagged on the device by
// act_metrics_kernel1, leaves the last good weights and moments without the host looking first).
// Zero param, grad, m and v stay zero (atan2f(0, 0) = 0). sqrtf and the division are IEEE (NVRTC defaults);
// atan2f is libdevice's (within 2 ulp), so results match the CPU's own atan2 to a few ulp, not bitwise.
//
// Buffers (n): param, m, v float (read and written); grad float (read); shadow u16 bf16 or null (written).
// In-place (=) on param, m, v; nothing is accumulated.
//
// Launch: block = 256, grid = max(1, min(ceil(n / 256), 65535)), dynamic smem 0; a grid-stride loop over a 64-bit
// n, so any grid >= 1 is correct; skip the launch when n == 0.
//
// Versions: kernel1 = one element per thread per iteration.
#include "common.cuh"

// One AdamATan2 step per element (see above). block = 256, grid = max(1, min(ceil(n / 256), 65535)).
extern "C" __global__ void adam_atan2_kernel1(float* __restrict__ param,       // (n) updated in place
                                              float* __restrict__ m,           // (n) first moment, in place
                                              float* __restrict__ v,           // (n) second moment, in place
                                              bf16* __restrict__ shadow,       // (n) bf16 = bf16(param), or null
                                              const float* __restrict__ grad,  // (n)
                                              i64 n, float stepSize, float wdAlpha, float bc2Sqrt, float mb1,
                                              float mb2, const int* __restrict__ skip) {  // (1) or null
    if (skip != nullptr && *skip != 0) return;
    for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
        float g = grad[i];
        float p = param[i] * wdAlpha;
        float mi = fmaf(mb1, g - m[i], m[i]);
        float vi = fmaf(mb2, __fsub_rn(__fmul_rn(g, g), v[i]), v[i]);
        float denom = sqrtf(vi) / bc2Sqrt;
        float np = fmaf(-stepSize, atan2f(mi, denom), p);
        param[i] = np;
        m[i] = mi;
        v[i] = vi;
        if (shadow != nullptr) shadow[i] = f32_to_bf16(np);
    }
}
