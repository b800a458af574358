// rmsnorm.cuh — one row of the residual add + RMSNorm forward (rmsnorm.cu's formulas and versions), shared by
// rmsnorm.cu's kernels and the persistent module kernel (module_fused.cu). Included after common.cuh.
#pragma once
#include "common.cuh"

#define RMS_MAX_PER_LANE 16  // rows of C <= 32 * 16 = 512 are held in registers

// One row (a warp) of C <= 32 * RMS_MAX_PER_LANE: read once into registers, every load clamped to the row (an index
// >= C reads element C - 1, not used) so that none sits behind a branch and all are in flight together; then the sum
// in the order of the loop below and the stores from the registers. Bitwise the two-pass row.
template <typename TA, typename T>
HRM_DEVICE void add_rmsnorm_forward_row_regs(float* out, bf16* __restrict__ outh, float* __restrict__ rstd,
                                             const TA* a, const T* b, int row, int c, float eps) {
    int lane = threadIdx.x & 31;
    i64 o = (i64)row * c;
    float x[RMS_MAX_PER_LANE];
#pragma unroll
    for (int k = 0; k < RMS_MAX_PER_LANE; k++) {
        int i = min(lane + 32 * k, c - 1);
        x[k] = as_f32(a[o + i]) + as_f32(b[o + i]);
    }
    float ss = 0.0f;
#pragma unroll
    for (int k = 0; k < RMS_MAX_PER_LANE; k++)
        if (lane + 32 * k < c) ss = fmaf(x[k], x[k], ss);
    ss = warp_sum(ss);
    float s = 1.0f / sqrtf(ss / (float)c + eps);
    if (lane == 0) rstd[row] = s;
#pragma unroll
    for (int k = 0; k < RMS_MAX_PER_LANE; k++) {
        int i = lane + 32 * k;
        if (i < c) {
            float y = s * x[k];
            if (out) out[o + i] = y;
            if (outh) outh[o + i] = f32_to_bf16(y);
        }
    }
}

// One row (a warp): out = rstd * (a + b). TA, T = float or bf16 storage of a, b; out null: only outh is written.
template <typename TA, typename T>
HRM_DEVICE void add_rmsnorm_forward_row(float* out, bf16* __restrict__ outh, float* __restrict__ rstd, const TA* a,
                                        const T* b, int row, int c, float eps) {
    if (c >= 1 && c <= 32 * RMS_MAX_PER_LANE) {  // C = 0: the loop below, which reads nothing (clamping needs C >= 1)
        add_rmsnorm_forward_row_regs(out, outh, rstd, a, b, row, c, eps);
        return;
    }
    int lane = threadIdx.x & 31;
    i64 o = (i64)row * c;
    float ss = 0.0f;
    for (int i = lane; i < c; i += 32) {
        float x = as_f32(a[o + i]) + as_f32(b[o + i]);
        ss = fmaf(x, x, ss);
    }
    ss = warp_sum(ss);
    float s = 1.0f / sqrtf(ss / (float)c + eps);
    if (lane == 0) rstd[row] = s;
    for (int i = lane; i < c; i += 32) {
        float y = s * (as_f32(a[o + i]) + as_f32(b[o + i]));
        if (out) out[o + i] = y;
        if (outh) outh[o + i] = f32_to_bf16(y);
    }
}
