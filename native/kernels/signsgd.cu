// signsgd.cu — SignSGD with decoupled weight decay on the puzzle-embedding rows named by ids (HrmOp.Optimizer),
// mirroring CpuOps.SignSgdRows / ReferenceOps.SignSgdRows.
//
// Gradient rows sharing an id are summed (in row order, float, starting from 0), then each touched table row
// becomes   w = fma(negLr, sign(sum), w * decay)      sign(0) = sign(NaN) = 0
// Rows not named are untouched (no decay). The host computes decay = (float)(1 - lr*wd) and negLr = (float)(-lr)
// in double, as the CPU does. Deterministic and bitwise equal to the CPU backend: the block of the first
// occurrence of an id does that id's whole update; blocks of repeated occurrences do nothing.
// Ids outside [0, tableRows) are skipped (the host validates them first, as the CPU throws).
// skip (1 int, or null): when *skip != 0 nothing is written (see adam_atan2.cu).
//
// Buffers: table (R,W) float (updated in place, =); rowGrads (N,W) float; ids (N) int32.
//
// Launch: grid = (N, ceil(W / 256)), block = 256 (exactly), dynamic smem 0. N <= 2^31-1, ceil(W/256) <= 65535.
//
// Versions: kernel1 = one block per (row, 256 columns); O(N^2) id comparisons, fine for N in the thousands.
#include "common.cuh"

// Block (row n, 256 columns): grid = (N, ceil(W / 256)), block = 256.
extern "C" __global__ void signsgd_rows_kernel1(float* __restrict__ table,           // (R, W) rows updated in place
                                                const float* __restrict__ rowGrads,  // (N, W)
                                                const int* __restrict__ ids,         // (N) int32 row of each gradient
                                                int rows, int width, int tableRows, float decay, float negLr,
                                                const int* __restrict__ skip) {  // (1) or null
    if (skip != nullptr && *skip != 0) return;  // uniform over the grid
    int n = blockIdx.x;
    int id = ids[n];
    if (id < 0 || id >= tableRows) return;  // uniform over the block
    int seen = 0;
    for (int k = threadIdx.x; k < n; k += blockDim.x) seen |= ids[k] == id;
    if (__syncthreads_or(seen)) return;  // not the first occurrence of this id
    int col = blockIdx.y * blockDim.x + threadIdx.x;
    if (col >= width) return;
    float s = 0.0f;
    for (int k = n; k < rows; k++) {
        if (ids[k] == id) s += rowGrads[(i64)k * width + col];
    }
    float sign = s > 0.0f ? 1.0f : (s < 0.0f ? -1.0f : 0.0f);
    float* w = table + (i64)id * width + col;
    *w = fmaf(negLr, sign, *w * decay);
}
