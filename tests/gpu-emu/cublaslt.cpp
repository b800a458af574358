// cublaslt.cpp — a fake cuBLASLt (libcublasLt.so.13) that multiplies on the CPU; part of the CPU emulator of our GPU
// stack (tests only, see emu.h). The GEMM engine (numerics, compute and data types) is the one of cublas.cpp, included
// below; read the comment at the top of that file. Every cublasLtMatmul is queued on its stream through emu_enqueue,
// with everything it needs copied at call time (dims, pointers, host alpha/beta, the descriptors' contents): the
// descriptors may be destroyed, and alpha/beta go out of scope, before a captured graph replays it.
//
// Entry points (src/Hrm.Runtime/Backends/Cuda/Interop/CublasLt.cs): cublasLtGetVersion, cublasLtCreate,
// cublasLtDestroy, cublasLtMatmulDescCreate/SetAttribute/Destroy, cublasLtMatrixLayoutCreate/SetAttribute/Destroy,
// cublasLtMatmulPreferenceCreate/SetAttribute/Destroy, cublasLtMatmulAlgoGetHeuristic, cublasLtMatmul.
//
// Attributes: a value of the wrong size (or a null buffer) is CUBLAS_STATUS_INVALID_VALUE, as in cuBLASLt.
//   matmul desc: COMPUTE_TYPE, SCALE_TYPE (int32), POINTER_MODE (int32: HOST; DEVICE reads alpha/beta when the GEMM
//     runs), TRANSA, TRANSB (int32: N, T, C), TRANSC (int32: N only), FILL_MODE (int32: FULL only), EPILOGUE (uint32:
//     DEFAULT, RELU, BIAS, RELU_BIAS, GELU, GELU_BIAS; GELU is the tanh approximation), BIAS_POINTER (void*),
//     BIAS_BATCH_STRIDE (int64), BIAS_DATA_TYPE (int32: -1 = D's type, fp32 or bf16). Anything else (aux outputs,
//     fp8 scales, vector pointer modes, ...) is CUBLAS_STATUS_NOT_SUPPORTED.
//   matrix layout: TYPE (uint32), ORDER (int32: COL, ROW), ROWS, COLS (uint64), LD (int64), BATCH_COUNT (int32),
//     STRIDED_BATCH_OFFSET (int64, in elements), PLANE_OFFSET (int64: 0 only). Anything else: NOT_SUPPORTED.
//   preference: SEARCH_MODE (uint32: BEST_FIT only), MAX_WORKSPACE_BYTES (uint64), REDUCTION_SCHEME_MASK (uint32),
//     MIN_ALIGNMENT_A/B/C/D_BYTES (uint32), MAX_WAVES_COUNT (float), IMPL_MASK (uint64). There are three algorithms
//     (ids 1, 2, 3) with the same numerics, so that callers that time the heuristic's candidates have a choice; id k
//     needs (k - 1) * 256 bytes of workspace (MAX_WORKSPACE_BYTES, default 0, admits or drops it; cublasLtMatmul
//     refuses a smaller workspace). They accept any alignment (of the element type) and do not split k, so the other
//     attributes filter nothing, except a MAX_WAVES_COUNT below the reported 1.0 and an IMPL_MASK without
//     CUBLASLT_NUMERICAL_IMPL_FLAGS_FMA.
// The problem is checked (by the heuristic and by cublasLtMatmul) like cuBLASLt does: unsupported type combinations
// are NOT_SUPPORTED; dimensions that do not agree (op(A) m×k, op(B) k×n, C and D m×n), a leading dimension below the
// stored rows (COL) or columns (ROW), batch counts that differ or C and D of different order are INVALID_VALUE.
#define FAKEBLAS_CORE_ONLY
#include "cublas.cpp" // the GEMM engine (internal linkage; no classic cuBLAS symbols are compiled in)

#define FAKEBLAS_API extern "C" __attribute__((visibility("default")))

namespace {

// cublasLtMatmulDescAttributes_t
enum : int {
    MD_COMPUTE_TYPE = 0, MD_SCALE_TYPE = 1, MD_POINTER_MODE = 2, MD_TRANSA = 3, MD_TRANSB = 4, MD_TRANSC = 5,
    MD_FILL_MODE = 6, MD_EPILOGUE = 7, MD_BIAS_POINTER = 8, MD_BIAS_BATCH_STRIDE = 10, MD_BIAS_DATA_TYPE = 26,
};
// cublasLtMatrixLayoutAttribute_t
enum : int {
    ML_TYPE = 0, ML_ORDER = 1, ML_ROWS = 2, ML_COLS = 3, ML_LD = 4, ML_BATCH_COUNT = 5, ML_STRIDED_BATCH_OFFSET = 6,
    ML_PLANE_OFFSET = 7,
};
// cublasLtMatmulPreferenceAttributes_t
enum : int {
    MP_SEARCH_MODE = 0, MP_MAX_WORKSPACE_BYTES = 1, MP_REDUCTION_SCHEME_MASK = 3, MP_MIN_ALIGNMENT_A_BYTES = 5,
    MP_MIN_ALIGNMENT_B_BYTES = 6, MP_MIN_ALIGNMENT_C_BYTES = 7, MP_MIN_ALIGNMENT_D_BYTES = 8,
    MP_MAX_WAVES_COUNT = 9, MP_IMPL_MASK = 12,
};
enum : int { ORDER_COL = 0, ORDER_ROW = 1, ORDER_COL32 = 2, ORDER_COL4_4R2_8C = 3, ORDER_COL32_2R_4R4 = 4 };
enum : int { PM_HOST = 0, PM_DEVICE = 1, PM_DEVICE_VECTOR = 2, PM_ALPHA_VECTOR_BETA_ZERO = 3,
             PM_ALPHA_VECTOR_BETA_HOST = 4 };
enum : int { FILL_LOWER = 0, FILL_UPPER = 1, FILL_FULL = 2 };
constexpr uint64_t IMPL_FLAGS_FMA = 0x01; // CUBLASLT_NUMERICAL_IMPL_FLAGS_FMA: what this algorithm is

struct LtHandle {
    int unused;
};

struct MatmulDesc {
    int compute, scale, pointer_mode, transa, transb, epilogue, bias_type;
    const void* bias;
    int64_t bias_bs;
};

struct Layout {
    int type, order;
    uint64_t rows, cols;
    int64_t ld;
    int32_t batch;
    int64_t stride;
};

struct Preference {
    float max_waves;
    uint64_t impl_mask;
    uint64_t max_workspace;
};

// cublasLtMatmulAlgo_t and cublasLtMatmulHeuristicResult_t (96 bytes).
struct Algo {
    uint64_t data[8];
};
struct HeuristicResult {
    Algo algo;
    size_t workspaceSize;
    int state;
    float wavesCount;
    int reserved[4];
};
static_assert(sizeof(HeuristicResult) == 96, "cublasLtMatmulHeuristicResult_t is 96 bytes");

// The algorithms: word 0 marks ours, word 1 is the id (1..ALGO_COUNT); cublasLtMatmul refuses any other algo.
constexpr uint64_t ALGO_MAGIC = 0x53414c424b414546ull; // "FAKEBLAS"
constexpr uint64_t ALGO_COUNT = 3;
constexpr size_t algo_workspace(uint64_t id) { return (size_t)(id - 1) * 256; }

Registry& lt_handles() { static Registry* r = new Registry(); return *r; }
Registry& descs() { static Registry* r = new Registry(); return *r; }
Registry& layouts() { static Registry* r = new Registry(); return *r; }
Registry& prefs() { static Registry* r = new Registry(); return *r; }

// Copies a value of exactly sizeof(T) bytes out of an attribute buffer.
template <typename T>
bool take(const void* buf, size_t size, T* out) {
    if (!buf || size != sizeof(T)) return false;
    std::memcpy(out, buf, sizeof(T));
    return true;
}

bool valid_op(int op) { return op == OP_N || op == OP_T || op == OP_C; }

// Element (i, j) of a layout: COL i + j·ld, ROW i·ld + j.
Mat mat_of(const Layout& l, const void* p) {
    bool col = l.order == ORDER_COL;
    return Mat{static_cast<const char*>(p), l.type, col ? 1 : l.ld, col ? l.ld : 1, l.stride};
}

Mat transposed(Mat x) {
    std::swap(x.rs, x.cs);
    return x;
}

// Checks the problem as cuBLASLt does and fills in everything of g but the pointers and alpha/beta.
int plan(const MatmulDesc& md, const Layout& A, const Layout& B, const Layout& C, const Layout& D, Gemm* g) {
    if (A.type != B.type || C.type != D.type) return ST_NOT_SUPPORTED;
    if (md.scale != T_R32F) return ST_NOT_SUPPORTED; // the scale type of every supported combination
    int rounding;
    if (int st = check_types(A.type, D.type, md.compute, &rounding)) return st;
    const Layout* all[] = {&A, &B, &C, &D};
    for (const Layout* l : all) {
        if (l->rows > uint64_t(INT32_MAX) || l->cols > uint64_t(INT32_MAX)) return ST_NOT_SUPPORTED;
        int64_t stored = l->order == ORDER_COL ? int64_t(l->rows) : int64_t(l->cols);
        if (l->ld < std::max<int64_t>(1, stored)) return ST_INVALID_VALUE;
        if (l->batch < 1 || l->batch != D.batch) return ST_INVALID_VALUE;
    }
    bool ta = md.transa != OP_N, tb = md.transb != OP_N;
    int64_t m = int64_t(D.rows), n = int64_t(D.cols);
    int64_t a_rows = int64_t(ta ? A.cols : A.rows), k = int64_t(ta ? A.rows : A.cols);
    int64_t b_rows = int64_t(tb ? B.cols : B.rows), b_cols = int64_t(tb ? B.rows : B.cols);
    if (a_rows != m || b_rows != k || b_cols != n) return ST_INVALID_VALUE;
    if (int64_t(C.rows) != m || int64_t(C.cols) != n || C.order != D.order) return ST_INVALID_VALUE;
    *g = Gemm{};
    g->m = m;
    g->n = n;
    g->k = k;
    g->batch = D.batch;
    g->rounding = rounding;
    g->epilogue = md.epilogue;
    g->bias_type = md.bias_type == -1 ? D.type : md.bias_type;
    g->bias_bs = md.bias_bs;
    return ST_SUCCESS;
}

int check_objects(void* handle, void* desc, void* a, void* b, void* c, void* d) {
    if (!handle || !lt_handles().has(handle)) return ST_NOT_INITIALIZED;
    if (!desc || !descs().has(desc)) return ST_INVALID_VALUE;
    void* ls[] = {a, b, c, d};
    for (void* l : ls)
        if (!l || !layouts().has(l)) return ST_INVALID_VALUE;
    return ST_SUCCESS;
}

} // namespace

FAKEBLAS_API size_t cublasLtGetVersion(void) { return 130000; } // cuBLASLt 13.0.0

FAKEBLAS_API int cublasLtCreate(void** handle) {
    if (!handle) return ST_INVALID_VALUE;
    LtHandle* h = new (std::nothrow) LtHandle{0};
    if (!h) return ST_ALLOC_FAILED;
    lt_handles().add(h);
    *handle = h;
    return ST_SUCCESS;
}

FAKEBLAS_API int cublasLtDestroy(void* handle) {
    if (!handle || !lt_handles().remove(handle)) return ST_NOT_INITIALIZED;
    delete static_cast<LtHandle*>(handle);
    return ST_SUCCESS;
}

// ---- matmul descriptor
FAKEBLAS_API int cublasLtMatmulDescCreate(void** desc, int computeType, int scaleType) {
    if (!desc || !known_compute_type(computeType)) return ST_INVALID_VALUE;
    MatmulDesc* d = new (std::nothrow) MatmulDesc{computeType, scaleType, PM_HOST, OP_N, OP_N, EPI_DEFAULT, -1,
                                                  nullptr, 0};
    if (!d) return ST_ALLOC_FAILED;
    descs().add(d);
    *desc = d;
    return ST_SUCCESS;
}

FAKEBLAS_API int cublasLtMatmulDescDestroy(void* desc) {
    if (!desc) return ST_SUCCESS;
    if (!descs().remove(desc)) return ST_INVALID_VALUE;
    delete static_cast<MatmulDesc*>(desc);
    return ST_SUCCESS;
}

FAKEBLAS_API int cublasLtMatmulDescSetAttribute(void* desc, int attr, const void* buf, size_t sizeInBytes) {
    if (!desc || !descs().has(desc)) return ST_INVALID_VALUE;
    MatmulDesc& d = *static_cast<MatmulDesc*>(desc);
    int32_t i32;
    uint32_t u32;
    int64_t i64;
    const void* ptr;
    switch (attr) {
    case MD_COMPUTE_TYPE:
        if (!take(buf, sizeInBytes, &i32) || !known_compute_type(i32)) return ST_INVALID_VALUE;
        d.compute = i32;
        return ST_SUCCESS;
    case MD_SCALE_TYPE:
        if (!take(buf, sizeInBytes, &i32)) return ST_INVALID_VALUE;
        d.scale = i32; // checked against the problem by the heuristic and cublasLtMatmul
        return ST_SUCCESS;
    case MD_POINTER_MODE:
        if (!take(buf, sizeInBytes, &i32)) return ST_INVALID_VALUE;
        if (i32 == PM_DEVICE_VECTOR || i32 == PM_ALPHA_VECTOR_BETA_ZERO || i32 == PM_ALPHA_VECTOR_BETA_HOST)
            return ST_NOT_SUPPORTED;
        if (i32 != PM_HOST && i32 != PM_DEVICE) return ST_INVALID_VALUE;
        d.pointer_mode = i32;
        return ST_SUCCESS;
    case MD_TRANSA:
    case MD_TRANSB:
        if (!take(buf, sizeInBytes, &i32) || !valid_op(i32)) return ST_INVALID_VALUE;
        (attr == MD_TRANSA ? d.transa : d.transb) = i32;
        return ST_SUCCESS;
    case MD_TRANSC:
        if (!take(buf, sizeInBytes, &i32) || !valid_op(i32)) return ST_INVALID_VALUE;
        return i32 == OP_N ? ST_SUCCESS : ST_NOT_SUPPORTED; // "currently only CUBLAS_OP_N is supported"
    case MD_FILL_MODE:
        if (!take(buf, sizeInBytes, &i32) || i32 < FILL_LOWER || i32 > FILL_FULL) return ST_INVALID_VALUE;
        return i32 == FILL_FULL ? ST_SUCCESS : ST_NOT_SUPPORTED;
    case MD_EPILOGUE:
        if (!take(buf, sizeInBytes, &u32)) return ST_INVALID_VALUE;
        switch (u32) {
        case EPI_DEFAULT: case EPI_RELU: case EPI_BIAS: case EPI_RELU_BIAS: case EPI_GELU: case EPI_GELU_BIAS:
            d.epilogue = int(u32);
            return ST_SUCCESS;
        case 130: case 134: case 136: case 152: case 160: case 164: case 192: case 208: case 256: case 512:
            return ST_NOT_SUPPORTED; // aux outputs and gradients (RELU_AUX, DRELU, GELU_AUX, DGELU, BGRAD, ...)
        default:
            return ST_INVALID_VALUE;
        }
    case MD_BIAS_POINTER:
        if (!take(buf, sizeInBytes, &ptr)) return ST_INVALID_VALUE;
        d.bias = ptr;
        return ST_SUCCESS;
    case MD_BIAS_BATCH_STRIDE:
        if (!take(buf, sizeInBytes, &i64)) return ST_INVALID_VALUE;
        d.bias_bs = i64;
        return ST_SUCCESS;
    case MD_BIAS_DATA_TYPE:
        if (!take(buf, sizeInBytes, &i32)) return ST_INVALID_VALUE;
        if (i32 != -1 && i32 != T_R32F && i32 != T_R16BF) return ST_NOT_SUPPORTED;
        d.bias_type = i32;
        return ST_SUCCESS;
    default:
        return ST_NOT_SUPPORTED; // not implemented here (or not an attribute)
    }
}

// ---- matrix layout
FAKEBLAS_API int cublasLtMatrixLayoutCreate(void** layout, int type, uint64_t rows, uint64_t cols, int64_t ld) {
    if (!layout) return ST_INVALID_VALUE;
    // Like cuBLASLt, nothing is checked here: the problem is checked as a whole by the heuristic and the matmul.
    Layout* l = new (std::nothrow) Layout{type, ORDER_COL, rows, cols, ld, 1, 0};
    if (!l) return ST_ALLOC_FAILED;
    layouts().add(l);
    *layout = l;
    return ST_SUCCESS;
}

FAKEBLAS_API int cublasLtMatrixLayoutDestroy(void* layout) {
    if (!layout) return ST_SUCCESS;
    if (!layouts().remove(layout)) return ST_INVALID_VALUE;
    delete static_cast<Layout*>(layout);
    return ST_SUCCESS;
}

FAKEBLAS_API int cublasLtMatrixLayoutSetAttribute(void* layout, int attr, const void* buf, size_t sizeInBytes) {
    if (!layout || !layouts().has(layout)) return ST_INVALID_VALUE;
    Layout& l = *static_cast<Layout*>(layout);
    uint32_t u32;
    int32_t i32;
    uint64_t u64;
    int64_t i64;
    switch (attr) {
    case ML_TYPE:
        if (!take(buf, sizeInBytes, &u32)) return ST_INVALID_VALUE;
        l.type = int(u32);
        return ST_SUCCESS;
    case ML_ORDER:
        if (!take(buf, sizeInBytes, &i32)) return ST_INVALID_VALUE;
        if (i32 == ORDER_COL32 || i32 == ORDER_COL4_4R2_8C || i32 == ORDER_COL32_2R_4R4) return ST_NOT_SUPPORTED;
        if (i32 != ORDER_COL && i32 != ORDER_ROW) return ST_INVALID_VALUE;
        l.order = i32;
        return ST_SUCCESS;
    case ML_ROWS:
    case ML_COLS:
        if (!take(buf, sizeInBytes, &u64)) return ST_INVALID_VALUE;
        (attr == ML_ROWS ? l.rows : l.cols) = u64;
        return ST_SUCCESS;
    case ML_LD:
        if (!take(buf, sizeInBytes, &i64)) return ST_INVALID_VALUE;
        l.ld = i64;
        return ST_SUCCESS;
    case ML_BATCH_COUNT:
        if (!take(buf, sizeInBytes, &i32)) return ST_INVALID_VALUE;
        l.batch = i32;
        return ST_SUCCESS;
    case ML_STRIDED_BATCH_OFFSET:
        if (!take(buf, sizeInBytes, &i64)) return ST_INVALID_VALUE;
        l.stride = i64;
        return ST_SUCCESS;
    case ML_PLANE_OFFSET: // planar complex; 0 is the (real, interleaved) default
        if (!take(buf, sizeInBytes, &i64)) return ST_INVALID_VALUE;
        return i64 == 0 ? ST_SUCCESS : ST_NOT_SUPPORTED;
    default:
        return ST_NOT_SUPPORTED;
    }
}

// ---- preference
FAKEBLAS_API int cublasLtMatmulPreferenceCreate(void** pref) {
    if (!pref) return ST_INVALID_VALUE;
    Preference* p = new (std::nothrow) Preference{0.0f, ~uint64_t(0), 0};
    if (!p) return ST_ALLOC_FAILED;
    prefs().add(p);
    *pref = p;
    return ST_SUCCESS;
}

FAKEBLAS_API int cublasLtMatmulPreferenceDestroy(void* pref) {
    if (!pref) return ST_SUCCESS;
    if (!prefs().remove(pref)) return ST_INVALID_VALUE;
    delete static_cast<Preference*>(pref);
    return ST_SUCCESS;
}

FAKEBLAS_API int cublasLtMatmulPreferenceSetAttribute(void* pref, int attr, const void* buf, size_t sizeInBytes) {
    if (!pref || !prefs().has(pref)) return ST_INVALID_VALUE;
    Preference& p = *static_cast<Preference*>(pref);
    uint32_t u32;
    uint64_t u64;
    float f;
    switch (attr) {
    case MP_SEARCH_MODE:
        if (!take(buf, sizeInBytes, &u32)) return ST_INVALID_VALUE;
        // LIMITED_BY_ALGO_ID needs cublasLtMatmulAlgoInit, which is not declared (nor implemented here).
        return u32 == 0 ? ST_SUCCESS : ST_NOT_SUPPORTED;
    case MP_MAX_WORKSPACE_BYTES:
        if (!take(buf, sizeInBytes, &u64)) return ST_INVALID_VALUE;
        p.max_workspace = u64;
        return ST_SUCCESS;
    case MP_REDUCTION_SCHEME_MASK: // the algorithm does not split k (CUBLASLT_REDUCTION_SCHEME_NONE)
        return take(buf, sizeInBytes, &u32) ? ST_SUCCESS : ST_INVALID_VALUE;
    case MP_MIN_ALIGNMENT_A_BYTES:
    case MP_MIN_ALIGNMENT_B_BYTES:
    case MP_MIN_ALIGNMENT_C_BYTES:
    case MP_MIN_ALIGNMENT_D_BYTES: // the algorithm needs only the alignment of the element type
        return take(buf, sizeInBytes, &u32) ? ST_SUCCESS : ST_INVALID_VALUE;
    case MP_MAX_WAVES_COUNT:
        if (!take(buf, sizeInBytes, &f)) return ST_INVALID_VALUE;
        p.max_waves = f;
        return ST_SUCCESS;
    case MP_IMPL_MASK:
        if (!take(buf, sizeInBytes, &u64)) return ST_INVALID_VALUE;
        p.impl_mask = u64;
        return ST_SUCCESS;
    default:
        return ST_NOT_SUPPORTED;
    }
}

// ---- heuristic: the algorithms the preference admits, id 1 first, up to requestedAlgoCount
FAKEBLAS_API int cublasLtMatmulAlgoGetHeuristic(void* handle, void* operationDesc, void* Adesc, void* Bdesc,
                                                void* Cdesc, void* Ddesc, void* preference, int requestedAlgoCount,
                                                void* heuristicResultsArray, int* returnAlgoCount) {
    if (int st = check_objects(handle, operationDesc, Adesc, Bdesc, Cdesc, Ddesc)) return st;
    if (preference && !prefs().has(preference)) return ST_INVALID_VALUE;
    if (requestedAlgoCount <= 0 || !heuristicResultsArray || !returnAlgoCount) return ST_INVALID_VALUE;
    *returnAlgoCount = 0;
    Gemm g;
    if (int st = plan(*static_cast<MatmulDesc*>(operationDesc), *static_cast<Layout*>(Adesc),
                      *static_cast<Layout*>(Bdesc), *static_cast<Layout*>(Cdesc), *static_cast<Layout*>(Ddesc), &g))
        return st;
    const float waves = 1.0f;
    if (preference) {
        const Preference& p = *static_cast<Preference*>(preference);
        if ((p.max_waves > 0 && p.max_waves < waves) || !(p.impl_mask & IMPL_FLAGS_FMA)) return ST_NOT_SUPPORTED;
    }
    uint64_t maxWorkspace = preference ? static_cast<Preference*>(preference)->max_workspace : 0;
    int n = 0;
    for (uint64_t id = 1; id <= ALGO_COUNT && n < requestedAlgoCount; id++) {
        if (algo_workspace(id) > maxWorkspace) continue;
        HeuristicResult r{};
        r.algo.data[0] = ALGO_MAGIC;
        r.algo.data[1] = id;
        r.workspaceSize = algo_workspace(id);
        r.state = ST_SUCCESS;
        r.wavesCount = waves;
        std::memcpy(static_cast<HeuristicResult*>(heuristicResultsArray) + n, &r, sizeof r);
        n++;
    }
    *returnAlgoCount = n;
    return ST_SUCCESS;
}

// ---- D = epilogue(alpha · op(A) · op(B) + beta · C), queued on `stream`
FAKEBLAS_API int cublasLtMatmul(void* handle, void* computeDesc, const void* alpha, const void* A, void* Adesc,
                                const void* B, void* Bdesc, const void* beta, const void* C, void* Cdesc, void* D,
                                void* Ddesc, const void* algo, void* workspace, size_t workspaceSizeInBytes,
                                void* stream) {
    if (int st = check_objects(handle, computeDesc, Adesc, Bdesc, Cdesc, Ddesc)) return st;
    if (!alpha || !beta) return ST_INVALID_VALUE;
    if (algo) {
        Algo a;
        std::memcpy(&a, algo, sizeof a);
        if (a.data[0] != ALGO_MAGIC || a.data[1] < 1 || a.data[1] > ALGO_COUNT) return ST_INVALID_VALUE; // not ours
        if (workspaceSizeInBytes < algo_workspace(a.data[1]) || (algo_workspace(a.data[1]) > 0 && !workspace))
            return ST_INVALID_VALUE; // the algorithm's workspace does not fit
    }
    const MatmulDesc& md = *static_cast<MatmulDesc*>(computeDesc);
    const Layout &la = *static_cast<Layout*>(Adesc), &lb = *static_cast<Layout*>(Bdesc),
                 &lc = *static_cast<Layout*>(Cdesc), &ld = *static_cast<Layout*>(Ddesc);
    Gemm g;
    if (int st = plan(md, la, lb, lc, ld, &g)) return st;
    g.a = mat_of(la, A);
    g.b = mat_of(lb, B);
    if (md.transa != OP_N) g.a = transposed(g.a);
    if (md.transb != OP_N) g.b = transposed(g.b);
    g.c = mat_of(lc, C);
    g.d = mat_of(ld, D);
    g.bias = static_cast<const char*>(md.bias);
    // In place (C == D) needs the same layout; out of place may differ in the leading dimension (and batch offset).
    if (C == D && (g.c.rs != g.d.rs || g.c.cs != g.d.cs || g.c.bs != g.d.bs)) return ST_INVALID_VALUE;
    if (md.pointer_mode == PM_DEVICE) { // read when the GEMM runs (device memory is host memory here)
        g.alpha_ptr = static_cast<const float*>(alpha);
        g.beta_ptr = static_cast<const float*>(beta);
    } else { // host: copied now
        std::memcpy(&g.alpha, alpha, 4);
        std::memcpy(&g.beta, beta, 4);
    }
    if (g.m == 0 || g.n == 0) return ST_SUCCESS;
    // Null or misaligned device pointers (a fault on the GPU; here they would crash the test host) are refused.
    // C is only read when beta != 0, A and B only when k > 0 and alpha != 0 (known now in host pointer mode).
    bool host = md.pointer_mode == PM_HOST;
    bool reads_c = !host || g.beta != 0, reads_ab = g.k > 0 && (!host || g.alpha != 0);
    if (!D || (reads_c && !C) || (reads_ab && (!A || !B)) || ((g.epilogue & EPI_BIAS) && !g.bias))
        return ST_INVALID_VALUE;
    if ((uintptr_t)A % elem_size(la.type) || (uintptr_t)B % elem_size(lb.type) ||
        (uintptr_t)C % elem_size(lc.type) || (uintptr_t)D % elem_size(ld.type) ||
        (uintptr_t)g.bias % elem_size(g.bias_type))
        return ST_INVALID_VALUE;
    return gemm_enqueue(stream, g);
}
