// heads.cu — the Q head and the row copies around the cuBLAS lm_head (HrmOp.Heads), mirroring CpuOps.Heads.cs.
//
// Q head (position 0 of z_H, 2 outputs, with bias):
//   forward (=):   q[b, o] = bias[o] + sum_i zH[b, 0, i] * W[o, i]          o = 0 halt, 1 continue
//   backward (+=): dzH[b, 0, i] += dq[b, 0] * W[0, i] + dq[b, 1] * W[1, i]   (two fmas, in that order)
//                  dW[o, i] += sum_b dq[b, o] * zH[b, 0, i]                  (fma per b, in batch order)
//                  dbias[o] += sum_b dq[b, o]                                (float, in batch order)
//   The backward is deterministic and bitwise equal to CpuOps.QHeadBackward (same per-element operation order).
//   dzH rows at positions > 0 are not touched (the lm_head backward wrote them).
//
// lm_head (logits = z_H[:, P:] . W^T, dz_H = dlogits . W with zero prefix rows, dW += dlogits^T . z_H) is a cuBLAS
// GEMM on the host (see README.md for the exact calls). The only layout issue is the P prefix rows of z_H
// (B,T,C), which have no logits (B,L,V); two copies bridge a GEMM over all B*T rows:
//   lm_head_drop_prefix_kernel1: logits[b, l, :] = full[b, P + l, :]        logits (B,L,V) =, full (B,T,V)
//   lm_head_pad_rows_kernel1:    full[b, pos, :] = pos < P ? 0 : dlogits[b, pos - P, :]   full (B,T,V) =
// (The forward can skip the copy with one strided-batched GEMM; the backward needs the padded dlogits because
// dW sums over all batch rows.)
//
// Buffers: zH, dzH (B,T,C) float; W, dW (2,C) float; bias, dbias (2) float; q, dq (B,2) float, [halt, continue].
//
// Launch (dynamic smem 0):
//   q_head_forward_kernel1       warp per batch row: block = 256, grid = ceil(B / 8)
//   q_head_backward_kernel1      thread per channel: block = 256, grid = ceil(C / 256)
//   lm_head_drop_prefix_kernel1  grid = (ceil(L*V / 256), B), block = 256     (B <= 65535)
//   lm_head_pad_rows_kernel1     grid = (ceil(T*V / 256), B), block = 256     (B <= 65535)
//
// Versions: kernel1 = the plain port.
#include "common.cuh"

// q[b, o] = bias[o] + zH[b, 0, :] . w[o, :]. Warp per batch row: block = 256, grid = ceil(B / 8).
extern "C" __global__ void q_head_forward_kernel1(float* __restrict__ q,           // (B, 2) =
                                                  const float* __restrict__ zH,     // (B, T, C), position 0 read
                                                  const float* __restrict__ w,      // (2, C)
                                                  const float* __restrict__ bias,   // (2)
                                                  int batch, int t, int c) {
    int b = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (b >= batch) return;
    const float* z = zH + (i64)b * t * c;  // position 0
    float d0 = 0.0f, d1 = 0.0f;
    for (int i = lane; i < c; i += 32) {
        float zi = z[i];
        d0 = fmaf(zi, w[i], d0);
        d1 = fmaf(zi, w[c + i], d1);
    }
    d0 = warp_sum(d0);
    d1 = warp_sum(d1);
    if (lane == 0) {
        q[2 * b] = bias[0] + d0;
        q[2 * b + 1] = bias[1] + d1;
    }
}

// Thread per channel i (thread 0 also sums dbias): block = 256, grid = ceil(C / 256).
extern "C" __global__ void q_head_backward_kernel1(float* __restrict__ dzH,        // (B, T, C) += at position 0
                                                   float* __restrict__ dw,         // (2, C) +=
                                                   float* __restrict__ dbias,      // (2) +=
                                                   const float* __restrict__ dq,   // (B, 2)
                                                   const float* __restrict__ zH,   // (B, T, C)
                                                   const float* __restrict__ w,    // (2, C)
                                                   int batch, int t, int c) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i == 0) {
        float b0 = dbias[0], b1 = dbias[1];
        for (int b = 0; b < batch; b++) {
            b0 += dq[2 * b];
            b1 += dq[2 * b + 1];
        }
        dbias[0] = b0;
        dbias[1] = b1;
    }
    if (i >= c) return;
    float w0 = w[i], w1 = w[c + i];
    float dw0 = dw[i], dw1 = dw[c + i];
    i64 stride = (i64)t * c;
    for (int b = 0; b < batch; b++) {
        float g0 = dq[2 * b], g1 = dq[2 * b + 1];
        float z = zH[b * stride + i];
        float* dz = dzH + b * stride + i;
        *dz = fmaf(g1, w1, fmaf(g0, w0, *dz));
        dw0 = fmaf(g0, z, dw0);
        dw1 = fmaf(g1, z, dw1);
    }
    dw[i] = dw0;
    dw[c + i] = dw1;
}

// logits[b, l, :] = full[b, P + l, :]. grid = (ceil(L*V / 256), B), block = 256.
extern "C" __global__ void lm_head_drop_prefix_kernel1(float* __restrict__ logits,      // (B, L, V) =
                                                       const float* __restrict__ full,  // (B, T, V)
                                                       int batch, int t, int p, int v) {
    int b = blockIdx.y, i = blockIdx.x * blockDim.x + threadIdx.x;
    i64 n = (i64)(t - p) * v;
    if (b >= batch || i >= n) return;
    logits[b * n + i] = full[((i64)b * t + p) * v + i];
}

// full[b, pos, :] = pos < P ? 0 : dlogits[b, pos - P, :]. grid = (ceil(T*V / 256), B), block = 256.
extern "C" __global__ void lm_head_pad_rows_kernel1(float* __restrict__ full,           // (B, T, V) =
                                                    const float* __restrict__ dlogits,  // (B, L, V)
                                                    int batch, int t, int p, int v) {
    int b = blockIdx.y, i = blockIdx.x * blockDim.x + threadIdx.x;  // i = pos * V + j
    if (b >= batch || i >= t * v) return;
    i64 l = t - p;
    full[(i64)b * t * v + i] = i < p * v ? 0.0f : dlogits[b * l * v + (i - p * v)];
}
