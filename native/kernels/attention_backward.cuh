// attention_backward.cuh — the backward tiles of attention.cu's tensor-core path (head size 64): one 64-key tile of
// the dQ loop and one 64-query tile of the dK/dV loop, shared by the split backward kernels (attention_backward.cu)
// and the one-block-per-head ones (attention_backward_short.cu). Included after attention.cuh; see
// attention_backward.cu for the math.
#pragma once
#include "attention_tiles.cuh"

// One 64-key tile of the dQ loop for this warp's 16 queries (A fragments qf of Q and of of dO; l2 = lse * log2 e and
// D of rows g and g + 8): S = Q K^T, dP = dO V^T, dS = P (dP - D), dQ += dS K (dS / scale: the caller scales).
// K and V tiles (64 keys from k0; keys >= t masked) at kTile, vTile in smem.
__device__ __forceinline__ void attention_dq_tile(float (&dq)[8][4], const u32 (&qf)[4][4], const u32 (&of)[4][4],
                                                  const float (&l2)[2], const float (&dr)[2], u32 kTile, u32 vTile,
                                                  int k0, int t) {
    int qd = threadIdx.x & 3;
    float s[8][4], dp[8][4];
    zero_acc(s);
    zero_acc(dp);
    mma_abt1(s, qf, kTile);   // S = Q K^T
    mma_abt1(dp, of, vTile);  // dP = dO V^T
    bool tail = k0 + ATT_BN > t;
#pragma unroll
    for (int nt = 0; nt < 8; nt++) {
#pragma unroll
        for (int c = 0; c < 4; c++) {
            float p = hrm_exp2_approx(s[nt][c] * ATT_SCALE_LOG2 - l2[c >> 1]);
            if (tail && k0 + nt * 8 + 2 * qd + (c & 1) >= t) p = 0.0f;
            s[nt][c] = p * (dp[nt][c] - dr[c >> 1]);  // dS / scale
        }
    }
    mma_pb1(dq, s, kTile);  // dQ += dS K
}

// P^T of one 64-query tile for this warp's 16 keys (A fragments kf of K): S^T = K Q^T, P^T = exp(S^T scale - lse)
// (rows: this warp's keys, columns: the tile's queries; queries >= t: 0). Q tile (64 queries from i0) at qTile in
// smem; sl: the tile's lse (64 floats).
__device__ __forceinline__ void attention_pt_tile(float (&p)[8][4], const u32 (&kf)[4][4], const float* sl, u32 qTile,
                                                  int i0, int t) {
    int qd = threadIdx.x & 3;
    bool tail = i0 + ATT_BN > t;
    zero_acc(p);
    mma_abt1(p, kf, qTile);  // S^T = K Q^T
#pragma unroll
    for (int nt = 0; nt < 8; nt++) {
#pragma unroll
        for (int c = 0; c < 4; c++) {
            int qi = nt * 8 + 2 * qd + (c & 1);
            float x = hrm_exp2_approx(p[nt][c] * ATT_SCALE_LOG2 - sl[qi] * HRM_LOG2E);
            p[nt][c] = (tail && i0 + qi >= t) ? 0.0f : x;
        }
    }
}

// dK += dS^T Q from P^T (p, overwritten with dS^T / scale: the caller scales): dP^T = V dO^T (A fragments vf of V),
// dS^T = P^T (dP^T - D). Q and dO tiles at qTile, oTile; sd: the tile's D (64 floats).
__device__ __forceinline__ void attention_dk_from_pt(float (&dk)[8][4], float (&p)[8][4], const u32 (&vf)[4][4],
                                                     const float* sd, u32 qTile, u32 oTile) {
    int qd = threadIdx.x & 3;
    float dpt[8][4];
    zero_acc(dpt);
    mma_abt1(dpt, vf, oTile);  // dP^T = V dO^T
#pragma unroll
    for (int nt = 0; nt < 8; nt++) {
#pragma unroll
        for (int c = 0; c < 4; c++) p[nt][c] *= dpt[nt][c] - sd[nt * 8 + 2 * qd + (c & 1)];
    }
    mma_pb1(dk, p, qTile);  // dK += dS^T Q
}

// One 64-query tile of the dK/dV loop for this warp's 16 keys (A fragments kf of K and vf of V): S^T = K Q^T, P^T,
// dV += P^T dO, dP^T = V dO^T, dS^T = P^T (dP^T - D), dK += dS^T Q (dS / scale: the caller scales). Q and dO tiles
// (64 queries from i0; queries >= t masked) at qTile, oTile in smem; sl, sd: the tile's lse and D (64 floats each).
__device__ __forceinline__ void attention_dkdv_tile(float (&dk)[8][4], float (&dv)[8][4], const u32 (&kf)[4][4],
                                                    const u32 (&vf)[4][4], const float* sl, const float* sd, u32 qTile,
                                                    u32 oTile, int i0, int t) {
    float p[8][4];  // S^T, then P^T, then dS^T / scale
    attention_pt_tile(p, kf, sl, qTile, i0, t);
    mma_pb1(dv, p, oTile);  // dV += P^T dO
    attention_dk_from_pt(dk, p, vf, sd, qTile, oTile);
}

// attention_dkdv_tile's two halves, for a caller that sums dV over all query tiles first and dK after them, with half
// the accumulators live at a time (P^T computed twice, bitwise alike): dV += P^T dO ...
__device__ __forceinline__ void attention_dv_tile(float (&dv)[8][4], const u32 (&kf)[4][4], const float* sl,
                                                  u32 qTile, u32 oTile, int i0, int t) {
    float p[8][4];
    attention_pt_tile(p, kf, sl, qTile, i0, t);
    mma_pb1(dv, p, oTile);  // dV += P^T dO
}

// ... and dK += dS^T Q.
__device__ __forceinline__ void attention_dk_tile(float (&dk)[8][4], const u32 (&kf)[4][4], const u32 (&vf)[4][4],
                                                  const float* sl, const float* sd, u32 qTile, u32 oTile, int i0,
                                                  int t) {
    float p[8][4];
    attention_pt_tile(p, kf, sl, qTile, i0, t);
    attention_dk_from_pt(dk, p, vf, sd, qTile, oTile);
}
