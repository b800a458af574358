// stablemax_ce.cu — the ACT loss head (spec 2.1-2.2) on the device: IHrmBackend.StablemaxCe, mirroring
// Hrm.Runtime.Loss.StablemaxCeMath. All loss arithmetic is in double (logits and Q logits are upcast from float).
//
// Per row b (one block), with n_b = #(labels != -100), div_b = max(n_b, 1), inv = 1 / globalBatch:
//   per valid position t, x = logits[b, t, :] (V), y = label:
//     stablemax (lossType 0): s(x) = x < 0 ? 1 / (1 - x + 1e-30) : x + 1;  S = sum_j s(x_j)
//        CE = -log(s(x_y) / S)
//        dlogits_j = inv/div_b * ((x_j < 0 ? s_j^2 : 1) / S - [j = y] * (x_y < 0 ? s_y : 1/s_y))
//     softmax (lossType 1):  CE = max + log(sum_j exp(x_j - max)) - x_y;  dlogits_j = inv/div_b * (p_j - [j = y])
//     correct_t = argmax_j x_j == y (first index of the maximum over the float logits; a NaN after index 0 never wins)
//   ignored positions (label -100): dlogits row = 0, no loss, not counted.
//   lm_b       = sum_t CE_t / div_b
//   seqCorrect = correct_b == n_b (true when n_b = 0)
//   qhalt_b    = BCE(q[b,0], seqCorrect);  dq[b,0] = 0.5 * (sigmoid(q[b,0]) - seqCorrect) * inv
//   qcont_b    = training ? BCE(q[b,1], target[b]) : 0
//   dq[b,1]    = training ? 0.5 * (sigmoid(q[b,1]) - target[b]) * inv : 0
//   BCE(x, y) = max(x, 0) - x*y + log1p(exp(-|x|))
// A label neither -100 nor in [0, V) (the host validates labels first; the host backends throw) makes lm_b NaN.
//
// Outputs (all =):
//   dlogits   (B,L,V) float, or null (evaluation): d(total / globalBatch) / dlogits
//   dq        (B,2) float [d halt, d continue], or null
//   rowLoss   (B,3) double: [lm_b, qhalt_b, qcont_b]
//   rowStats  (B,3) int32:  [n_b, correct_b, seqCorrect_b (0/1)]  (what HrmMetrics needs per row)
// Inputs: logits (B,L,V) float; labels (B,L) int32 (-100 = ignore); q (B,2) float [halt, continue] (the model's
//   Q buffer); target (B) float (Q-continue targets in [0,1]; may be null when training == 0).
//
// Reductions over the batch: LossParts = (sum_b lm_b, sum_b qhalt_b, sum_b qcont_b). Either the host sums the
// downloaded rowLoss in double, or stablemax_ce_reduce_kernel1 writes the three sums (fixed order, deterministic)
// to sums (3) double. total = sums[0] + 0.5 * (sums[1] + sums[2]).
//
// Launch:
//   stablemax_ce_kernel1         grid = B, block = 256 (a multiple of 32, <= 1024), dynamic smem 0
//   stablemax_ce_reduce_kernel1  grid = 1, block = 256 (a multiple of 32, <= 1024), dynamic smem 0
//
// Versions: kernel1 = block per row, thread per position, V looped in double (V is 6..12 for HRM tasks).
#include "common.cuh"

#define IGNORE_LABEL (-100)

__device__ __forceinline__ double stablemax_s(double x) { return x < 0.0 ? 1.0 / (1.0 - x + 1e-30) : x + 1.0; }

__device__ __forceinline__ double sigmoid_f64(double x) {
    if (x >= 0.0) return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

__device__ __forceinline__ double bce_with_logits(double x, double y) {
    return fmax(x, 0.0) - x * y + log1p(exp(-fabs(x)));
}

// CE of one position; writes the gradient row g (V) scaled by `scale` when g != null.
__device__ double position_ce(const float* __restrict__ x, int y, int v, int lossType, double scale,
                              float* __restrict__ g) {
    double xy = (double)x[y];
    if (lossType == 0) {
        double sum = 0.0;
        for (int j = 0; j < v; j++) sum += stablemax_s((double)x[j]);
        double sy = stablemax_s(xy);
        if (g != nullptr) {
            for (int j = 0; j < v; j++) {
                double xj = (double)x[j], sj = stablemax_s(xj);
                double dj = (xj < 0.0 ? sj * sj : 1.0) / sum;
                if (j == y) dj -= xy < 0.0 ? sy : 1.0 / sy;
                g[j] = (float)(scale * dj);
            }
        }
        return -log(sy / sum);
    }
    double mx = __longlong_as_double(0xfff0000000000000LL);  // -inf
    for (int j = 0; j < v; j++) mx = fmax(mx, (double)x[j]);
    double z = 0.0;
    for (int j = 0; j < v; j++) z += exp((double)x[j] - mx);
    if (g != nullptr) {
        for (int j = 0; j < v; j++) {
            double p = exp((double)x[j] - mx) / z;
            g[j] = (float)(scale * (j == y ? p - 1.0 : p));
        }
    }
    return mx + log(z) - xy;
}

// One block per batch row: grid = B, block = 256. Threads stride over the L positions.
extern "C" __global__ void stablemax_ce_kernel1(float* __restrict__ dlogits,       // (B, L, V) = or null
                                                float* __restrict__ dq,            // (B, 2) = or null
                                                double* __restrict__ rowLoss,      // (B, 3) double =
                                                int* __restrict__ rowStats,        // (B, 3) int32 =
                                                const float* __restrict__ logits,  // (B, L, V)
                                                const int* __restrict__ labels,    // (B, L) int32, -100 = ignore
                                                const float* __restrict__ q,       // (B, 2) [halt, continue]
                                                const float* __restrict__ target,  // (B) or null when !training
                                                int batch, int l, int v, int globalBatch, int training,
                                                int lossType) {
    __shared__ int iscratch[32];
    __shared__ double dscratch[32];
    int b = blockIdx.x;
    if (b >= batch) return;
    const int* lab = labels + (i64)b * l;
    int n = 0;
    for (int t = threadIdx.x; t < l; t += blockDim.x) n += lab[t] != IGNORE_LABEL;
    n = block_sum_i32(n, iscratch);
    double div = (double)(n > 1 ? n : 1), inv = 1.0 / (double)globalBatch, scale = inv / div;

    int correct = 0;
    double loss = 0.0;
    for (int t = threadIdx.x; t < l; t += blockDim.x) {
        i64 at = ((i64)b * l + t) * v;
        const float* x = logits + at;
        float* g = dlogits != nullptr ? dlogits + at : nullptr;
        int y = lab[t];
        if (y == IGNORE_LABEL) {
            if (g != nullptr)
                for (int j = 0; j < v; j++) g[j] = 0.0f;
            continue;
        }
        if (y < 0 || y >= v) {  // invalid label: no gradient, NaN loss
            if (g != nullptr)
                for (int j = 0; j < v; j++) g[j] = 0.0f;
            loss = __longlong_as_double(0x7ff8000000000000LL);
            continue;
        }
        int best = 0;
        for (int j = 1; j < v; j++)
            if (x[j] > x[best]) best = j;
        correct += best == y;
        loss += position_ce(x, y, v, lossType, scale, g) / div;
    }
    correct = block_sum_i32(correct, iscratch);
    loss = block_sum_f64(loss, dscratch);
    if (threadIdx.x != 0) return;

    bool seqCorrect = correct == n;
    double qh = (double)q[2 * b], yHalt = seqCorrect ? 1.0 : 0.0;
    double qhLoss = bce_with_logits(qh, yHalt), dHalt = 0.5 * (sigmoid_f64(qh) - yHalt) * inv;
    double qcLoss = 0.0, dCont = 0.0;
    if (training) {
        double qc = (double)q[2 * b + 1], tg = (double)target[b];
        qcLoss = bce_with_logits(qc, tg);
        dCont = 0.5 * (sigmoid_f64(qc) - tg) * inv;
    }
    if (dq != nullptr) {
        dq[2 * b] = (float)dHalt;
        dq[2 * b + 1] = (float)dCont;
    }
    rowLoss[3 * b] = loss;
    rowLoss[3 * b + 1] = qhLoss;
    rowLoss[3 * b + 2] = qcLoss;
    rowStats[3 * b] = n;
    rowStats[3 * b + 1] = correct;
    rowStats[3 * b + 2] = seqCorrect ? 1 : 0;
}

// sums (3) = column sums of rowLoss (B,3) in double, fixed order (deterministic).
extern "C" __global__ void stablemax_ce_reduce_kernel1(double* __restrict__ sums,           // (3) double =
                                                       const double* __restrict__ rowLoss,  // (B, 3) double
                                                       int batch) {
    __shared__ double scratch[32];
    for (int k = 0; k < 3; k++) {
        double s = 0.0;
        for (int b = threadIdx.x; b < batch; b += blockDim.x) s += rowLoss[3 * b + k];
        s = block_sum_f64(s, scratch);
        if (threadIdx.x == 0) sums[k] = s;
    }
}
