// swiglu.cuh — the SwiGLU element formulas (swiglu.cu's), shared by swiglu.cu's kernels and the persistent module
// kernel (module_fused.cu). Included after common.cuh.
#pragma once
#include "common.cuh"

// The element formulas, shared by every version.
HRM_DEVICE float swiglu_forward_elem(float g, float u) { return g / (1.0f + expf(-g)) * u; }
HRM_DEVICE void swiglu_backward_elem(float da, float g, float u, float& dg, float& du) {
    float s = 1.0f / (1.0f + expf(-g));
    float ds = da * s;
    dg = ds * u * fmaf(g, 1.0f - s, 1.0f);
    du = ds * g;
}
