// rmsnorm.cu — residual add + RMSNorm without weight (HrmOp.RmsNorm), mirroring CpuOps.RmsNorm.cs.
//
// Forward (=):   x = a + b;  rstd[r] = 1 / sqrtf(sum_i x_i^2 / C + eps);  out[r, i] = rstd[r] * x_i
// Backward (=):  dot = sum_i dout_i * out_i / C;  dinp[r, i] = rstd[r] * (dout_i - out_i * dot)
//   (y = x * s with s = (mean(x^2) + eps)^-1/2  =>  dx = s * (dy - y * mean(dy * y)))
//
// Buffers (N = rows = B*T): a, b, out, dout, dinp (N,C) float; rstd (N) float; outh, dinph (N,C) bf16 = bf16(out),
// bf16(dinp) (RNE, as f32_to_bf16_kernel1), written only when not null: the next bf16 GEMM's operand, saving its
// conversion.
// out may alias a or b, and dinp may alias dout: each element is read and written by the same thread (the register
// path's clamped loads also read element C - 1 in other lanes and discard it, whatever they see).
// Sums are fp32 (fma per element, then a warp tree), as the CPU's fp32 sums (different order).
//
// Launch (both kernels): one warp per row; block = 256 (8 rows per block), grid = ceil(N / 8), dynamic smem 0.
// Any C >= 1 works (each lane strides over the row by 32); C = 0 writes rstd = NaN (0 / 0) and reads nothing.
//
// Versions: kernel1 = warp per row, two passes over the row (the second pass re-reads from cache), or for
// C <= 512 (forward and backward) the row read once into registers (loads without branches, all in flight together; the two-pass loop's
// scalar loads behind its bound ran the op near 2.66 TB/s on an H200, Sudoku batch 768, 2026-11-30);
// add_rmsnorm_forward_kernel2 = kernel1 with b in bf16 (the bf16 product of a GEMM: CudaBackend.Bf16Intermediates),
// x = a + float(b), the rest as kernel1; add_rmsnorm_forward_kernel3 = kernel2 with a in bf16 too and out optional
// (the no-grad forwards' bf16 residual stream: CudaBackend.Bf16QkvForward).
#include "common.cuh"
#include "rmsnorm.cuh"

// out = rstd * (a + b), rstd = 1 / sqrt(mean((a + b)^2) + eps). Warp per row: block = 256, grid = ceil(N / 8).
extern "C" __global__ void add_rmsnorm_forward_kernel1(float* out,                // (N, C) =, may alias a or b
                                                       bf16* __restrict__ outh,   // (N, C) bf16 = bf16(out), or null
                                                       float* __restrict__ rstd,  // (N) =
                                                       const float* a,            // (N, C)
                                                       const float* b,            // (N, C)
                                                       int rows, int c, float eps) {
    int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= rows) return;
    add_rmsnorm_forward_row(out, outh, rstd, a, b, row, c, eps);
}

// kernel1 with b (a GEMM's product) stored in bf16. Warp per row: block = 256, grid = ceil(N / 8).
extern "C" __global__ void add_rmsnorm_forward_kernel2(float* out,                // (N, C) =, may alias a
                                                       bf16* __restrict__ outh,   // (N, C) bf16 = bf16(out), or null
                                                       float* __restrict__ rstd,  // (N) =
                                                       const float* a,            // (N, C)
                                                       const bf16* __restrict__ b,  // (N, C) bf16
                                                       int rows, int c, float eps) {
    int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= rows) return;
    add_rmsnorm_forward_row(out, outh, rstd, a, b, row, c, eps);
}

// kernel2 with a in bf16 too (the no-grad forward's bf16 residual stream); out may be null (then only outh, the bf16
// output, is written). Warp per row: block = 256, grid = ceil(N / 8).
extern "C" __global__ void add_rmsnorm_forward_kernel3(float* out,                  // (N, C) =, or null
                                                       bf16* outh,                  // (N, C) bf16 = bf16(y), or null
                                                       float* __restrict__ rstd,    // (N) =
                                                       const bf16* a,               // (N, C) bf16
                                                       const bf16* __restrict__ b,  // (N, C) bf16
                                                       int rows, int c, float eps) {
    int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= rows) return;
    add_rmsnorm_forward_row(out, outh, rstd, a, b, row, c, eps);
}

// dinp = rstd * (dout - out * mean(dout * out)). Warp per row: block = 256, grid = ceil(N / 8).
extern "C" __global__ void rmsnorm_backward_kernel1(float* dinp,                     // (N, C) =, may alias dout
                                                    bf16* __restrict__ dinph,        // (N, C) bf16 = bf16(dinp), or null
                                                    const float* dout,               // (N, C)
                                                    const float* __restrict__ out,   // (N, C) forward output
                                                    const float* __restrict__ rstd,  // (N)
                                                    int rows, int c) {
    int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (row >= rows) return;
    i64 o = (i64)row * c;
    if (c >= 1 && c <= 32 * RMS_MAX_PER_LANE) {  // the row in registers, as add_rmsnorm_forward_row_regs; bitwise the loop
        float g[RMS_MAX_PER_LANE], y[RMS_MAX_PER_LANE];
#pragma unroll
        for (int k = 0; k < RMS_MAX_PER_LANE; k++) {
            int i = min(lane + 32 * k, c - 1);
            g[k] = dout[o + i];
            y[k] = out[o + i];
        }
        float dot = 0.0f;
#pragma unroll
        for (int k = 0; k < RMS_MAX_PER_LANE; k++)
            if (lane + 32 * k < c) dot = fmaf(g[k], y[k], dot);
        dot = warp_sum(dot) / (float)c;
        float s = rstd[row];
#pragma unroll
        for (int k = 0; k < RMS_MAX_PER_LANE; k++) {
            int i = lane + 32 * k;
            if (i < c) {
                float d = s * fmaf(y[k], -dot, g[k]);
                dinp[o + i] = d;
                if (dinph) dinph[o + i] = f32_to_bf16(d);
            }
        }
        return;
    }
    float dot = 0.0f;
    for (int i = lane; i < c; i += 32) dot = fmaf(dout[o + i], out[o + i], dot);
    dot = warp_sum(dot) / (float)c;
    float s = rstd[row];
    for (int i = lane; i < c; i += 32) {
        float d = s * fmaf(out[o + i], -dot, dout[o + i]);
        dinp[o + i] = d;
        if (dinph) dinph[o + i] = f32_to_bf16(d);
    }
}
