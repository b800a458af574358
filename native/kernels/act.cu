// act.cu — ACT bookkeeping where the carry lives (HrmOp.Act): IHrmBackend.SelectRows, ActHalt, ActTarget and
// ActMetrics, mirroring Hrm.Runtime.Model.ActMath. With these the training step reads nothing back per step: the
// halted rows take new data, halting is decided, the Q-continue target is formed and the metrics are summed on the
// device; the host reads the sums once per logging interval.
//
//   select_rows_kernel1  dst (N,W) int32: rows r with mask[r] != 0 become src's rows (others left)
//   act_halt_kernel1     s = (halted[b] ? 0 : steps[b]) + 1;  h = s >= maxSteps;
//                        rule 1 (training): says = q[b,0] > q[b,1];  rule 2 (no_ACT_continue): says = q[b,0] > 0;
//                        rule != 0: h = (h || says) && s >= minSteps[b]     (minSteps: exploration minimum, 0 = none)
//                        steps[b] = s; halted[b] = h          (halted on entry = rows reset at this call)
//   act_target_kernel1   x = steps[b] >= maxSteps ? qNext[b,0] : max(qNext[b,0], qNext[b,1])  (NaN propagates)
//                        target[b] = 1 / (1 + expf(-x))   (float; CPU: 1f / (1f + MathF.Exp(-x)), within an ulp)
//   act_metrics_kernel1  over rows with halted[b] != 0 and n_b = rowStats[b,0] > 0 (c_b = rowStats[b,1]):
//                        sums[0] += count, sums[1] += sum c_b/n_b, sums[2] += #(c_b == n_b),
//                        sums[3] += #((q[b,0] >= 0) == (c_b == n_b)), sums[4] += sum steps[b];
//                        sums[5..7] += column sums of rowLoss (B,3) double;
//                        sums[8 + slot] = lm + 0.5 * (qhalt + qcont);  not finite -> *skip = 1 (sticky)
//                        Reductions in double in a fixed order (deterministic; the host backends add in row order).
//
// Buffers: halted, steps, minSteps, mask, rowStats int32; q, qNext (B,2) and target (B) float; rowLoss (B,3) and
// sums (8 + slots) double; skip (1) int32.
//
// Launch:
//   select_rows_kernel1  grid = N, block = 256, dynamic smem 0
//   act_halt_kernel1     grid = cdiv(B, 256), block = 256
//   act_target_kernel1   grid = cdiv(B, 256), block = 256
//   act_metrics_kernel1  grid = 1, block = 256 (a multiple of 32, <= 1024)
//
// Versions: kernel1 = the plain loops (B is at most a few thousand; these are a few microseconds per step).
#include "common.cuh"

// One block per row. grid = N, block = 256.
extern "C" __global__ void select_rows_kernel1(int* __restrict__ dst,         // (N, W) rows replaced where mask
                                               const int* __restrict__ src,   // (N, W)
                                               const int* __restrict__ mask,  // (N)
                                               int rows, int width) {
    int r = blockIdx.x;
    if (r >= rows || mask[r] == 0) return;
    for (int j = threadIdx.x; j < width; j += blockDim.x) dst[(i64)r * width + j] = src[(i64)r * width + j];
}

// Thread per row. grid = cdiv(B, 256), block = 256.
extern "C" __global__ void act_halt_kernel1(int* __restrict__ halted,          // (B) in: reset rows; out: halted
                                            int* __restrict__ steps,           // (B) in place
                                            const float* __restrict__ q,       // (B, 2) [halt, continue]
                                            const int* __restrict__ minSteps,  // (B) or null when rule == 0
                                            int batch, int maxSteps, int rule) {
    int b = blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= batch) return;
    int s = (halted[b] != 0 ? 0 : steps[b]) + 1;
    bool h = s >= maxSteps;
    if (rule != 0) {
        float qh = q[2 * b], qc = q[2 * b + 1];
        bool says = rule == 2 ? qh > 0.0f : qh > qc;
        h = (h || says) && s >= minSteps[b];
    }
    steps[b] = s;
    halted[b] = h ? 1 : 0;
}

// Thread per row. grid = cdiv(B, 256), block = 256.
extern "C" __global__ void act_target_kernel1(float* __restrict__ target,       // (B) =
                                              const float* __restrict__ qNext,  // (B, 2)
                                              const int* __restrict__ steps,    // (B)
                                              int batch, int maxSteps) {
    int b = blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= batch) return;
    float nh = qNext[2 * b], nc = qNext[2 * b + 1];
    float mx = (nh != nh || nc != nc) ? nh + nc : fmaxf(nh, nc);  // MathF.Max: NaN wins
    float x = steps[b] >= maxSteps ? nh : mx;
    target[b] = 1.0f / (1.0f + expf(-x));
}

// One block. grid = 1, block = 256.
extern "C" __global__ void act_metrics_kernel1(double* __restrict__ sums,           // (8 + slots) +=, slot =
                                               int* __restrict__ skip,              // (1) set to 1 when not finite
                                               const int* __restrict__ halted,      // (B)
                                               const int* __restrict__ steps,       // (B)
                                               const float* __restrict__ q,         // (B, 2)
                                               const double* __restrict__ rowLoss,  // (B, 3)
                                               const int* __restrict__ rowStats,    // (B, 3)
                                               int batch, int slot) {
    __shared__ double scratch[32];
    double v[8];
    for (int k = 0; k < 8; k++) v[k] = 0.0;
    for (int b = threadIdx.x; b < batch; b += blockDim.x) {
        int n = rowStats[3 * b], c = rowStats[3 * b + 1];
        if (halted[b] != 0 && n > 0) {
            bool seq = c == n;
            v[0] += 1.0;
            v[1] += (double)c / (double)n;
            v[2] += seq ? 1.0 : 0.0;
            v[3] += ((q[2 * b] >= 0.0f) == seq) ? 1.0 : 0.0;
            v[4] += (double)steps[b];
        }
        v[5] += rowLoss[3 * b];
        v[6] += rowLoss[3 * b + 1];
        v[7] += rowLoss[3 * b + 2];
    }
    for (int k = 0; k < 8; k++) v[k] = block_sum_f64(v[k], scratch);
    if (threadIdx.x != 0) return;
    for (int k = 0; k < 8; k++) sums[k] += v[k];
    double total = v[5] + 0.5 * (v[6] + v[7]);
    sums[8 + slot] = total;
    if (!(total - total == 0.0)) *skip = 1;  // NaN or +-inf
}
