// rope.cu — rotate-half (GPT-NeoX) rotary embedding in place on Q and K of qkv (HrmOp.Rope), mirroring
// CpuOps.Rope.cs / ReferenceOps.Rope.
//
// For every row (b, pos) of qkv and each of the 2*NH head vectors x (HS floats) of its Q and K parts
// (x = qkv[b, pos, h*HS .. h*HS+HS) for h < 2*NH; V is untouched), half = HS/2, i < half,
// c1 = cos[pos, i], c2 = cos[pos, half+i], s1 = sg*sin[pos, i], s2 = sg*sin[pos, half+i]:
//   x[i]        <- x[i] * c1 - x[half+i] * s1
//   x[half+i]   <- x[half+i] * c2 + x[i] * s2
// Forward: sg = +1.  Backward: sg = -1, applied to dqkv (the transpose of the forward for the reference tables,
// where cos[pos, i] == cos[pos, half+i] and sin likewise) — exactly what CpuOps.RopeBackward computes.
// Products and sums are rounded separately (__fmul_rn, no fma contraction), so results are bitwise those of the
// CPU backend.
//
// Buffers: qkv / dqkv (B,T,3C) float, updated in place; cos, sin (T,HS) float. C = NH*HS.
//
// Launch (both kernels): grid = B*T (one block per row), block = 256 (any multiple of 32), dynamic smem 0.
//
// Versions: kernel1 = one block per row, one (x[i], x[half+i]) pair per thread per iteration.
#include "common.cuh"

__device__ __forceinline__ void rope_row(float* __restrict__ qkv, const float* __restrict__ cos,
                                         const float* __restrict__ sin, int rows, int t, int nh, int hs, float sg) {
    int row = blockIdx.x;
    if (row >= rows) return;
    int pos = row % t, half = hs / 2;
    float* x = qkv + (i64)row * 3 * nh * hs;
    const float* cs = cos + (i64)pos * hs;
    const float* sn = sin + (i64)pos * hs;
    int pairs = 2 * nh * half;
    for (int k = threadIdx.x; k < pairs; k += blockDim.x) {
        int h = k / half, i = k - h * half;
        float* xh = x + h * hs;
        float a = xh[i], b = xh[half + i];
        float s1 = sg * sn[i], s2 = sg * sn[half + i];
        xh[i] = __fsub_rn(__fmul_rn(a, cs[i]), __fmul_rn(b, s1));
        xh[half + i] = __fadd_rn(__fmul_rn(b, cs[half + i]), __fmul_rn(a, s2));
    }
}

// Rotate-half RoPE on Q and K, sin sign +1. One block per row: grid = B*T, block = 256.
extern "C" __global__ void rope_forward_kernel1(float* __restrict__ qkv,        // (B, T, 3C) Q, K in place
                                                const float* __restrict__ cos,  // (T, HS)
                                                const float* __restrict__ sin,  // (T, HS)
                                                int batch, int t, int nh, int hs) {
    rope_row(qkv, cos, sin, batch * t, t, nh, hs, 1.0f);
}

// Its transpose (sin sign -1) on dQ and dK. One block per row: grid = B*T, block = 256.
extern "C" __global__ void rope_backward_kernel1(float* __restrict__ dqkv,       // (B, T, 3C) dQ, dK in place
                                                 const float* __restrict__ cos,  // (T, HS)
                                                 const float* __restrict__ sin,  // (T, HS)
                                                 int batch, int t, int nh, int hs) {
    rope_row(dqkv, cos, sin, batch * t, t, nh, hs, -1.0f);
}
