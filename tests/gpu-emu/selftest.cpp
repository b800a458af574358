// selftest.cpp — standalone check of the kernel emulator (EmulatedGpuTests builds and runs it in CI): runs real kernels of native/kernels
// through emu_kernel_bind / emu_kernel_run (the calls the fake driver makes) against double-precision references,
// runs small test kernels that must trip the emulator's checks, and prints timings.
//
//   EMU_KERNELS_ONLY=1 tests/gpu-emu/build.sh /tmp/emu-out
//   g++ -std=c++17 -O2 -ffp-contract=off -I/tmp/emu-out/src -Itests/gpu-emu tests/gpu-emu/selftest.cpp
//       /tmp/emu-out/src/emu_core.o /tmp/emu-out/src/bind_*.o -o /tmp/emu-out/selftest
//   /tmp/emu-out/selftest
//
// Exit status 0 when every check passes. `selftest bench` prints timings instead. EMU_REVERSE=1 runs every block's
// threads in reverse order.
#include "emu.h"
#include "common.cuh"  // the shim: for the test kernels at the end and its bf16 helpers
#include "emu_task.h"

#include <stdio.h>
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

size_t emu_stack_high_water();  // emu_core.cpp (tests only)

static int g_failures = 0;

static void check(const char* what, double err, double tol) {
    bool ok = err <= tol;  // NaN fails
    if (!ok) g_failures++;
    printf("  %-52s err %.2e  tol %.0e  %s\n", what, err, tol, ok ? "ok" : "FAIL");
}

static void expect(const char* what, bool ok) {
    if (!ok) g_failures++;
    printf("  %-52s %s\n", what, ok ? "ok" : "FAIL");
}

// Device memory stand-in: n elements ending at a guard page (an overrun by a kernel faults, as the driver's).
template <class T> static T* dev(size_t n) {
    size_t bytes = (n * sizeof(T) + 15) & ~(size_t)15, body = (bytes + 4095) / 4096 * 4096;
    char* m = (char*)mmap(nullptr, body + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect(m + body, 4096, PROT_NONE);
    return (T*)(m + body - bytes);
}

// Launch arguments as cuLaunchKernel takes them: args[i] points at the value of parameter i.
struct Args {
    std::vector<u64> slot;
    template <class T> Args& operator()(T v) {
        u64 s = 0;
        memcpy(&s, &v, sizeof v);
        slot.push_back(s);
        return *this;
    }
};

static double g_lastMs;
static int launch(const char* name, const Args& a, dim3 grid, dim3 block, unsigned smem = 0) {
    std::vector<void*> ptr;
    for (const u64& s : a.slot) ptr.push_back((void*)&s);
    EmuTask* t = emu_kernel_bind(name, ptr.data());
    if (t == nullptr) {
        printf("  no kernel %s\n", name);
        g_failures++;
        return 1;
    }
    auto t0 = std::chrono::steady_clock::now();
    int rc = emu_kernel_run(t, grid.x, grid.y, grid.z, block.x, block.y, block.z, smem);
    g_lastMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    emu_kernel_free(t);
    return rc;
}
static void run(const char* name, const Args& a, dim3 grid, dim3 block, unsigned smem = 0) {
    if (launch(name, a, grid, block, smem) != 0) {
        printf("  launch of %s failed\n", name);
        g_failures++;
    }
}

static u64 g_rng = 88172645463325252ull;
static double urand() {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (double)(g_rng >> 11) * (1.0 / 9007199254740992.0);
}
static float nrand() { return (float)(sqrt(-2 * log(urand() + 1e-300)) * cos(2 * M_PI * urand())); }
static unsigned cdiv(long a, long b) { return (unsigned)((a + b - 1) / b); }
static float bfr(float x) { return bf16_to_f32(f32_to_bf16(x)); }

// max |x - ref| / max(1, max |ref|)
template <class T> static double relerr(const T* x, const std::vector<double>& ref) {
    double e = 0, m = 1;
    for (size_t i = 0; i < ref.size(); i++) {
        m = std::max(m, fabs(ref[i]));
        double d = fabs((double)x[i] - ref[i]);
        e = std::isnan(d) ? NAN : std::max(e, d);
        if (std::isnan(e)) break;
    }
    return e / m;
}

// ---- elementwise, rmsnorm ----------------------------------------------------------------------------------------

static void test_add() {
    printf("add_kernel1\n");
    const i64 n = 1000000;
    float *dst = dev<float>(n), *a = dev<float>(n), *b = dev<float>(n);
    for (i64 i = 0; i < n; i++) a[i] = nrand(), b[i] = nrand();
    bf16* dsth = dev<bf16>(n);
    run("add_kernel1", Args()(dst)(dsth)(a)(b)(n), {cdiv(n, 256), 1, 1}, {256, 1, 1});
    printf("  n = 1e6, grid %u x 256: %.1f ms\n", cdiv(n, 256), g_lastMs);
    double e = 0, eh = 0;
    for (i64 i = 0; i < n; i++) e = std::max(e, (double)fabsf(dst[i] - (a[i] + b[i])));
    for (i64 i = 0; i < n; i++) eh = std::max(eh, dsth[i] == f32_to_bf16(dst[i]) ? 0.0 : 1.0);
    check("dst = a + b (bitwise)", e, 0);
    check("dsth = bf16(dst) (bitwise)", eh, 0);
    run("add_kernel1", Args()(a)((bf16*)nullptr)(a)(b)(n), {7, 1, 1}, {256, 1, 1});  // grid-stride, dst = a
    e = 0;
    for (i64 i = 0; i < n; i++) e = std::max(e, (double)fabsf(a[i] - (dst[i])));
    check("grid 7 (grid-stride), dst aliasing a", e, 0);
}

static void test_rmsnorm(int rows, int c) {
    printf("add_rmsnorm_forward_kernel1 N=%d C=%d\n", rows, c);
    size_t n = (size_t)rows * c;
    float *out = dev<float>(n), *rstd = dev<float>(rows), *a = dev<float>(n), *b = dev<float>(n);
    for (size_t i = 0; i < n; i++) a[i] = nrand(), b[i] = nrand();
    float eps = 1e-5f;
    std::vector<double> ro(n), rr(rows);
    for (int r = 0; r < rows; r++) {
        double ss = 0;
        for (int i = 0; i < c; i++) {
            double x = (double)(a[(size_t)r * c + i] + b[(size_t)r * c + i]);
            ss += x * x;
        }
        rr[r] = 1 / sqrt(ss / c + eps);
        for (int i = 0; i < c; i++) {
            size_t k = (size_t)r * c + i;
            ro[k] = rr[r] * (double)(a[k] + b[k]);
        }
    }
    bf16* outh = dev<bf16>(n);
    run("add_rmsnorm_forward_kernel1", Args()(out)(outh)(rstd)(a)(b)(rows)(c)(eps), {cdiv(rows, 8), 1, 1},
        {256, 1, 1});
    printf("  %.2f ms\n", g_lastMs);
    check("rstd", relerr(rstd, rr), 1e-5);
    check("out", relerr(out, ro), 1e-5);
    double eh = 0;
    for (size_t i = 0; i < n; i++) eh = std::max(eh, outh[i] == f32_to_bf16(out[i]) ? 0.0 : 1.0);
    check("outh = bf16(out) (bitwise)", eh, 0);
    expect("blockDim 48 (a partial warp shuffles) is reported",
           launch("add_rmsnorm_forward_kernel1", Args()(out)((bf16*)nullptr)(rstd)(a)(b)(rows)(c)(eps), {1, 1, 1},
                  {48, 1, 1}) != 0);
}

// ---- stablemax_ce -------------------------------------------------------------------------------------------------

static double ref_bce(double x, double y) { return std::max(x, 0.0) - x * y + log1p(exp(-fabs(x))); }
static double ref_sig(double x) { return 1 / (1 + exp(-x)); }

static void test_stablemax(int lossType) {
    const int B = 5, L = 81, V = 11, G = 7, training = 1;
    printf("stablemax_ce_kernel1 + reduce, lossType %d (B=%d L=%d V=%d)\n", lossType, B, L, V);
    float *dl = dev<float>(B * L * V), *dq = dev<float>(B * 2), *logits = dev<float>(B * L * V);
    float *q = dev<float>(B * 2), *target = dev<float>(B);
    double *rowLoss = dev<double>(B * 3), *sums = dev<double>(3);
    int *rowStats = dev<int>(B * 3), *labels = dev<int>(B * L);
    for (int i = 0; i < B * L * V; i++) logits[i] = 2 * nrand();
    for (int b = 0; b < B; b++) {
        q[2 * b] = nrand(), q[2 * b + 1] = nrand(), target[b] = (float)urand();
        for (int t = 0; t < L; t++) {
            int y = urand() < 0.3 ? -100 : (int)(urand() * V);
            if (b == 2 && y >= 0) {  // row 2: every position predicted correctly
                y = 0;
                for (int j = 1; j < V; j++)
                    if (logits[(b * L + t) * V + j] > logits[(b * L + t) * V + y]) y = j;
            }
            labels[b * L + t] = b == 4 ? -100 : y;  // row 4: nothing counted
        }
    }
    std::vector<double> rLoss(B * 3), rDl(B * L * V), rDq(B * 2), rStats(B * 3), rSums(3, 0.0);
    for (int b = 0; b < B; b++) {
        int n = 0, correct = 0;
        for (int t = 0; t < L; t++) n += labels[b * L + t] != -100;
        double div = std::max(n, 1), inv = 1.0 / G, lm = 0;
        for (int t = 0; t < L; t++) {
            const float* x = logits + (b * L + t) * V;
            int y = labels[b * L + t];
            double* g = &rDl[(b * L + t) * V];
            if (y == -100) continue;
            int best = 0;
            for (int j = 1; j < V; j++)
                if (x[j] > x[best]) best = j;
            correct += best == y;
            if (lossType == 0) {
                auto s = [](double v) { return v < 0 ? 1 / (1 - v + 1e-30) : v + 1; };
                double S = 0;
                for (int j = 0; j < V; j++) S += s(x[j]);
                lm += -log(s(x[y]) / S);
                for (int j = 0; j < V; j++)  // d(-log(s_y / S)) / dx_j with s' = s^2 (x < 0) or 1
                    g[j] = inv / div * ((x[j] < 0 ? s(x[j]) * s(x[j]) : 1.0) / S -
                                        (j == y ? (x[y] < 0 ? s(x[y]) : 1 / s(x[y])) : 0.0));
            } else {
                double mx = -INFINITY, z = 0;
                for (int j = 0; j < V; j++) mx = std::max(mx, (double)x[j]);
                for (int j = 0; j < V; j++) z += exp(x[j] - mx);
                lm += mx + log(z) - x[y];
                for (int j = 0; j < V; j++) g[j] = inv / div * (exp(x[j] - mx) / z - (j == y));
            }
        }
        bool seq = correct == n;
        rLoss[3 * b] = lm / div;
        rLoss[3 * b + 1] = ref_bce(q[2 * b], seq);
        rLoss[3 * b + 2] = ref_bce(q[2 * b + 1], target[b]);
        rDq[2 * b] = 0.5 * (ref_sig(q[2 * b]) - seq) * inv;
        rDq[2 * b + 1] = 0.5 * (ref_sig(q[2 * b + 1]) - target[b]) * inv;
        rStats[3 * b] = n, rStats[3 * b + 1] = correct, rStats[3 * b + 2] = seq;
        for (int k = 0; k < 3; k++) rSums[k] += rLoss[3 * b + k];
    }
    run("stablemax_ce_kernel1",
        Args()(dl)(dq)(rowLoss)(rowStats)((const float*)logits)((const int*)labels)((const float*)q)(
            (const float*)target)(B)(L)(V)(G)(training)(lossType),
        {B, 1, 1}, {256, 1, 1});
    run("stablemax_ce_reduce_kernel1", Args()(sums)((const double*)rowLoss)(B), {1, 1, 1}, {256, 1, 1});
    check("rowLoss", relerr(rowLoss, rLoss), 1e-12);
    check("rowStats (exact)", relerr(rowStats, rStats), 0);
    check("dlogits", relerr(dl, rDl), 1e-7);
    check("dq", relerr(dq, rDq), 1e-7);
    check("sums (reduce kernel)", relerr(sums, rSums), 1e-12);
}

// ---- attention ----------------------------------------------------------------------------------------------------

// Reference attention in double on qkv (B,T,3C), HS per head: out, lse; with dout also dqkv (and D = dout . out).
static void ref_attention(const std::vector<float>& qkv, const std::vector<float>& dout, int B, int T, int NH, int HS,
                          std::vector<double>& out, std::vector<double>& lse, std::vector<double>* dqkv) {
    int C = NH * HS;
    double scale = 1 / sqrt((double)HS);
    out.assign((size_t)B * T * C, 0);
    lse.assign((size_t)B * NH * T, 0);
    if (dqkv) dqkv->assign((size_t)B * T * 3 * C, 0);
    std::vector<double> p(T);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
            for (int i = 0; i < T; i++) {
                const float* q = &qkv[(size_t)(b * T + i) * 3 * C + h * HS];
                double mx = -INFINITY, sum = 0;
                for (int j = 0; j < T; j++) {
                    const float* k = &qkv[(size_t)(b * T + j) * 3 * C + C + h * HS];
                    double d = 0;
                    for (int e = 0; e < HS; e++) d += (double)q[e] * k[e];
                    p[j] = d * scale;
                    mx = std::max(mx, p[j]);
                }
                for (int j = 0; j < T; j++) sum += (p[j] = exp(p[j] - mx));
                double* o = &out[(size_t)(b * T + i) * C + h * HS];
                for (int j = 0; j < T; j++) {
                    p[j] /= sum;
                    for (int e = 0; e < HS; e++) o[e] += p[j] * qkv[(size_t)(b * T + j) * 3 * C + 2 * C + h * HS + e];
                }
                lse[(size_t)(b * NH + h) * T + i] = mx + log(sum);
                if (!dqkv) continue;
                const float* go = &dout[(size_t)(b * T + i) * C + h * HS];
                double D = 0;
                for (int e = 0; e < HS; e++) D += go[e] * o[e];
                for (int j = 0; j < T; j++) {
                    size_t kj = (size_t)(b * T + j) * 3 * C + C + h * HS, vj = kj + C, qi = q - qkv.data();
                    double dp = 0;
                    for (int e = 0; e < HS; e++) dp += (double)go[e] * qkv[vj + e];
                    double ds = p[j] * (dp - D) * scale;
                    for (int e = 0; e < HS; e++) {
                        (*dqkv)[qi + e] += ds * qkv[kj + e];
                        (*dqkv)[kj + e] += ds * qkv[qi + e];
                        (*dqkv)[vj + e] += p[j] * go[e];
                    }
                }
            }
}

// kernel2 (HS 64, bf16 tensor cores): pack, forward, dot, dq, dkdv against the reference on bf16-rounded inputs.
static void test_attention2(int B, int T, int NH, bool backward) {
    const int HS = 64, C = NH * HS;
    printf("attention kernel2 B=%d T=%d NH=%d (pack, forward%s)\n", B, T, NH, backward ? ", dot, dq, dkdv" : "");
    size_t nqkv = (size_t)B * T * 3 * C, nout = (size_t)B * T * C, nl = (size_t)B * NH * T;
    float *qkv = dev<float>(nqkv), *out = dev<float>(nout), *lse = dev<float>(nl), *dout = dev<float>(nout);
    float *dd = dev<float>(nl), *dqkv = dev<float>(nqkv);
    bf16 *qkvh = dev<bf16>(nqkv), *doh = dev<bf16>(nout);
    std::vector<float> hq(nqkv), hd(nout);
    for (size_t i = 0; i < nqkv; i++) hq[i] = bfr(qkv[i] = nrand());
    for (size_t i = 0; i < nout; i++) hd[i] = bfr(dout[i] = nrand());
    std::vector<double> ro, rl, rd;
    ref_attention(hq, hd, B, T, NH, HS, ro, rl, backward ? &rd : nullptr);
    run("attention_pack_kernel2", Args()(qkvh)((const float*)qkv)(B)(T)(NH)(3), {(unsigned)(B * T), 1, 1}, {256, 1, 1});
    double e = 0;
    for (size_t i = 0; i < nqkv; i++) {
        size_t row = i / (3 * C), col = i % (3 * C), part = col / C, h = col % C / 64, d = col % 64;
        size_t b = row / T, t = row % T;
        e = std::max(e, (double)fabsf(bf16_to_f32(qkvh[(((part * B + b) * NH + h) * T + t) * 64 + d]) - hq[i]));
    }
    check("pack: qkvh = bf16(qkv) per head (bitwise)", e, 0);
    bf16* outh = dev<bf16>((size_t)B * T * C);
    run("attention_forward_kernel2", Args()(out)(outh)(lse)((const bf16*)qkvh)(B)(T)(NH), {cdiv(T, 128),
        (unsigned)NH, (unsigned)B}, {128, 1, 1});
    printf("  forward: %.2f ms\n", g_lastMs);
    check("forward out (bf16 P)", relerr(out, ro), 1e-2);
    double eh = 0;
    for (size_t i = 0; i < (size_t)B * T * C; i++) eh = std::max(eh, outh[i] == f32_to_bf16(out[i]) ? 0.0 : 1.0);
    check("forward outh = bf16(out) (bitwise)", eh, 0);
    check("forward lse", relerr(lse, rl), 1e-3);
    if (!backward) return;
    run("attention_backward_dot_kernel1", Args()(dd)(doh)((const float*)dout)((const float*)out)(B)(T)(NH)(HS),
        {cdiv((long)B * T * NH, 8), 1, 1}, {256, 1, 1});
    const float* none = nullptr;
    Args bw = Args()(dqkv)((bf16*)nullptr)(none)(none)((const bf16*)qkvh)((const bf16*)doh)((const float*)lse)
        ((const float*)dd)(B)(T)(NH);
    for (size_t i = 0; i < nqkv; i++) dqkv[i] = NAN;
    run("attention_backward_dq_kernel2", bw, {cdiv(T, 64), (unsigned)NH, (unsigned)B}, {128, 1, 1});
    double ms = g_lastMs;
    run("attention_backward_dkdv_kernel2", bw, {cdiv(T, 64), (unsigned)NH, (unsigned)B}, {128, 1, 1});
    printf("  dq %.2f ms, dkdv %.2f ms\n", ms, g_lastMs);
    check("dqkv (dq + dkdv, bf16 dS and P)", relerr(dqkv, rd), 2e-2);
    // RoPE's backward fused into the stores, with random tables (their halves differ) and the bf16 copy: bitwise
    // the unfused dqkv rotated as rope_backward_kernel1 rotates it (this file builds with -ffp-contract=off).
    float *cs = dev<float>((size_t)T * 64), *sn = dev<float>((size_t)T * 64), *dqkv2 = dev<float>(nqkv);
    bf16* dqkvh = dev<bf16>(nqkv);
    for (size_t i = 0; i < (size_t)T * 64; i++) cs[i] = nrand(), sn[i] = nrand();
    Args bw2 = Args()(dqkv2)(dqkvh)((const float*)cs)((const float*)sn)((const bf16*)qkvh)((const bf16*)doh)
        ((const float*)lse)((const float*)dd)(B)(T)(NH);
    run("attention_backward_dq_kernel2", bw2, {cdiv(T, 64), (unsigned)NH, (unsigned)B}, {128, 1, 1});
    run("attention_backward_dkdv_kernel2", bw2, {cdiv(T, 64), (unsigned)NH, (unsigned)B}, {128, 1, 1});
    std::vector<float> want(dqkv, dqkv + nqkv);
    for (int row = 0; row < B * T; row++) {
        int pos = row % T;
        for (int h = 0; h < 2 * NH; h++) {
            float* x = want.data() + (size_t)row * 3 * C + (size_t)h * 64;
            for (int i = 0; i < 32; i++) {
                float a = x[i], b = x[32 + i], s1 = -sn[pos * 64 + i], s2 = -sn[pos * 64 + 32 + i];
                x[i] = a * cs[pos * 64 + i] - b * s1;
                x[32 + i] = b * cs[pos * 64 + 32 + i] + a * s2;
            }
        }
    }
    double er = 0, erh = 0;
    for (size_t i = 0; i < nqkv; i++) er = std::max(er, memcmp(&want[i], &dqkv2[i], 4) == 0 ? 0.0 : 1.0);
    for (size_t i = 0; i < nqkv; i++) erh = std::max(erh, dqkvh[i] == f32_to_bf16(dqkv2[i]) ? 0.0 : 1.0);
    check("dqkv with RoPE backward fused (bitwise, random tables)", er, 0);
    check("dqkvh = bf16(dqkv) (bitwise)", erh, 0);
}

// kernel1 (fp32, any HS <= 128, dynamic shared memory, __shfl_sync).
static void test_attention1(int B, int T, int NH, int HS) {
    const int C = NH * HS, KS = HS | 1;
    printf("attention kernel1 B=%d T=%d NH=%d HS=%d (forward, dot, dq, dkdv)\n", B, T, NH, HS);
    size_t nqkv = (size_t)B * T * 3 * C, nout = (size_t)B * T * C, nl = (size_t)B * NH * T;
    float *qkv = dev<float>(nqkv), *out = dev<float>(nout), *lse = dev<float>(nl), *dout = dev<float>(nout);
    float *dd = dev<float>(nl), *dqkv = dev<float>(nqkv);
    std::vector<float> hq(nqkv), hd(nout);
    for (size_t i = 0; i < nqkv; i++) hq[i] = qkv[i] = nrand();
    for (size_t i = 0; i < nout; i++) hd[i] = dout[i] = nrand();
    std::vector<double> ro, rl, rd;
    ref_attention(hq, hd, B, T, NH, HS, ro, rl, &rd);
    dim3 grid = {cdiv(T, 16), (unsigned)NH, (unsigned)B};
    run("attention_forward_kernel1", Args()(out)(lse)((const float*)qkv)(B)(T)(NH)(HS), grid, {128, 1, 1},
        4 * (16 * HS + 32 * KS + 32 * HS));
    printf("  forward: %.2f ms\n", g_lastMs);
    check("forward out", relerr(out, ro), 1e-5);
    check("forward lse", relerr(lse, rl), 1e-5);
    run("attention_backward_dot_kernel1", Args()(dd)((bf16*)nullptr)((const float*)dout)((const float*)out)(B)(T)(NH)(
        HS), {cdiv((long)B * T * NH, 8), 1, 1}, {256, 1, 1});
    Args bw = Args()(dqkv)((const float*)dout)((const float*)qkv)((const float*)lse)((const float*)dd)(B)(T)(NH)(HS);
    run("attention_backward_dq_kernel1", bw, grid, {128, 1, 1}, 4 * (32 * HS + 64 * KS));
    run("attention_backward_dkdv_kernel1", bw, grid, {128, 1, 1}, 4 * (32 * HS + 64 * KS + 64));
    check("dqkv", relerr(dqkv, rd), 1e-5);
}

// ---- the other kernels with a block-wide step: __syncthreads_or, dynamic smem, block sums, warp sums -------------

static void test_misc() {
    printf("signsgd_rows_kernel1 (__syncthreads_or), duplicate ids\n");
    {
        const int N = 300, W = 300, R = 7;  // grid (300, 2): 300 blocks, most of them duplicates
        float *table = dev<float>(R * W), *g = dev<float>(N * W);
        int* ids = dev<int>(N);
        std::vector<double> ref(R * W);
        for (int i = 0; i < R * W; i++) ref[i] = table[i] = nrand();
        for (int i = 0; i < N * W; i++) g[i] = nrand();
        for (int n = 0; n < N; n++) ids[n] = n == 5 ? -1 : (int)(urand() * R);
        float decay = 0.99f, negLr = -0.01f;
        for (int id = 0; id < R; id++)
            for (int c = 0; c < W; c++) {
                float sum = 0;
                bool any = false;
                for (int n = 0; n < N; n++)
                    if (ids[n] == id) sum += g[n * W + c], any = true;
                float sign = sum > 0 ? 1.0f : sum < 0 ? -1.0f : 0.0f;
                if (any) ref[id * W + c] = fmaf(negLr, sign, table[id * W + c] * decay);
            }
        run("signsgd_rows_kernel1", Args()(table)((const float*)g)((const int*)ids)(N)(W)(R)(decay)(negLr)(
            (const int*)nullptr), {N, cdiv(W, 256), 1}, {256, 1, 1});
        check("table (bitwise)", relerr(table, ref), 0);
    }
    printf("embedding_backward_tok_partial_kernel1 (dynamic smem) + reduce\n");
    {
        const int B = 3, L = 50, P = 2, C = 200, V = 11, T = L + P, chunks = 4;
        float *dx = dev<float>(B * T * C), *partial = dev<float>(chunks * V * C), *dtok = dev<float>(V * C);
        int* tokens = dev<int>(B * L);
        for (int i = 0; i < B * T * C; i++) dx[i] = nrand();
        for (int i = 0; i < B * L; i++) tokens[i] = (int)(urand() * V);
        std::vector<double> ref(V * C);
        for (int i = 0; i < V * C; i++) ref[i] = dtok[i] = nrand();
        float scale = 1.5f, f = (float)(1.5 * 0.707106781);
        for (int b = 0; b < B; b++)
            for (int l = 0; l < L; l++)
                for (int c = 0; c < C; c++) ref[tokens[b * L + l] * C + c] += f * dx[(b * T + P + l) * C + c];
        run("embedding_backward_tok_partial_kernel1", Args()(partial)((const float*)dx)((const int*)tokens)(B)(L)(P)(
            C)(V)(scale)(1), {cdiv(C, 128), chunks, 1}, {128, 1, 1}, V * 128 * 4);
        run("embedding_backward_tok_reduce_kernel1", Args()(dtok)((const float*)partial)(chunks)(V)(C),
            {cdiv(V * C, 256), 1, 1}, {256, 1, 1});
        check("dTokTable", relerr(dtok, ref), 1e-5);
    }
    printf("act_metrics_kernel1 (8 block sums in double), q_head_forward_kernel1 (warp sums)\n");
    {
        const int B = 600, T = 3, C = 96;
        double *sums = dev<double>(10), *rowLoss = dev<double>(B * 3);
        int *skip = dev<int>(1), *halted = dev<int>(B), *steps = dev<int>(B), *stats = dev<int>(B * 3);
        float *q = dev<float>(B * 2), *zh = dev<float>(B * T * C), *w = dev<float>(2 * C), *bias = dev<float>(2);
        std::vector<double> ref(10, 0.0);
        for (int b = 0; b < B; b++) {
            halted[b] = urand() < 0.5, steps[b] = 1 + (int)(urand() * 8), q[2 * b] = nrand(), q[2 * b + 1] = nrand();
            stats[3 * b] = (int)(urand() * 5), stats[3 * b + 1] = std::min(stats[3 * b], (int)(urand() * 6));
            for (int k = 0; k < 3; k++) rowLoss[3 * b + k] = urand();
            int n = stats[3 * b], c = stats[3 * b + 1];
            if (halted[b] && n > 0) {
                ref[0] += 1, ref[1] += (double)c / n, ref[2] += c == n, ref[3] += (q[2 * b] >= 0) == (c == n);
                ref[4] += steps[b];
            }
            for (int k = 0; k < 3; k++) ref[5 + k] += rowLoss[3 * b + k];
        }
        ref[9] = ref[5] + 0.5 * (ref[6] + ref[7]);
        for (int k = 0; k < 10; k++) sums[k] = 0;
        *skip = 0;
        run("act_metrics_kernel1", Args()(sums)(skip)((const int*)halted)((const int*)steps)((const float*)q)(
            (const double*)rowLoss)((const int*)stats)(B)(1), {1, 1, 1}, {256, 1, 1});
        ref[8] = 0;
        check("sums", relerr(sums, ref), 1e-12);
        expect("skip stays 0", *skip == 0);
        for (int i = 0; i < B * T * C; i++) zh[i] = nrand();
        for (int i = 0; i < 2 * C; i++) w[i] = nrand();
        bias[0] = 0.5f, bias[1] = -0.25f;
        std::vector<double> rq(B * 2);
        for (int b = 0; b < B; b++)
            for (int o = 0; o < 2; o++) {
                double d = bias[o];
                for (int i = 0; i < C; i++) d += (double)zh[b * T * C + i] * w[o * C + i];
                rq[2 * b + o] = d;
            }
        run("q_head_forward_kernel1", Args()(q)((const float*)zh)((const float*)w)((const float*)bias)(B)(T)(C),
            {cdiv(B, 8), 1, 1}, {256, 1, 1});
        check("q (q head)", relerr(q, rq), 1e-5);
    }
}

// ---- test kernels that must trip the checks (shared arrays declared as build.sh rewrites them) -----------------

extern "C" void t_exit_before_shfl(float* out) {  // lane 5 leaves the warp before a shuffle
    if (threadIdx.x == 5) return;
    out[threadIdx.x] = warp_sum(1.0f);
}
extern "C" void t_deadlock(float* out) {  // half a warp at __syncthreads, the other half at a shuffle
    if (threadIdx.x < 16) __syncthreads();
    else out[threadIdx.x] = warp_sum(1.0f);
}
extern "C" void t_exit_then_sync(float* out) {  // exited threads count as arrived at __syncthreads
    static float s[64];
    emu_shared_static(&s, sizeof s);
    if (threadIdx.x >= 64) return;
    s[threadIdx.x] = (float)threadIdx.x;
    __syncthreads();
    out[blockIdx.x * 64 + threadIdx.x] = s[63 - threadIdx.x];
}
extern "C" void t_garbage(float* out) {  // every block starts with NaN-filled shared memory
    static float s[64];
    emu_shared_static(&s, sizeof s);
    out[blockIdx.x * 64 + threadIdx.x] = s[threadIdx.x];
    s[threadIdx.x] = 1.0f;
}
// 32 rows of 8 bf16 (4 matrices 8x8) by cp.async from src; ldmatrix_x4 (mode 0 plain, 1 trans) into out (32 x 4);
// sync = 0 skips the __syncthreads between the copies and the read (a race); oob = 1 reads past the array.
extern "C" void t_ldmatrix(u32* out, const bf16* src, int trans, int sync, int oob) {
    static __align__(16) bf16 s[32 * 8];
    emu_shared_static(&s, sizeof s);
    int lane = threadIdx.x;
    cp_async_16(smem_u32(s + lane * 8), src + lane * 8, true);
    cp_async_commit();
    cp_async_wait_all();
    if (sync) __syncthreads();
    u32 r[4];
    if (trans) ldmatrix_x4_trans(r, smem_u32(s + (lane + oob) * 8));
    else ldmatrix_x4(r, smem_u32(s + (lane + oob) * 8));
    for (int i = 0; i < 4; i++) out[lane * 4 + i] = r[i];
}
// Warp 0 reads rows by ldmatrix while warp 1 overwrites them by cp.async in the same barrier interval (after a
// shuffle, so that the read comes first in the emulator's order and the write-after-read check fires).
extern "C" void t_war(const bf16* src) {
    static __align__(16) bf16 s[32 * 8];
    emu_shared_static(&s, sizeof s);
    int lane = threadIdx.x & 31;
    if (threadIdx.x < 32) cp_async_16(smem_u32(s + lane * 8), src + lane * 8, true);
    cp_async_wait_all();
    __syncthreads();
    u32 r[4];
    if (threadIdx.x < 32) ldmatrix_x4(r, smem_u32(s + lane * 8));
    else if (warp_sum(1.0f) == 32.0f) cp_async_16(smem_u32(s + lane * 8), src + lane * 8, true);
    cp_async_wait_all();
}
// Grid-wide barriers: each block writes its id (dynamic shared memory round trip), all meet, then each reads the
// next block's value, twice over (the barrier is reused); `early` = 1 lets block 1 return before the barrier (a
// deadlock on a GPU); t_grid_static uses a static shared array (not emulated with grid barriers).
extern "C" void t_grid(int* out, u32* bar, int early) {
    int* s = (int*)emu_dynamic_smem();
    int n = (int)gridDim.x, b = (int)blockIdx.x;
    if (early && b == 1) return;
    for (int round = 0; round < 2; round++) {
        if (threadIdx.x == 0) s[0] = b + 100 * round;
        __syncthreads();
        if (threadIdx.x == 1) out[2 * n * round + b] = s[0];
        grid_barrier(bar, (u32)n);
        if (threadIdx.x == 2) out[2 * n * round + n + b] = out[2 * n * round + (b + 1) % n];
        grid_barrier(bar, (u32)n);
    }
}
extern "C" void t_grid_static(int* out, u32* bar) {
    static int s[4];
    emu_shared_static(&s, sizeof s);
    s[0] = 1;
    grid_barrier(bar, gridDim.x);
    out[blockIdx.x] = s[0];
}
EMU_KERNEL(t_grid)
EMU_KERNEL_INFO(t_grid_static, 16, 1024)
EMU_KERNEL(t_exit_before_shfl)
EMU_KERNEL(t_deadlock)
EMU_KERNEL_INFO(t_exit_then_sync, 256, 1024)
EMU_KERNEL_INFO(t_garbage, 256, 1024)
EMU_KERNEL_INFO(t_ldmatrix, 512, 1024)
EMU_KERNEL_INFO(t_war, 512, 1024)

static void test_checks() {
    printf("emulator checks (the gpu-emu: messages on stderr are the expected reports)\n");
    float* out = dev<float>(1024);
    expect("lane exiting before a shuffle is reported",
           launch("t_exit_before_shfl", Args()(out), {1, 1, 1}, {32, 1, 1}));
    expect("deadlock (__syncthreads vs shuffle) is reported", launch("t_deadlock", Args()(out), {1, 1, 1}, {32, 1, 1}));
    bool ok = launch("t_exit_then_sync", Args()(out), {2, 1, 1}, {256, 1, 1}) == 0;
    for (int i = 0; i < 128; i++) ok = ok && out[i] == (float)(63 - i % 64);
    expect("__syncthreads with exited threads completes", ok);
    ok = launch("t_garbage", Args()(out), {3, 1, 1}, {64, 1, 1}) == 0;
    for (int i = 0; i < 192; i++) ok = ok && std::isnan(out[i]);
    expect("shared memory is NaN at the start of every block", ok);

    bf16* src = dev<bf16>(32 * 8);
    for (int i = 0; i < 256; i++) src[i] = (bf16)(i + 1);  // row r, column c holds 8r + c + 1
    u32* r = dev<u32>(128);
    for (int trans = 0; trans < 2; trans++) {
        ok = launch("t_ldmatrix", Args()(r)((const bf16*)src)(trans)(1)(0), {1, 1, 1}, {32, 1, 1}) == 0;
        for (int lane = 0; lane < 32; lane++)
            for (int i = 0; i < 4; i++) {
                int g = lane / 4, q = lane % 4;  // PTX: (row g, cols 2q, 2q+1) of matrix i, or of its transpose
                u32 lo = trans ? 8 * (8 * i + 2 * q) + g + 1 : 8 * (8 * i + g) + 2 * q + 1;
                u32 hi = trans ? lo + 8 : lo + 1;
                ok = ok && r[lane * 4 + i] == (lo | hi << 16);
            }
        expect(trans ? "ldmatrix.trans fragment layout" : "ldmatrix fragment layout", ok);
    }
    expect("ldmatrix without __syncthreads after cp.async is reported",
           launch("t_ldmatrix", Args()(r)((const bf16*)src)(0)(0)(0), {1, 1, 1}, {32, 1, 1}) != 0);
    expect("ldmatrix past the end of a shared array is reported",
           launch("t_ldmatrix", Args()(r)((const bf16*)src)(0)(1)(1), {1, 1, 1}, {32, 1, 1}) != 0);
    expect("cp.async over rows another warp reads is reported",
           launch("t_war", Args()((const bf16*)src), {1, 1, 1}, {64, 1, 1}) != 0);
    {
        int* g = dev<int>(4 * 5);
        u32* bar = dev<u32>(2);
        bar[0] = bar[1] = 0;
        ok = launch("t_grid", Args()(g)(bar)(0), {5, 1, 1}, {64, 1, 1}, 16) == 0;
        for (int round = 0; round < 2; round++)
            for (int b = 0; b < 5; b++)
                ok = ok && g[10 * round + b] == b + 100 * round && g[10 * round + 5 + b] == (b + 1) % 5 + 100 * round;
        expect("grid_barrier: every block sees the others' writes", ok);
        expect("grid_barrier that a finished block never reaches is reported",
               launch("t_grid", Args()(g)(bar)(1), {5, 1, 1}, {64, 1, 1}, 16) != 0);
        expect("grid_barrier in a kernel with static shared memory is reported",
               launch("t_grid_static", Args()(g)(bar), {2, 1, 1}, {32, 1, 1}) != 0);
        ok = launch("t_grid", Args()(g)(bar)(0), {3, 1, 1}, {64, 1, 1}, 16) == 0;
        expect("grid_barrier: a launch after the failures runs", ok && g[9] == 101 && g[11] == 100);
    }
    expect("a bad launch (1025 threads) is reported", launch("t_deadlock", Args()(out), {1, 1, 1}, {1025, 1, 1}));
    expect("a block above __launch_bounds__ is reported",
           launch("attention_forward_kernel2", Args()(out)((bf16*)nullptr)(out)(src)(1)(1)(1), {1, 1, 1},
                  {256, 1, 1}));
    float* v = dev<float>(64);
    expect("a misaligned float4 load is reported (attention_pack_kernel2 on qkv + 1)",
           launch("attention_pack_kernel2", Args()((bf16*)r)(v + 1)(1)(1)(1)(1), {1, 1, 1}, {256, 1, 1}));
    expect("emu_kernel_exists / emu_kernel_static_smem",
           emu_kernel_exists("attention_forward_kernel2") && !emu_kernel_exists("nope") &&
               emu_kernel_static_smem("attention_forward_kernel2") == 36864 &&
               emu_kernel_static_smem("attention_backward_dkdv_kernel2") == 37888 &&
               emu_kernel_static_smem("stablemax_ce_kernel1") == 384 && emu_kernel_static_smem("add_kernel1") == 0);
}

// Timings (best of a few runs): `selftest bench`.
static void bench() {
    auto best = [](int reps, auto&& f) {
        double ms = 1e30;
        for (int i = 0; i < reps; i++) ms = std::min(ms, (f(), g_lastMs));
        return ms;
    };
    const i64 n = 1000000;
    float *dst = dev<float>(n), *a = dev<float>(n), *b = dev<float>(n);
    printf("add_kernel1 n=1e6 (3907 x 256 threads): %.1f ms\n",
           best(5, [&] { run("add_kernel1", Args()(dst)((bf16*)nullptr)(a)(b)(n), {cdiv(n, 256), 1, 1}, {256, 1, 1}); }));
    int rows = 2 * 82;
    float *rstd = dev<float>(rows);
    printf("add_rmsnorm_forward_kernel1 N=164 C=512: %.2f ms\n", best(5, [&] {
        run("add_rmsnorm_forward_kernel1", Args()(dst)((bf16*)nullptr)(rstd)(a)(b)(rows)(512)(1e-5f), {cdiv(rows, 8), 1, 1},
            {256, 1, 1});
    }));
    for (int T : {82, 901}) {
        const int B = 1, NH = 8, C = NH * 64, reps = T > 100 ? 1 : 5;
        size_t nqkv = (size_t)B * T * 3 * C, nl = (size_t)B * NH * T;
        float *qkv = dev<float>(nqkv), *out = dev<float>(nqkv), *lse = dev<float>(nl), *dd = dev<float>(nl);
        bf16 *qkvh = dev<bf16>(nqkv), *doh = dev<bf16>(nqkv);
        for (size_t i = 0; i < nqkv; i++) qkv[i] = nrand();
        run("attention_pack_kernel2", Args()(qkvh)((const float*)qkv)(B)(T)(NH)(3), {(unsigned)(B * T), 1, 1},
            {256, 1, 1});
        double f = best(reps, [&] {
            run("attention_forward_kernel2", Args()(out)((bf16*)nullptr)(lse)((const bf16*)qkvh)(B)(T)(NH), {cdiv(T, 128), NH, B},
                {128, 1, 1});
        });
        run("attention_backward_dot_kernel1", Args()(dd)(doh)((const float*)qkv)((const float*)out)(B)(T)(NH)(64),
            {cdiv((long)B * T * NH, 8), 1, 1}, {256, 1, 1});
        const float* none = nullptr;
        Args bw = Args()(qkv)((bf16*)nullptr)(none)(none)((const bf16*)qkvh)((const bf16*)doh)((const float*)lse)
            ((const float*)dd)(B)(T)(NH);
        double dq = best(reps, [&] { run("attention_backward_dq_kernel2", bw, {cdiv(T, 64), NH, B}, {128, 1, 1}); });
        double dkdv =
            best(reps, [&] { run("attention_backward_dkdv_kernel2", bw, {cdiv(T, 64), NH, B}, {128, 1, 1}); });
        printf("attention kernel2 B=1 NH=8 T=%d: forward %.1f ms, dq %.1f ms, dkdv %.1f ms\n", T, f, dq, dkdv);
    }
}

int main(int argc, char** argv) {
    if (argc > 1 && strcmp(argv[1], "bench") == 0) {
        bench();
        return g_failures ? 1 : 0;
    }
    test_checks();
    test_add();
    test_rmsnorm(100, 512);
    test_rmsnorm(9, 64);
    test_stablemax(0);
    test_stablemax(1);
    test_attention2(1, 82, 8, true);  // Sudoku: T = 81 + 1 puzzle position
    test_attention2(2, 5, 2, true);
    test_attention2(1, 200, 2, true);
    test_attention2(1, 1, 1, true);
    test_attention2(3, 37, 2, true);
    test_attention1(2, 37, 2, 32);
    test_attention1(1, 82, 2, 16);
    test_attention1(1, 1, 2, 32);
    test_attention1(2, 130, 2, 128);  // backward smem above 48 KiB
    test_attention1(1, 40, 3, 5);
    test_misc();
    printf("deepest coroutine stack use: %zu bytes of %d\n", emu_stack_high_water(), 64 << 10);
    printf(g_failures ? "%d FAILURE(S)\n" : "all passed\n", g_failures);
    return g_failures ? 1 : 0;
}
