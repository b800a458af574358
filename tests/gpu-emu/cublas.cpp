// cublas.cpp — a fake classic cuBLAS (libcublas.so.13) that multiplies on the CPU; part of the CPU emulator of our
// GPU stack (tests only, see emu.h). Device pointers are host pointers. Every GEMM is queued on the handle's stream
// through emu_enqueue (never run directly: the stream may be capturing a graph, and a captured GEMM runs when the graph
// is launched, possibly many times), so everything it needs (dims, pointers, alpha and beta) is copied at call time.
//
// This file has two parts:
//   1. The GEMM engine shared with cublaslt.cpp, which includes this file with FAKEBLAS_CORE_ONLY defined (the build
//      makes one .so per .cpp file, and only these two files are ours). Everything in it has internal linkage.
//   2. The classic cuBLAS entry points the runtime declares (src/Hrm.Runtime/Backends/Cuda/Interop/Cublas.cs):
//      cublasCreate_v2, cublasDestroy_v2, cublasSetStream_v2, cublasGemmEx, cublasGemmStridedBatchedEx.
//
// Numerics: every operand element is converted exactly to double (fp32 widened; bf16 = the upper 16 bits of an fp32),
// each dot product is accumulated in double in order of the reduction index, then D = alpha·acc + beta·C is formed in
// double and rounded once to the output type (round to nearest even; bf16 output: double -> fp32 -> bf16, as the GPU
// rounds its fp32 result). The products of fp32 or bf16 inputs are exact in double, so the result is what a naive
// double-precision loop gives, bit for bit. When beta == 0, C is not read (it may hold NaN), as in cuBLAS; when
// alpha == 0 or k == 0, A and B are not read (reference BLAS: D = beta·C).
// Compute types: 32F and 32F_PEDANTIC as above; 32F_FAST_TF32 is treated as plain fp32 (no TF32 rounding of the
// inputs: more accurate than the GPU, well inside any TF32 tolerance); 32F_FAST_16BF and 32F_FAST_16F round each fp32
// input to bf16 / fp16 (nearest even) first, as the tensor-core down-conversion does. Data types: CUDA_R_32F and
// CUDA_R_16BF; anything else (fp16 storage, integers, doubles, complex) is CUBLAS_STATUS_NOT_SUPPORTED.
#include "emu.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <unordered_set>
#include <vector>

namespace {

// ---- enums (cublas_api.h, library_types.h)
enum : int {
    ST_SUCCESS = 0,
    ST_NOT_INITIALIZED = 1,
    ST_ALLOC_FAILED = 3,
    ST_INVALID_VALUE = 7,
    ST_NOT_SUPPORTED = 15,
};
enum : int { T_R32F = 0, T_R16F = 2, T_R16BF = 14 };
enum : int {
    CT_16F = 64, CT_16F_PEDANTIC = 65, CT_32F = 68, CT_32F_PEDANTIC = 69, CT_64F = 70, CT_64F_PEDANTIC = 71,
    CT_32I = 72, CT_32I_PEDANTIC = 73, CT_32F_FAST_16F = 74, CT_32F_FAST_16BF = 75, CT_32F_FAST_TF32 = 77,
};
enum : int { OP_N = 0, OP_T = 1, OP_C = 2 };
// cublasLt epilogues this engine applies (cublasLt.h values; classic cuBLAS always uses EPI_DEFAULT).
enum : int { EPI_DEFAULT = 1, EPI_RELU = 2, EPI_BIAS = 4, EPI_RELU_BIAS = 6, EPI_GELU = 32, EPI_GELU_BIAS = 36 };
// How fp32 inputs are rounded before the products (compute type).
enum : int { ROUND_NONE = 0, ROUND_BF16 = 1, ROUND_FP16 = 2 };

bool known_compute_type(int c) {
    switch (c) {
    case CT_16F: case CT_16F_PEDANTIC: case CT_32F: case CT_32F_PEDANTIC: case CT_64F: case CT_64F_PEDANTIC:
    case CT_32I: case CT_32I_PEDANTIC: case CT_32F_FAST_16F: case CT_32F_FAST_16BF: case CT_32F_FAST_TF32:
        return true;
    default:
        return false;
    }
}

// The (A = B type, C = D type, compute type) combinations supported, as in cuBLAS's tables restricted to fp32 and
// bf16 storage: compute 32F / 32F_PEDANTIC with fp32·fp32 -> fp32, bf16·bf16 -> bf16 and bf16·bf16 -> fp32; the
// 32F_FAST_* compute types only with fp32 everywhere. Sets *rounding; returns a status.
int check_types(int ab, int cd, int compute, int* rounding) {
    *rounding = ROUND_NONE;
    bool f32 = ab == T_R32F && cd == T_R32F;
    switch (compute) {
    case CT_32F:
    case CT_32F_PEDANTIC:
        if (f32 || (ab == T_R16BF && (cd == T_R16BF || cd == T_R32F))) return ST_SUCCESS;
        return ST_NOT_SUPPORTED;
    case CT_32F_FAST_TF32: // treated as plain fp32 (see the top of the file)
        return f32 ? ST_SUCCESS : ST_NOT_SUPPORTED;
    case CT_32F_FAST_16BF:
        *rounding = ROUND_BF16;
        return f32 ? ST_SUCCESS : ST_NOT_SUPPORTED;
    case CT_32F_FAST_16F:
        *rounding = ROUND_FP16;
        return f32 ? ST_SUCCESS : ST_NOT_SUPPORTED;
    default:
        return ST_NOT_SUPPORTED;
    }
}

size_t elem_size(int type) { return type == T_R16BF ? 2 : 4; }

// ---- conversions
inline float bf16_to_f32(uint16_t h) {
    uint32_t u = uint32_t(h) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

inline uint16_t f32_to_bf16(float f) { // round to nearest even; NaN stays a (quiet) NaN
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return uint16_t(u >> 16);
}

inline double round_bf16(double x) { return bf16_to_f32(f32_to_bf16(float(x))); } // x is an fp32 value

inline double round_fp16(double x) { // nearest even fp16 value of the fp32 value x (overflow -> inf)
    double ax = std::fabs(x);
    if (std::isnan(x)) return x;
    if (ax >= 65520.0) return std::copysign(INFINITY, x);
    if (ax == 0) return x;
    double q;                                   // the fp16 quantum at ax
    if (ax < 6.103515625e-05) q = std::ldexp(1.0, -24); // subnormal range
    else {
        int e;
        std::frexp(ax, &e);                     // ax in [2^(e-1), 2^e)
        q = std::ldexp(1.0, e - 1 - 10);
    }
    return std::nearbyint(x / q) * q;           // exact scalings; nearbyint rounds half to even
}

// ---- the problem
// Element (i, j) of batch entry b of a matrix: base + elem_size · (b·bs + i·rs + j·cs), strides in elements.
struct Mat {
    const char* base;
    int type;
    int64_t rs, cs, bs;
};

// D (m×n) = epilogue(alpha · op(A) · op(B) + beta · C [+ bias]) for each of `batch` entries. `a` is op(A) (m×k) and
// `b` is op(B) (k×n), the transposes folded into the strides. Plain data: queued by value.
struct Gemm {
    int64_t m, n, k, batch;
    Mat a, b, c, d;
    float alpha, beta;
    const float* alpha_ptr; // non-null: device pointer mode, alpha/beta read when the GEMM runs
    const float* beta_ptr;
    int rounding;
    int epilogue;
    const char* bias;       // EPI_*_BIAS: m elements of bias_type per batch entry, bias_bs apart
    int bias_type;
    int64_t bias_bs;
};

inline double load(const Mat& x, int64_t b, int64_t i, int64_t j) {
    int64_t off = b * x.bs + i * x.rs + j * x.cs;
    if (x.type == T_R16BF) {
        uint16_t h;
        std::memcpy(&h, x.base + off * 2, 2);
        return bf16_to_f32(h);
    }
    float f;
    std::memcpy(&f, x.base + off * 4, 4);
    return f;
}

inline double load_in(const Mat& x, int rounding, int64_t b, int64_t i, int64_t j) {
    double v = load(x, b, i, j);
    if (rounding == ROUND_BF16) return round_bf16(v);
    if (rounding == ROUND_FP16) return round_fp16(v);
    return v;
}

inline double gelu(double x) { // cuBLASLt's GELU: the tanh approximation
    const double s = 0.7978845608028654; // sqrt(2/pi)
    return 0.5 * x * (1.0 + std::tanh(s * (x + 0.044715 * x * x * x)));
}

// D(i, j) of batch entry b from prod = alpha · acc (already scaled).
inline void finish(const Gemm& g, double beta, int64_t b, int64_t i, int64_t j, double prod) {
    double v = prod;
    if (beta != 0) v += beta * load(g.c, b, i, j);
    if (g.epilogue & EPI_BIAS) {
        Mat bias{g.bias, g.bias_type, 1, 0, g.bias_bs};
        v += load(bias, b, i, 0);
    }
    if (g.epilogue & EPI_RELU) v = v > 0 ? v : (std::isnan(v) ? v : 0.0);
    else if (g.epilogue & EPI_GELU) v = gelu(v);
    int64_t off = b * g.d.bs + i * g.d.rs + j * g.d.cs;
    char* p = const_cast<char*>(g.d.base);
    float f = float(v);
    if (g.d.type == T_R16BF) {
        uint16_t h = f32_to_bf16(f);
        std::memcpy(p + off * 2, &h, 2);
    } else {
        std::memcpy(p + off * 4, &f, 4);
    }
}

// ---- the engine: operands packed into double panels, a 4×4 register tile per step of the reduction.
constexpr int MR = 4, NR = 4;
typedef double d2 __attribute__((vector_size(16)));
typedef double d2u __attribute__((vector_size(16), aligned(8)));

// out (MR×NR, column-major) = Σ_p a[p·MR + r] · b[p·NR + c], each sum in order of p.
// `b` holds every value twice (b2[(p·NR + c)·2 + {0,1}]) so that a column is one plain vector load.
inline void kernel(int64_t k, const double* __restrict a, const double* __restrict b2, double* __restrict out) {
    d2 c00 = {0, 0}, c10 = {0, 0}, c01 = {0, 0}, c11 = {0, 0};
    d2 c02 = {0, 0}, c12 = {0, 0}, c03 = {0, 0}, c13 = {0, 0};
    for (int64_t p = 0; p < k; p++) {
        d2 a0 = *(const d2u*)(a + 4 * p), a1 = *(const d2u*)(a + 4 * p + 2);
        const double* bp = b2 + 8 * p;
        d2 b0 = *(const d2u*)(bp), b1 = *(const d2u*)(bp + 2), b2v = *(const d2u*)(bp + 4),
           b3 = *(const d2u*)(bp + 6);
        c00 += a0 * b0; c10 += a1 * b0;
        c01 += a0 * b1; c11 += a1 * b1;
        c02 += a0 * b2v; c12 += a1 * b2v;
        c03 += a0 * b3; c13 += a1 * b3;
    }
    *(d2u*)(out + 0) = c00; *(d2u*)(out + 2) = c10;
    *(d2u*)(out + 4) = c01; *(d2u*)(out + 6) = c11;
    *(d2u*)(out + 8) = c02; *(d2u*)(out + 10) = c12;
    *(d2u*)(out + 12) = c03; *(d2u*)(out + 14) = c13;
}

// Rows i0..i0+mc-1 of op(A) (all k) into MR-row panels: ap[(ir/MR)·MR·k + p·MR + ir%MR]; rows past mc are 0.
void pack_a(const Gemm& g, int64_t bt, int64_t i0, int64_t mc, double* ap) {
    const int64_t k = g.k, mp = (mc + MR - 1) / MR;
    std::memset(ap, 0, sizeof(double) * size_t(mp * MR * k));
    bool rows_inner = std::llabs(g.a.rs) <= std::llabs(g.a.cs); // walk memory in its contiguous direction
    if (rows_inner) {
        for (int64_t p = 0; p < k; p++)
            for (int64_t ir = 0; ir < mc; ir++)
                ap[(ir / MR) * MR * k + p * MR + ir % MR] = load_in(g.a, g.rounding, bt, i0 + ir, p);
    } else {
        for (int64_t ir = 0; ir < mc; ir++) {
            double* dst = ap + (ir / MR) * MR * k + ir % MR;
            for (int64_t p = 0; p < k; p++) dst[p * MR] = load_in(g.a, g.rounding, bt, i0 + ir, p);
        }
    }
}

// Columns j0..j0+nc-1 of op(B) (all k) into NR-column panels, each value twice:
// bp[((jr/NR)·NR·k + p·NR + jr%NR)·2 + {0,1}]; columns past nc are 0.
void pack_b(const Gemm& g, int64_t bt, int64_t j0, int64_t nc, double* bp) {
    const int64_t k = g.k, np = (nc + NR - 1) / NR;
    std::memset(bp, 0, sizeof(double) * size_t(np * NR * k * 2));
    bool cols_inner = std::llabs(g.b.cs) < std::llabs(g.b.rs);
    auto at = [&](int64_t jr, int64_t p) { return bp + ((jr / NR) * NR * k + p * NR + jr % NR) * 2; };
    if (cols_inner) {
        for (int64_t p = 0; p < k; p++)
            for (int64_t jr = 0; jr < nc; jr++) {
                double v = load_in(g.b, g.rounding, bt, p, j0 + jr);
                double* dst = at(jr, p);
                dst[0] = v;
                dst[1] = v;
            }
    } else {
        for (int64_t jr = 0; jr < nc; jr++)
            for (int64_t p = 0; p < k; p++) {
                double v = load_in(g.b, g.rounding, bt, p, j0 + jr);
                double* dst = at(jr, p);
                dst[0] = v;
                dst[1] = v;
            }
    }
}

void gemm_run(const Gemm& g) {
    if (g.m <= 0 || g.n <= 0 || g.batch <= 0) return;
    double alpha = g.alpha_ptr ? double(*g.alpha_ptr) : double(g.alpha);
    double beta = g.beta_ptr ? double(*g.beta_ptr) : double(g.beta);
    if (g.k == 0 || alpha == 0) { // D = beta·C (+ epilogue); A and B are not read
        for (int64_t bt = 0; bt < g.batch; bt++)
            for (int64_t j = 0; j < g.n; j++)
                for (int64_t i = 0; i < g.m; i++) finish(g, beta, bt, i, j, 0.0);
        return;
    }
    const int64_t k = g.k;
    // Block sizes: an A block of ~256 KiB (stays in L2 while every B panel of the block of columns passes over it),
    // a B block of ~1 MiB; at least one panel each.
    auto round_up = [](int64_t x, int64_t r) { return (x + r - 1) / r * r; };
    int64_t mc_max = std::max<int64_t>(MR, (256 * 1024 / (8 * k)) / MR * MR);
    int64_t nc_max = std::max<int64_t>(NR, (1024 * 1024 / (16 * k)) / NR * NR);
    mc_max = std::min(mc_max, round_up(g.m, MR));
    nc_max = std::min(nc_max, round_up(g.n, NR));
    static thread_local std::vector<double> abuf, bbuf;
    if (abuf.size() < size_t(mc_max * k)) abuf.resize(size_t(mc_max * k));
    if (bbuf.size() < size_t(nc_max * k * 2)) bbuf.resize(size_t(nc_max * k * 2));
    double tile[MR * NR];
    for (int64_t bt = 0; bt < g.batch; bt++) {
        for (int64_t j0 = 0; j0 < g.n; j0 += nc_max) {
            int64_t nc = std::min(nc_max, g.n - j0);
            pack_b(g, bt, j0, nc, bbuf.data());
            for (int64_t i0 = 0; i0 < g.m; i0 += mc_max) {
                int64_t mc = std::min(mc_max, g.m - i0);
                pack_a(g, bt, i0, mc, abuf.data());
                for (int64_t jr = 0; jr < nc; jr += NR) {
                    const double* bp = bbuf.data() + jr * k * 2;
                    int64_t nn = std::min<int64_t>(NR, nc - jr);
                    for (int64_t ir = 0; ir < mc; ir += MR) {
                        kernel(k, abuf.data() + ir * k, bp, tile);
                        int64_t mm = std::min<int64_t>(MR, mc - ir);
                        for (int64_t c = 0; c < nn; c++)
                            for (int64_t r = 0; r < mm; r++)
                                finish(g, beta, bt, i0 + ir + r, j0 + jr + c, alpha * tile[c * MR + r]);
                    }
                }
            }
        }
    }
    if (abuf.capacity() + bbuf.capacity() > (size_t(8) << 20)) { // keep no more than 64 MiB between GEMMs
        std::vector<double>().swap(abuf);
        std::vector<double>().swap(bbuf);
    }
}

void gemm_job(void* ctx) {
    try {
        gemm_run(*static_cast<const Gemm*>(ctx));
    } catch (const std::bad_alloc&) { // the panels of a huge k; nothing can be returned from a queued op
        std::fprintf(stderr, "fake cuBLAS: out of memory packing a GEMM's operands\n");
        std::abort();
    }
}
void gemm_release(void* ctx) { delete static_cast<Gemm*>(ctx); }

// Queues g on `stream`; the job owns its copy.
int gemm_enqueue(void* stream, const Gemm& g) {
    Gemm* job = new (std::nothrow) Gemm(g);
    if (!job) return ST_ALLOC_FAILED;
    emu_enqueue(stream, gemm_job, job, gemm_release);
    return ST_SUCCESS;
}

// Live objects of one kind (handles, descriptors): a destroyed or foreign pointer is refused with a status instead
// of being dereferenced.
class Registry {
public:
    void add(void* p) {
        std::lock_guard<std::mutex> lock(mu_);
        live_.insert(p);
    }
    bool remove(void* p) {
        std::lock_guard<std::mutex> lock(mu_);
        return live_.erase(p) != 0;
    }
    bool has(const void* p) {
        std::lock_guard<std::mutex> lock(mu_);
        return live_.count(const_cast<void*>(p)) != 0;
    }

private:
    std::mutex mu_;
    std::unordered_set<void*> live_;
};

} // namespace

#ifndef FAKEBLAS_CORE_ONLY
// ======================================== classic cuBLAS (cublas_api.h, v2) ========================================
#define FAKEBLAS_API extern "C" __attribute__((visibility("default")))

namespace {

struct CublasHandle {
    void* stream; // cublasSetStream_v2; 0 = the default stream
};

Registry& handles() {
    static Registry* r = new Registry(); // never destroyed: handles may be released by finalizers at exit
    return *r;
}

bool valid_op(int op) { return op == OP_N || op == OP_T || op == OP_C; }

// cublasGemmAlgo_t: CUBLAS_GEMM_DEFAULT (-1), CUBLAS_GEMM_ALGO0..23, CUBLAS_GEMM_DEFAULT_TENSOR_OP (99),
// CUBLAS_GEMM_ALGO0_TENSOR_OP..15. Every algorithm computes the same thing here.
bool valid_algo(int algo) { return (algo >= -1 && algo <= 23) || (algo >= 99 && algo <= 115); }

// Shared by cublasGemmEx (batch 1) and cublasGemmStridedBatchedEx.
int gemm_ex(void* handle, int transa, int transb, int m, int n, int k, const void* alpha, const void* A, int atype,
            int lda, long long stride_a, const void* B, int btype, int ldb, long long stride_b, const void* beta,
            void* C, int ctype, int ldc, long long stride_c, int batch, int compute, int algo) {
    if (!handle || !handles().has(handle)) return ST_NOT_INITIALIZED;
    if (!valid_op(transa) || !valid_op(transb)) return ST_INVALID_VALUE;
    if (m < 0 || n < 0 || k < 0 || batch < 0) return ST_INVALID_VALUE;
    bool ta = transa != OP_N, tb = transb != OP_N;
    // A is stored m×k (op N) or k×m (op T), B k×n or n×k, C m×n; each column-major with its leading dimension.
    if (lda < std::max(1, ta ? k : m) || ldb < std::max(1, tb ? n : k) || ldc < std::max(1, m))
        return ST_INVALID_VALUE;
    if (!alpha || !beta) return ST_INVALID_VALUE;
    if (!known_compute_type(compute)) return ST_INVALID_VALUE;
    if (atype != btype) return ST_NOT_SUPPORTED;
    int rounding;
    if (int st = check_types(atype, ctype, compute, &rounding)) return st;
    if (!valid_algo(algo)) return ST_NOT_SUPPORTED;
    if (m == 0 || n == 0 || batch == 0) return ST_SUCCESS;
    // A null or misaligned device pointer (a fault on the GPU; here it would crash the test host) is refused. A and B
    // are only needed when they are read (k > 0 and alpha != 0).
    float alpha_value;
    std::memcpy(&alpha_value, alpha, 4);
    bool reads_ab = k > 0 && alpha_value != 0;
    if (!C || (reads_ab && (!A || !B))) return ST_INVALID_VALUE;
    if ((uintptr_t)A % elem_size(atype) || (uintptr_t)B % elem_size(btype) || (uintptr_t)C % elem_size(ctype))
        return ST_INVALID_VALUE;

    Gemm g{};
    g.m = m;
    g.n = n;
    g.k = k;
    g.batch = batch;
    // op(A)(i, p) = A[i + p·lda] (N) or A[p + i·lda] (T); op(B)(p, j) = B[p + j·ldb] (N) or B[j + p·ldb] (T).
    g.a = Mat{static_cast<const char*>(A), atype, ta ? lda : 1, ta ? 1 : lda, stride_a};
    g.b = Mat{static_cast<const char*>(B), btype, tb ? ldb : 1, tb ? 1 : ldb, stride_b};
    g.c = Mat{static_cast<const char*>(C), ctype, 1, ldc, stride_c};
    g.d = g.c;
    std::memcpy(&g.alpha, alpha, 4); // pointer mode host (the default, and the only mode declared): copied now
    std::memcpy(&g.beta, beta, 4);
    g.rounding = rounding;
    g.epilogue = EPI_DEFAULT;
    return gemm_enqueue(static_cast<CublasHandle*>(handle)->stream, g);
}

} // namespace

FAKEBLAS_API int cublasCreate_v2(void** handle) {
    if (!handle) return ST_INVALID_VALUE;
    CublasHandle* h = new (std::nothrow) CublasHandle{nullptr};
    if (!h) return ST_ALLOC_FAILED;
    handles().add(h);
    *handle = h;
    return ST_SUCCESS;
}

FAKEBLAS_API int cublasDestroy_v2(void* handle) {
    if (!handle || !handles().remove(handle)) return ST_NOT_INITIALIZED;
    delete static_cast<CublasHandle*>(handle);
    return ST_SUCCESS;
}

FAKEBLAS_API int cublasSetStream_v2(void* handle, void* stream) {
    if (!handle || !handles().has(handle)) return ST_NOT_INITIALIZED;
    static_cast<CublasHandle*>(handle)->stream = stream;
    return ST_SUCCESS;
}

FAKEBLAS_API int cublasGemmEx(void* handle, int transa, int transb, int m, int n, int k, const void* alpha,
                              const void* A, int Atype, int lda, const void* B, int Btype, int ldb, const void* beta,
                              void* C, int Ctype, int ldc, int computeType, int algo) {
    return gemm_ex(handle, transa, transb, m, n, k, alpha, A, Atype, lda, 0, B, Btype, ldb, 0, beta, C, Ctype, ldc,
                   0, 1, computeType, algo);
}

FAKEBLAS_API int cublasGemmStridedBatchedEx(void* handle, int transa, int transb, int m, int n, int k,
                                            const void* alpha, const void* A, int Atype, int lda, long long strideA,
                                            const void* B, int Btype, int ldb, long long strideB, const void* beta,
                                            void* C, int Ctype, int ldc, long long strideC, int batchCount,
                                            int computeType, int algo) {
    return gemm_ex(handle, transa, transb, m, n, k, alpha, A, Atype, lda, strideA, B, Btype, ldb, strideB, beta, C,
                   Ctype, ldc, strideC, batchCount, computeType, algo);
}
#endif // FAKEBLAS_CORE_ONLY
