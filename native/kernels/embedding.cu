// embedding.cu — input embedding (HrmOp.Embedding), mirroring CpuOps.Embedding.cs / ReferenceOps.Embedding.cs.
//
// Forward (x =):
//   F = learned ? (float)((double)scale * 0.707106781) : scale        (learned = posTable != null)
//   x[b, pos, i] = F * (e + (learned ? posTable[pos, i] : 0))  where
//     e = tokTable[tokens[b, pos - P], i]                   for pos >= P
//     e = puzzleRows[b, pos*C + i] if pos*C + i < Pd else 0  for pos < P (the puzzle row zero-padded to P*C)
//   Without learned positions: x = F*e (the zero padding is written as +0). A token outside [0, V) gives a NaN
//   row (the host validates tokens first, as CpuOps throws).
// Backward:
//   dPuzzleRows[b, j] = F * dx[b, j / C, j % C] for j < min(Pd, P*C), else 0          (=)
//   dPosTable[pos, i] += F * sum_b dx[b, pos, i]  (only with learned positions)     (+=)
//   dTokTable[v, i]   += F * sum over (b, pos >= P) with tokens[b, pos-P] == v of dx[b, pos, i]   (+=)
//     deterministic two-pass: pass 1 writes per-chunk partial sums partial (chunks, V, C), pass 2 adds them to
//     dTokTable in chunk order. No atomics; for a fixed `chunks` the result is bitwise reproducible.
//
// Buffers: x, dx (B,T,C) float; tokens (B,L) int32; puzzleRows, dPuzzleRows (B,Pd) float; tokTable, dTokTable
// (V,C) float; posTable, dPosTable (T,C) float or null; partial (chunks,V,C) float scratch. T = L + P.
//
// Launch (dynamic shared memory 0 unless stated):
//   embedding_forward_kernel1             grid = B*T, block = 256 (one block per row of x)
//   embedding_backward_puzzle_kernel1     grid = B, block = 256
//   embedding_backward_pos_kernel1        grid = ceil(T*C / 256), block = 256
//   embedding_backward_tok_partial_kernel1  grid = (ceil(C / 128), chunks), block = 128,
//                                           dynamic smem = V * 128 * 4 bytes (V <= 96 fits the 48 KiB default)
//   embedding_backward_tok_reduce_kernel1   grid = ceil(V*C / 256), block = 256 (same chunks as pass 1)
//   chunks: any value >= 1 (suggested: min(128, B*L)); skip both tok passes when B*L == 0.
//
// Versions: kernel1 = the plain port; the token-table backward is the two-pass deterministic scheme above.
#include "common.cuh"

#define EMB_TOK_THREADS 128

__device__ __forceinline__ float embed_factor(float scale, int learned) {
    return learned ? (float)((double)scale * 0.707106781) : scale;
}

// x = F * (token row or zero-padded puzzle row (+ learned position)). One block per row: grid = B*T, block = 256.
extern "C" __global__ void embedding_forward_kernel1(float* __restrict__ x,                 // (B, T, C) =
                                                     const int* __restrict__ tokens,         // (B, L) int32
                                                     const float* __restrict__ puzzleRows,   // (B, Pd)
                                                     const float* __restrict__ tokTable,     // (V, C)
                                                     const float* __restrict__ posTable,     // (T, C) or null
                                                     int batch, int l, int p, int pd, int c, int v, float scale) {
    int t = l + p;
    int row = blockIdx.x;  // b * T + pos
    if (row >= batch * t) return;
    int b = row / t, pos = row % t;
    float f = embed_factor(scale, posTable != nullptr);
    float* xr = x + (i64)row * c;
    const float* pr = posTable != nullptr ? posTable + (i64)pos * c : nullptr;
    if (pos >= p) {
        int tok = tokens[(i64)b * l + pos - p];
        bool ok = tok >= 0 && tok < v;
        const float* e = tokTable + (ok ? (i64)tok * c : 0);
        for (int i = threadIdx.x; i < c; i += blockDim.x) {
            float val = pr != nullptr ? f * (e[i] + pr[i]) : f * e[i];
            xr[i] = ok ? val : __int_as_float(0x7fc00000);
        }
        return;
    }
    i64 first = (i64)pos * c;  // flat index of this prefix position in the zero-padded puzzle row
    const float* src = puzzleRows + (i64)b * pd + first;
    for (int i = threadIdx.x; i < c; i += blockDim.x) {
        bool have = first + i < pd;
        if (pr != nullptr) xr[i] = have ? f * (src[i] + pr[i]) : f * pr[i];
        else xr[i] = have ? f * src[i] : 0.0f;
    }
}

// dPuzzleRows (B,Pd) = F * dx over the prefix (flat index j < P*C), zero beyond.
extern "C" __global__ void embedding_backward_puzzle_kernel1(float* __restrict__ dPuzzleRows,  // (B, Pd) =
                                                             const float* __restrict__ dx,     // (B, T, C)
                                                             int batch, int t, int p, int pd, int c, float scale,
                                                             int learned) {
    int b = blockIdx.x;
    if (b >= batch) return;
    float f = embed_factor(scale, learned);
    i64 span = (i64)p * c;
    const float* g = dx + (i64)b * t * c;
    float* d = dPuzzleRows + (i64)b * pd;
    for (int j = threadIdx.x; j < pd; j += blockDim.x) d[j] = j < span ? f * g[j] : 0.0f;
}

// dPosTable (T,C) += F * dx summed over the batch in order (fma per row, as CpuOps' Axpy).
extern "C" __global__ void embedding_backward_pos_kernel1(float* __restrict__ dPosTable,  // (T, C) +=
                                                          const float* __restrict__ dx,   // (B, T, C)
                                                          int batch, int t, int c, float scale) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;  // pos * C + channel
    if (i >= t * c) return;
    float f = embed_factor(scale, 1);
    float acc = dPosTable[i];
    i64 stride = (i64)t * c;
    for (int b = 0; b < batch; b++) acc = fmaf(f, dx[b * stride + i], acc);
    dPosTable[i] = acc;
}

// Pass 1: chunk k = blockIdx.y takes token positions n in [N*k/chunks, N*(k+1)/chunks), N = B*L, in order, and
// writes partial[k, v, i] = sum of F * dx over its positions with token v (each thread owns one channel i).
extern "C" __global__ void embedding_backward_tok_partial_kernel1(float* __restrict__ partial,     // (chunks, V, C) =
                                                                  const float* __restrict__ dx,    // (B, T, C)
                                                                  const int* __restrict__ tokens,  // (B, L) int32
                                                                  int batch, int l, int p, int c, int v, float scale,
                                                                  int learned) {
    extern __shared__ float acc[];  // (V, EMB_TOK_THREADS): this thread's column only, no sharing
    int col = blockIdx.x * EMB_TOK_THREADS + threadIdx.x;
    int chunks = gridDim.y, k = blockIdx.y;
    if (col >= c || l <= 0) return;
    float f = embed_factor(scale, learned);
    for (int tok = 0; tok < v; tok++) acc[tok * EMB_TOK_THREADS + threadIdx.x] = 0.0f;
    i64 n = (i64)batch * l, n0 = n * k / chunks, n1 = n * (k + 1) / chunks;
    i64 t = l + p;
    i64 row = n0 / l * t + p + n0 % l;  // row of x (b * T + pos) of token position n0
    int li = (int)(n0 % l);
    for (i64 j = n0; j < n1; j++) {
        int tok = tokens[j];
        if (tok >= 0 && tok < v) {
            float* a = &acc[tok * EMB_TOK_THREADS + threadIdx.x];
            *a = fmaf(f, dx[row * c + col], *a);
        }
        row++;
        if (++li == l) {  // next batch entry: skip its P prefix rows
            li = 0;
            row += p;
        }
    }
    float* out = partial + (i64)k * v * c + col;
    for (int tok = 0; tok < v; tok++) out[(i64)tok * c] = acc[tok * EMB_TOK_THREADS + threadIdx.x];
}

// Pass 2: dTokTable (V,C) += sum over chunks (in order) of partial (chunks,V,C).
extern "C" __global__ void embedding_backward_tok_reduce_kernel1(float* __restrict__ dTokTable,      // (V, C) +=
                                                                 const float* __restrict__ partial,  // (chunks, V, C)
                                                                 int chunks, int v, int c) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= v * c) return;
    float s = 0.0f;
    for (int k = 0; k < chunks; k++) s += partial[(i64)k * v * c + i];
    dTokTable[i] += s;
}
