// emu_core.cpp — the scheduler of the CUDA kernel emulator (tests only; the kernel half of emu.h).
//
// A launch runs the blocks of the grid one after another, except that a block whose threads all wait at a grid-wide
// barrier (emu_grid_sync: common.cuh's grid_barrier) is parked and the next block starts; once every block is parked
// there, all go on (a block that finished while others wait there is a deadlock, reported). The threads of a block are coroutines on 64 KiB stacks
// (a guard page below each), started lazily in thread order: a thread runs until it exits, or until it reaches
// __syncthreads or a warp-wide operation that cannot complete yet, and then switches directly to the next thread
// that can run (or back to the scheduler, which starts the next new thread). So a thread that never waits costs one
// switch in and one out, and a stack is reused as soon as its thread exits. The switch is x86-64 assembly inlined
// at the switch points (callee-saved registers, stack pointer, resume address: no signal-mask syscall as in
// swapcontext, no mispredicted ret); other architectures, or -DEMU_UCONTEXT, use ucontext (needed should the
// process run with CET shadow stacks, which a jump between stacks violates).
// The lanes of a warp whose operation completed run next, so a warp runs as far ahead of the other warps as it can
// (to its next __syncthreads): a missing __syncthreads between one warp's writes to shared memory and another
// warp's reads (or the reverse) then shows in the results. EMU_REVERSE=1 in the environment starts the threads in
// reverse order (the last warp runs ahead first), for races in the other direction, and the blocks too (the last
// block first: a block reading what another block of the same launch writes before a grid barrier shows).
//
// Semantics emulated (and checked, with a message on stderr and a nonzero return of emu_kernel_run):
//   * __syncthreads(_or): completes when every thread of the block has arrived or exited (exited threads count as
//     arrived, as hardware behaves). Nobody able to run and some threads waiting = deadlock, reported.
//   * grid_barrier: completes when every thread of every block of the grid has arrived (or exited); only in kernels
//     without static __shared__ arrays (those are one per process here), reported otherwise.
//   * warp-wide operations (shuffles, ldmatrix, mma): complete when all 32 lanes of the warp are at an operation of
//     the same kind; the last lane to arrive computes every lane's result. A lane exiting while others of its warp
//     are (or later get) at such an operation is reported, as are partial warps and masks other than all lanes.
//   * shared memory: registered arrays (common.cuh) filled with NaN garbage (0x7fff7fff) when a block first reaches
//     them; smem_u32 addresses are offsets in a per-block 32-bit window; ldmatrix / cp.async addresses must lie in
//     one array. The dynamic shared memory ends at a guard page (plain overruns fault).
//   * cp.async lands at the issuing thread's cp_async_wait_all. Reported: an ldmatrix read of bytes whose cp.async
//     was not waited for, or that cp.async wrote since the last __syncthreads; a cp.async to bytes another warp read
//     with ldmatrix, or another thread wrote with cp.async, since the last __syncthreads (4-byte granules).
//   * launch limits: block size (also against the kernel's __launch_bounds__), grid size, shared memory in total.
//   * misaligned float2 / float4 / uint2 accesses (common.cuh).
// A global mutex serialises launches (static __shared__ arrays and the built-in variables are process-wide).
#include "emu.h"
#include "common.cuh"
#include "emu_task.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

uint3 threadIdx, blockIdx;
dim3 blockDim, gridDim;
EmuLane* emu_cur_lane;

// ---- context switch --------------------------------------------------------------------------------------------
#if defined(__x86_64__) && !defined(EMU_UCONTEXT)
namespace {
// Inline, without call and ret (a ret into another stack is always mispredicted): save the System V callee-saved
// registers, the stack pointer and the resume address (label 1) in `from`, load those of `to` and jump. The
// caller-saved registers are clobbers, as for a call.
struct Ctx { void* r[9]; };  // rsp, resume address, rbp, rbx, r12, r13, r14, r15, (pad)
#ifdef __AVX512F__  // more caller-saved registers
#define EMU_AVX512_CLOBBERS , "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", \
    "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31", "k1", "k2", "k3", "k4", "k5", "k6", "k7"
#else
#define EMU_AVX512_CLOBBERS
#endif
inline __attribute__((always_inline)) void ctx_switch(Ctx& from, Ctx& to) {
    Ctx* f = &from;
    Ctx* t = &to;
    asm volatile(
        "movq %%rsp, 0(%0)\n\t"
        "leaq 1f(%%rip), %%rax\n\t"
        "movq %%rax, 8(%0)\n\t"
        "movq %%rbp, 16(%0)\n\t"
        "movq %%rbx, 24(%0)\n\t"
        "movq %%r12, 32(%0)\n\t"
        "movq %%r13, 40(%0)\n\t"
        "movq %%r14, 48(%0)\n\t"
        "movq %%r15, 56(%0)\n\t"
        "movq 0(%1), %%rsp\n\t"
        "movq 16(%1), %%rbp\n\t"
        "movq 24(%1), %%rbx\n\t"
        "movq 32(%1), %%r12\n\t"
        "movq 40(%1), %%r13\n\t"
        "movq 48(%1), %%r14\n\t"
        "movq 56(%1), %%r15\n\t"
        "jmpq *8(%1)\n"
        "1: endbr64\n\t"  // a valid indirect-branch target under CET IBT (a no-op otherwise)
        : "+D"(f), "+S"(t)
        :
        : "rax", "rcx", "rdx", "r8", "r9", "r10", "r11", "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4",
          "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "st",
          "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)" EMU_AVX512_CLOBBERS);
}
// A fresh thread starts in `entry` as if called (rsp = 8 mod 16, a null return address: entry never returns).
void ctx_init(Ctx& c, char* stack, size_t size, void (*entry)()) {
    void** sp = (void**)(((uintptr_t)(stack + size)) & ~(uintptr_t)15);
    *--sp = nullptr;
    c = Ctx{};
    c.r[0] = sp;
    c.r[1] = (void*)entry;
}
}  // namespace
#else
#include <ucontext.h>
namespace {
struct Ctx { ucontext_t uc; };
inline void ctx_switch(Ctx& from, Ctx& to) { swapcontext(&from.uc, &to.uc); }
void ctx_init(Ctx& c, char* stack, size_t size, void (*entry)()) {
    getcontext(&c.uc);
    c.uc.uc_stack.ss_sp = stack;
    c.uc.uc_stack.ss_size = size;
    c.uc.uc_link = nullptr;
    makecontext(&c.uc, entry, 0);
}
}  // namespace
#endif

namespace {

// ---- state (guarded by g_mutex) ------------------------------------------------------------------------------
const size_t kStack = 64 << 10, kPage = 4096;
const int kMaxThreads = 1024, kMaxRegions = 16;  // kMaxThreads: a power of 2 (the ready queue)
const unsigned kMaxSmem = 227 << 10;  // sm_90 opt-in maximum per block (static + dynamic)
const u32 kGarbage = 0x7fff7fffu;     // NaN as float, double and bf16; a large int

enum State : uint8_t { NEW, READY, WAIT_WARP, WAIT_BAR, WAIT_GRID, DONE };
const char* const kOpName[] = {"?", "a shuffle", "ldmatrix", "mma"};

struct Shadow { u32 wepoch, repoch; u16 writer, rwarp; bool pending; };  // per 4-byte granule of shared memory
struct Pending { char* dst; Shadow* sh; int bytes; unsigned char data[16]; };
struct Thr {
    Ctx ctx;
    char* stack;
    State st;
    EmuLane lane;
    uint3 idx;
    std::vector<Pending> pend;
};
struct Warp { int lanes, arrived, exited, kind; };  // kind: of the operation the arrived lanes wait at
struct Region { char* p; u32 bytes, base; Shadow* sh; };

std::mutex g_mutex;
Ctx g_main;
const EmuTask* g_task;
int g_n, g_cur = -1;
bool g_failed;
u32 g_epoch = 1;
std::vector<char*> g_freeStacks, g_allStacks;
unsigned g_dynBytes;
std::unordered_map<const void*, std::vector<Shadow>> g_shadows;

// One block's state. Blocks run one after another, through one Blk, unless a block waits at a grid-wide barrier
// (emu_grid_sync): it is then parked with its own Blk (threads, stacks, dynamic shared memory) while the next block
// starts, and all resume once every block of the grid is parked there.
struct Blk {
    std::vector<Thr> thr;
    Warp warp[kMaxThreads / 32];
    int done, exited, barArrived, barOr, barResult, gridArrived, started;
    int queue[kMaxThreads], qhead, qlen;  // threads made ready by a completed barrier or warp-wide operation
    Region reg[kMaxRegions];
    int nreg;
    u32 nextBase, staticBytes;
    char *dynBuf, *dynEnd, *dyn;  // this block's dynamic smem buffer [dynBuf, dynEnd) + guard page; dyn = this launch's
    uint3 idx;
    dim3 idxDim;  // the blockDim thr[i].idx were computed for (recomputed only when it changes)
};
std::vector<Blk*> g_freeBlks;  // reusable block states (never freed)
Blk* g_b;                      // the running block's
#define g_thr (g_b->thr)
#define g_warp (g_b->warp)
#define g_done (g_b->done)
#define g_exited (g_b->exited)
#define g_barArrived (g_b->barArrived)
#define g_barOr (g_b->barOr)
#define g_barResult (g_b->barResult)
#define g_queue (g_b->queue)
#define g_qhead (g_b->qhead)
#define g_qlen (g_b->qlen)
#define g_reg (g_b->reg)
#define g_nreg (g_b->nreg)
#define g_nextBase (g_b->nextBase)
#define g_staticBytes (g_b->staticBytes)
#define g_dyn (g_b->dyn)

void push(int t) { g_queue[(g_qhead + g_qlen++) & (kMaxThreads - 1)] = t; }
void push_front(int t) {
    g_qhead = (g_qhead - 1) & (kMaxThreads - 1);
    g_queue[g_qhead] = t;
    g_qlen++;
}
int pop() {
    if (g_qlen == 0) return -1;
    int t = g_queue[g_qhead];
    g_qhead = (g_qhead + 1) & (kMaxThreads - 1);
    g_qlen--;
    return t;
}

void vreport(const char* fmt, va_list ap) {
    const char* name = g_task != nullptr ? g_task->name : "?";
    fprintf(stderr, "gpu-emu: kernel %s, block (%u,%u,%u)", name, blockIdx.x, blockIdx.y, blockIdx.z);
    if (g_cur >= 0) fprintf(stderr, ", thread (%u,%u,%u)", threadIdx.x, threadIdx.y, threadIdx.z);
    fprintf(stderr, ": ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
}
void report(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vreport(fmt, ap);
    va_end(ap);
}

// ---- coroutines -------------------------------------------------------------------------------------------------
char* stack_get() {
    if (!g_freeStacks.empty()) {
        char* s = g_freeStacks.back();
        g_freeStacks.pop_back();
        return s;
    }
    char* m = (char*)mmap(nullptr, kStack + kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) { perror("gpu-emu: mmap of a thread stack"); abort(); }
    mprotect(m, kPage, PROT_NONE);  // guard page: a stack overflow faults instead of corrupting memory
    g_allStacks.push_back(m + kPage);
    return m + kPage;
}

void switch_to(int from, int to) {  // from a thread to another thread
    g_cur = to;
    threadIdx = g_thr[to].idx;
    emu_cur_lane = &g_thr[to].lane;
    ctx_switch(g_thr[from].ctx, g_thr[to].ctx);
}

// The current thread waits (its state already set): run the next ready thread, or return to the scheduler.
void wait_here() {
    int me = g_cur, next = pop();
    if (next >= 0) {
        switch_to(me, next);
    } else {
        g_cur = -1;
        ctx_switch(g_thr[me].ctx, g_main);
    }
}

void release_barrier() {
    g_barResult = g_barOr;
    g_barOr = g_barArrived = 0;
    g_epoch++;
    for (int i = 0; i < g_n; i++)
        if (g_thr[i].st == WAIT_BAR) {
            g_thr[i].st = READY;
            push(i);
        }
}

void drop_pending(Thr& t) {
    for (const Pending& p : t.pend)
        for (int g = 0; g < p.bytes / 4; g++) p.sh[g].pending = false;
    t.pend.clear();
}

[[noreturn]] void thread_exit() {
    int me = g_cur;
    Thr& t = g_thr[me];
    drop_pending(t);  // copies never waited for cannot be observed (no other thread may wait for them)
    t.st = DONE;
    g_done++;
    g_exited++;
    g_freeStacks.push_back(t.stack);  // safe: only the scheduler starts threads, never on its own stack
    t.stack = nullptr;
    Warp& w = g_warp[me >> 5];
    w.exited++;
    if (w.arrived > 0)
        emu_fail("exited while %d other lane(s) of its warp wait at %s (a warp-wide operation needs all 32 lanes)",
                 w.arrived, kOpName[w.kind]);
    if (g_barArrived > 0 && g_barArrived + g_exited == g_n) release_barrier();
    wait_here();
    __builtin_unreachable();
}

void thread_entry() {
    g_task->run();
    thread_exit();
}

void recycle_stacks() {  // after a failed block: threads never to be resumed give their stacks back
    for (int i = 0; i < g_n; i++) {
        Thr& t = g_thr[i];
        if (t.stack != nullptr) g_freeStacks.push_back(t.stack);
        t.stack = nullptr;
        drop_pending(t);
    }
}

void report_deadlock() {
    int bar = 0, grid = 0;
    for (int i = 0; i < g_n; i++) bar += g_thr[i].st == WAIT_BAR, grid += g_thr[i].st == WAIT_GRID;
    std::string warps;
    for (int w = 0; w * 32 < g_n; w++)
        if (g_warp[w].arrived > 0)
            warps += ", warp " + std::to_string(w) + ": " + std::to_string(g_warp[w].arrived) + " lane(s) at " +
                     kOpName[g_warp[w].kind];
    g_cur = -1;
    report("deadlock: %d thread(s) wait at __syncthreads, %d at a grid-wide barrier%s; %d exited", bar, grid,
           warps.c_str(), g_exited);
}

void add_region(void* p, u32 bytes, const void* key);

// A block state for block `idx`, reset: no thread started yet, its dynamic shared memory (`need` bytes, 16-byte
// multiple) the last bytes before its buffer's guard page (none: the guard page itself, so any access faults).
Blk* start_block(uint3 idx, size_t need) {
    Blk* b;
    if (g_freeBlks.empty()) {
        b = new Blk();
        b->dynBuf = b->dynEnd = nullptr;
        b->idxDim = dim3{0, 0, 0};
    } else {
        b = g_freeBlks.back();
        g_freeBlks.pop_back();
    }
    g_b = b;
    if (b->dynBuf == nullptr || (size_t)(b->dynEnd - b->dynBuf) < need) {
        size_t body = (need + kPage - 1) / kPage * kPage;
        if (body < 64 * kPage) body = 64 * kPage;
        char* m = (char*)mmap(nullptr, body + kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) { perror("gpu-emu: mmap of shared memory"); abort(); }
        mprotect(m + body, kPage, PROT_NONE);
        if (b->dynBuf != nullptr) munmap(b->dynBuf, (size_t)(b->dynEnd - b->dynBuf) + kPage);
        b->dynBuf = m;
        b->dynEnd = m + body;
    }
    b->dyn = b->dynEnd - need;
    b->idx = idx;
    if ((int)b->thr.size() < g_n) {
        b->thr.resize(g_n);
        b->idxDim = dim3{0, 0, 0};
    }
    if (b->idxDim.x != blockDim.x || b->idxDim.y != blockDim.y || b->idxDim.z != blockDim.z) {
        for (int i = 0; i < g_n; i++)
            g_thr[i].idx = uint3{i % blockDim.x, i / blockDim.x % blockDim.y, i / (blockDim.x * blockDim.y)};
        b->idxDim = blockDim;
    }
    g_done = g_exited = g_barArrived = g_barOr = b->gridArrived = b->started = 0;
    g_qhead = g_qlen = 0;
    g_epoch++;
    for (int w = 0; w * 32 < g_n; w++) g_warp[w] = Warp{g_n - w * 32 < 32 ? g_n - w * 32 : 32, 0, 0, 0};
    for (int i = 0; i < g_n; i++) g_thr[i].st = NEW;
    g_nreg = 0;
    g_nextBase = g_staticBytes = 0;
    if (g_dynBytes > 0) add_region(g_dyn, g_dynBytes, b->dynEnd);
    return b;
}

enum Step { STEP_DONE, STEP_PARKED, STEP_FAILED };

// Runs block g_b (blockIdx already set) until all its threads exited, or all wait at a grid-wide barrier (parked).
Step step_block(bool reverse) {
    while (g_done < g_n) {
        int t = pop();
        if (t < 0) {
            if (g_b->started == g_n) {
                if (g_b->gridArrived > 0 && g_b->gridArrived + g_exited == g_n) return STEP_PARKED;
                report_deadlock();
                return STEP_FAILED;
            }
            t = reverse ? g_n - 1 - g_b->started : g_b->started;
            g_b->started++;
            Thr& th = g_thr[t];
            th.stack = stack_get();
            th.st = READY;
            ctx_init(th.ctx, th.stack, kStack, thread_entry);
        }
        g_cur = t;
        threadIdx = g_thr[t].idx;
        emu_cur_lane = &g_thr[t].lane;
        ctx_switch(g_main, g_thr[t].ctx);
        if (g_failed) return STEP_FAILED;
    }
    return STEP_DONE;
}

// The block state goes back to the pool; unless it finished (every thread exited, its stack already returned), its
// threads, never to be resumed, give their stacks back.
void end_block(Blk* b, bool finished) {
    g_b = b;
    if (!finished) recycle_stacks();
    g_freeBlks.push_back(b);
}

// Releases the grid-wide barrier in every parked block (a barrier: shared-memory epochs move on).
void release_grid(std::vector<Blk*>& parked) {
    g_epoch++;
    for (Blk* b : parked) {
        g_b = b;
        b->gridArrived = 0;
        for (int i = 0; i < g_n; i++)
            if (g_thr[i].st == WAIT_GRID) {
                g_thr[i].st = READY;
                push(i);
            }
    }
}

// Runs every block of the grid; false after a reported failure.
bool run_grid(unsigned gx, unsigned gy, unsigned gz, size_t need, bool reverse) {
    std::vector<Blk*> parked, next;
    unsigned finished = 0;
    bool ok = true;
    u64 blocks = (u64)gx * gy * gz;
    for (u64 i = 0; i < blocks && ok; i++) {  // reverse: the last block first (also for the blocks' threads)
        u64 j = reverse ? blocks - 1 - i : i;
        blockIdx = uint3{(unsigned)(j % gx), (unsigned)(j / gx % gy), (unsigned)(j / ((u64)gx * gy))};
        Blk* b = start_block(blockIdx, need);
        Step r = step_block(reverse);
        if (r == STEP_PARKED) parked.push_back(b);
        else end_block(b, r == STEP_DONE);
        finished += r == STEP_DONE;
        ok = r != STEP_FAILED;
    }
    while (ok && !parked.empty()) {
        if (finished > 0) {
            g_cur = -1;
            report("deadlock: %zu block(s) wait at a grid-wide barrier that %u finished block(s) never reach",
                   parked.size(), finished);
            ok = false;
            break;
        }
        release_grid(parked);
        next.clear();
        for (size_t i = 0; i < parked.size(); i++) {
            Blk* b = parked[i];
            g_b = b;
            blockIdx = b->idx;
            Step r = ok ? step_block(reverse) : STEP_FAILED;
            if (r == STEP_PARKED) next.push_back(b);
            else end_block(b, r == STEP_DONE);
            finished += r == STEP_DONE;
            ok = ok && r != STEP_FAILED;
        }
        parked.swap(next);
    }
    for (Blk* b : parked) end_block(b, false);
    g_cur = -1;
    return ok;
}

// ---- shared memory ----------------------------------------------------------------------------------------------
// A shared array for this block (its shadow state found by `key`: its address, or the end of the dynamic buffer).
void add_region(void* p, u32 bytes, const void* key) {
    if (g_nreg == kMaxRegions) emu_fail("more than %d shared arrays", kMaxRegions);
    std::vector<Shadow>& sh = g_shadows[key];
    if (sh.size() < (bytes + 3) / 4) sh.resize((bytes + 3) / 4, Shadow{0, 0, 0, 0, false});
    g_nextBase = (g_nextBase + 15) & ~15u;
    g_reg[g_nreg++] = Region{(char*)p, bytes, g_nextBase, sh.data()};
    g_nextBase += bytes;
    u32 n = bytes / 4;
    for (u32 i = 0; i < n; i++) memcpy((char*)p + 4 * i, &kGarbage, 4);  // uninitialised, as on a GPU
    memset((char*)p + 4 * n, 0xff, bytes - 4 * n);
}

// The array holding shared bytes [addr, addr + bytes), and the pointer to addr; reported when none does.
char* smem_ptr(u32 addr, int bytes, const char* what, Region** reg) {
    for (int i = 0; i < g_nreg; i++) {
        Region& r = g_reg[i];
        if (addr >= r.base && (u64)addr + bytes <= (u64)r.base + r.bytes) {
            *reg = &r;
            return r.p + (addr - r.base);
        }
    }
    std::string arrays;
    for (int i = 0; i < g_nreg; i++) {
        char s[64];
        snprintf(s, sizeof s, " [0x%x, 0x%x)", g_reg[i].base, g_reg[i].base + g_reg[i].bytes);
        arrays += s;
    }
    emu_fail("%s: shared address 0x%x (+%d bytes) is not inside one shared array (arrays:%s)", what, addr, bytes,
             arrays.empty() ? " none" : arrays.c_str());
}

// ---- warp-wide operations ---------------------------------------------------------------------------------------
float bf16_half(u32 w, int hi) { return __uint_as_float(hi ? (w & 0xffff0000u) : (w << 16)); }

// shfl.sync per the PTX ISA pseudo-code: lane j = f(mode, b, c); out of the segment -> the lane's own value.
void do_shfl(Thr* L) {
    for (int lane = 0; lane < 32; lane++) {
        const u32* in = L[lane].lane.in;
        if (in[2] != L[0].lane.in[2]) emu_fail("lanes shuffle values of different sizes (%u vs %u bytes)", 4 * in[2],
                                               4 * L[0].lane.in[2]);
        int mode = (int)in[3], b = (int)(in[4] & 31), seg = (int)((in[5] >> 8) & 31), cval = (int)(in[5] & 31);
        int maxLane = (lane & seg) | (cval & ~seg), minLane = lane & seg, j = lane;
        bool ok = false;
        switch (mode) {
            case 0: j = lane - b; ok = j >= maxLane; break;
            case 1: j = lane + b; ok = j <= maxLane; break;
            case 2: j = lane ^ b; ok = j <= maxLane; break;
            default: j = minLane | (b & ~seg); ok = j <= maxLane; break;
        }
        if (!ok) j = lane;
        L[lane].lane.out[0] = L[j].lane.in[0];
        L[lane].lane.out[1] = L[j].lane.in[1];
    }
}

// ldmatrix.sync.aligned.m8n8.x4(.trans).shared.b16 (PTX ISA "ldmatrix"): lanes 8i..8i+7 give the 16-byte-aligned
// addresses of rows 0..7 of matrix i; lane L receives in r[i] the elements (row L/4, columns 2(L%4), 2(L%4)+1) of
// matrix i, or with .trans those of its transpose, i.e. stored (rows 2(L%4), 2(L%4)+1; column L/4); the element
// with the smaller index in the low 16 bits.
void do_ldmatrix(Thr* L, int warp) {
    const u16* row[32];
    for (int lane = 0; lane < 32; lane++) {
        u32 addr = L[lane].lane.in[0];
        if (L[lane].lane.in[1] != L[0].lane.in[1]) emu_fail("lanes of warp %d mix ldmatrix and ldmatrix.trans", warp);
        if (addr % 16) emu_fail("ldmatrix: lane %d's row address 0x%x is not 16-byte aligned", lane, addr);
        Region* r;
        row[lane] = (const u16*)smem_ptr(addr, 16, "ldmatrix", &r);
        Shadow* s = r->sh + (addr - r->base) / 4;
        for (int g = 0; g < 4; g++) {
            if (s[g].pending)
                emu_fail("ldmatrix (lane %d) reads shared 0x%x, the target of a cp.async of thread %u not waited for",
                         lane, addr + 4 * g, s[g].writer);
            if (s[g].wepoch == g_epoch)
                emu_fail("ldmatrix (lane %d) reads shared 0x%x, written by cp.async of thread %u since the last "
                         "__syncthreads (read-after-write race)", lane, addr + 4 * g, s[g].writer);
            s[g].rwarp = s[g].repoch == g_epoch && s[g].rwarp != warp ? 0xffff : (u16)warp;  // 0xffff: several
            s[g].repoch = g_epoch;
        }
    }
    bool trans = L[0].lane.in[1] != 0;
    for (int lane = 0; lane < 32; lane++) {
        int g = lane >> 2, q = lane & 3;
        for (int i = 0; i < 4; i++) {
            u32 lo, hi;
            if (!trans) {
                lo = row[8 * i + g][2 * q];
                hi = row[8 * i + g][2 * q + 1];
            } else {
                lo = row[8 * i + 2 * q][g];
                hi = row[8 * i + 2 * q + 1][g];
            }
            L[lane].lane.out[i] = lo | (hi << 16);
        }
    }
}

// mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 (PTX ISA "Matrix Fragments for mma.m16n8k16 with floating
// point type"), g = lane / 4, q = lane % 4, low half of a register = smaller column (k) index:
//   A 16x16: a0 = (g, 2q..2q+1), a1 = (g+8, 2q..), a2 = (g, 2q+8..), a3 = (g+8, 2q+8..)
//   B 16x8:  b0 = (k 2q..2q+1, n g), b1 = (k 2q+8.., n g)
//   C, D 16x8 fp32: c0, c1 = (g, 2q..2q+1), c2, c3 = (g+8, 2q..2q+1)
// D = A B + C with the exact bf16 products summed in double (k in order) and rounded once to fp32 (hardware sums
// in fp32 in an unspecified order: expect last-bit differences). A row of D is 4 vectors of 2 doubles (SSE2).
typedef double v2d __attribute__((vector_size(16)));
void do_mma(Thr* L) {
    double A[16][16];
    v2d B[16][4], D[16][4];
    float C[16][8];
    for (int lane = 0; lane < 32; lane++) {
        const u32* in = L[lane].lane.in;
        int g = lane >> 2, q = lane & 3;
        for (int j = 0; j < 2; j++) {
            A[g][2 * q + j] = bf16_half(in[0], j);
            A[g + 8][2 * q + j] = bf16_half(in[1], j);
            A[g][2 * q + 8 + j] = bf16_half(in[2], j);
            A[g + 8][2 * q + 8 + j] = bf16_half(in[3], j);
            B[2 * q + j][g >> 1][g & 1] = bf16_half(in[4], j);
            B[2 * q + 8 + j][g >> 1][g & 1] = bf16_half(in[5], j);
            C[g][2 * q + j] = __uint_as_float(in[6 + j]);
            C[g + 8][2 * q + j] = __uint_as_float(in[8 + j]);
        }
    }
    for (int r = 0; r < 16; r++) {
        v2d d0 = {0, 0}, d1 = d0, d2 = d0, d3 = d0;
        for (int k = 0; k < 16; k++) {
            v2d a = {A[r][k], A[r][k]};
            d0 += a * B[k][0];
            d1 += a * B[k][1];
            d2 += a * B[k][2];
            d3 += a * B[k][3];
        }
        D[r][0] = d0, D[r][1] = d1, D[r][2] = d2, D[r][3] = d3;
    }
    for (int lane = 0; lane < 32; lane++) {
        int g = lane >> 2, q = lane & 3;
        for (int e = 0; e < 4; e++) {
            int r = g + (e >> 1) * 8, c = 2 * q + (e & 1);
            L[lane].lane.out[e] = __float_as_uint((float)(D[r][c >> 1][c & 1] + (double)C[r][c]));
        }
    }
}

// ---- kernel registry ----------------------------------------------------------------------------------------------
struct Entry { EmuBinder bind; int smem, maxThreads; };
std::unordered_map<std::string, Entry>& registry() {
    static std::unordered_map<std::string, Entry> r;  // filled by the static initialisers of the bind objects
    return r;
}

}  // namespace

// ==== the interface of common.cuh ==============================================================================

void emu_fail(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vreport(fmt, ap);
    va_end(ap);
    if (g_cur < 0) abort();  // not inside a kernel thread: nothing to unwind to
    g_failed = true;
    int me = g_cur;
    g_cur = -1;
    ctx_switch(g_thr[me].ctx, g_main);  // the block is abandoned; this thread is never resumed
    __builtin_unreachable();
}

void emu_warp_op(int kind, u32 mask) {
    int me = g_cur, w = me >> 5;
    Warp& W = g_warp[w];
    if (mask != HRM_FULL_MASK) emu_fail("%s with mask 0x%08x: only all-lane masks are emulated", kOpName[kind], mask);
    if (W.lanes != 32) emu_fail("%s in a partial warp of %d lanes (blockDim not a multiple of 32)", kOpName[kind],
                                W.lanes);
    if (W.exited > 0) emu_fail("%s while %d lane(s) of the warp have exited", kOpName[kind], W.exited);
    if (W.arrived == 0) W.kind = kind;
    else if (W.kind != kind)
        emu_fail("lanes of warp %d meet at different operations: %s here, %s in %d other lane(s)", w, kOpName[kind],
                 kOpName[W.kind], W.arrived);
    if (++W.arrived < 32) {
        g_thr[me].st = WAIT_WARP;
        wait_here();
        return;  // completed by the last lane: the result is in emu_lane()->out
    }
    W.arrived = 0;
    Thr* L = &g_thr[w * 32];
    if (kind == EMU_OP_SHFL) do_shfl(L);
    else if (kind == EMU_OP_LDMATRIX) do_ldmatrix(L, w);
    else do_mma(L);
    for (int lane = 31; lane >= 0; lane--)  // the warp runs on ahead of the others (see the top of the file)
        if (w * 32 + lane != me) {
            L[lane].st = READY;
            push_front(w * 32 + lane);
        }
}

int emu_syncthreads(int pred) {
    g_barOr |= pred;
    if (++g_barArrived + g_exited < g_n) {
        g_thr[g_cur].st = WAIT_BAR;
        wait_here();
    } else {
        release_barrier();
    }
    return g_barResult;  // read before this thread can reach the next barrier
}

void emu_grid_sync() {
    if (g_staticBytes > 0)
        emu_fail("a grid-wide barrier in a kernel with static __shared__ arrays (not emulated: the blocks of such a "
                 "kernel run interleaved, and static arrays are one per process; use dynamic shared memory)");
    g_b->gridArrived++;
    g_thr[g_cur].st = WAIT_GRID;
    wait_here();
}

void emu_shared_static(const void* p, unsigned bytes) {
    for (int i = 0; i < g_nreg; i++)
        if (g_reg[i].p == p) return;
    g_staticBytes += bytes;
    if ((int)g_staticBytes > g_task->staticSmem)
        emu_fail("static shared arrays of %u bytes, more than the %d bytes build.sh found (internal error)",
                 g_staticBytes, g_task->staticSmem);
    add_region(const_cast<void*>(p), bytes, p);
}

void* emu_dynamic_smem() { return g_dyn; }

u32 emu_smem_addr(const void* p) {
    const char* c = (const char*)p;
    for (int i = 0; i < g_nreg; i++)
        if (c >= g_reg[i].p && c <= g_reg[i].p + g_reg[i].bytes) return g_reg[i].base + (u32)(c - g_reg[i].p);
    emu_fail("smem_u32(%p): not a pointer into a shared array", p);
}

void emu_cp_async(u32 dst, const void* src, int bytes, bool valid) {
    if (dst % bytes || (uintptr_t)src % bytes)
        emu_fail("cp.async of %d bytes: shared 0x%x or global %p not %d-byte aligned", bytes, dst, src, bytes);
    Region* r;
    char* d = smem_ptr(dst, bytes, "cp.async", &r);
    int me = g_cur;
    Shadow* s = r->sh + (dst - r->base) / 4;
    for (int g = 0; g < bytes / 4; g++) {
        if (s[g].repoch == g_epoch && s[g].rwarp != me / 32)
            emu_fail("cp.async to shared 0x%x, read by ldmatrix of another warp (%d; -1: several) since the last "
                     "__syncthreads (write-after-read race)", dst + 4 * g, s[g].rwarp == 0xffff ? -1 : s[g].rwarp);
        if (s[g].wepoch == g_epoch && s[g].writer != me)
            emu_fail("cp.async to shared 0x%x, also written by cp.async of thread %u since the last __syncthreads",
                     dst + 4 * g, s[g].writer);
        s[g].wepoch = g_epoch;
        s[g].writer = (u16)me;
        s[g].pending = true;
    }
    Pending p;
    p.dst = d;
    p.sh = s;
    p.bytes = bytes;
    if (valid) memcpy(p.data, src, bytes);  // src-size 0 (!valid): zero fill, the source is not read
    else memset(p.data, 0, bytes);
    g_thr[me].pend.push_back(p);
}

void emu_cp_async_wait_all() {
    std::vector<Pending>& pend = g_thr[g_cur].pend;
    for (const Pending& p : pend) {
        memcpy(p.dst, p.data, p.bytes);
        for (int g = 0; g < p.bytes / 4; g++) p.sh[g].pending = false;
    }
    pend.clear();
}

bool emu_register_kernel(const char* name, EmuBinder bind, int staticSmem, int maxThreads) {
    if (!registry().emplace(name, Entry{bind, staticSmem, maxThreads}).second)
        fprintf(stderr, "gpu-emu: kernel %s is defined in two kernel files; the emulator runs the first\n", name);
    return true;
}

// Deepest use of any coroutine stack so far, in bytes (for tests: stacks are 64 KiB).
__attribute__((visibility("hidden"))) size_t emu_stack_high_water() {
    std::lock_guard<std::mutex> lock(g_mutex);
    size_t most = 0;
    for (char* s : g_allStacks) {
        size_t i = 0;
        while (i < kStack && s[i] == 0) i++;
        if (kStack - i > most) most = kStack - i;
    }
    return most;
}

// ==== emu.h ====================================================================================================

EmuTask* emu_kernel_bind(const char* name, void** args) {
    auto it = registry().find(name);
    if (it == registry().end()) return nullptr;
    EmuTask* t = it->second.bind(args);
    if (t == nullptr) {
        fprintf(stderr, "gpu-emu: kernel %s: null kernelParams for a kernel with parameters\n", name);
        return nullptr;
    }
    t->name = it->first.c_str();
    t->staticSmem = it->second.smem;
    t->maxThreads = it->second.maxThreads;
    return t;
}

void emu_kernel_free(EmuTask* task) { delete task; }

int emu_kernel_exists(const char* name) { return registry().count(name) ? 1 : 0; }

int emu_kernel_static_smem(const char* name) {
    auto it = registry().find(name);
    return it == registry().end() ? 0 : it->second.smem;
}

int emu_kernel_max_threads(const char* name) {
    auto it = registry().find(name);
    return it == registry().end() ? 0 : it->second.maxThreads;
}

int emu_kernel_run(const EmuTask* task, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                   unsigned smem) {
    std::lock_guard<std::mutex> lock(g_mutex);
    static const bool reverse = getenv("EMU_REVERSE") != nullptr && getenv("EMU_REVERSE")[0] == '1';
    if (task == nullptr) {
        fprintf(stderr, "gpu-emu: emu_kernel_run without a kernel\n");
        return 1;
    }
    g_task = task;
    g_cur = -1;
    g_failed = false;
    blockIdx = uint3{0, 0, 0};
    u64 threads = (u64)bx * by * bz;
    if (gx == 0 || gy == 0 || gz == 0 || gx > 0x7fffffffu || gy > 65535 || gz > 65535 || bx == 0 || by == 0 ||
        bz == 0 || bx > 1024 || by > 1024 || bz > 64 || threads > (u64)kMaxThreads) {
        report("bad launch: grid (%u,%u,%u), block (%u,%u,%u)", gx, gy, gz, bx, by, bz);
        return 1;
    }
    if ((int)threads > task->maxThreads) {
        report("bad launch: block of %d threads, above the kernel's __launch_bounds__ (%d)", (int)threads,
               task->maxThreads);
        return 1;
    }
    if ((u64)smem + (u64)task->staticSmem > kMaxSmem) {
        report("bad launch: %u bytes of dynamic + %d of static shared memory, above %u", smem, task->staticSmem,
               kMaxSmem);
        return 1;
    }
    gridDim = dim3{gx, gy, gz};
    blockDim = dim3{bx, by, bz};
    g_n = (int)threads;
    g_dynBytes = smem;
    if (!run_grid(gx, gy, gz, ((size_t)smem + 15) & ~(size_t)15, reverse)) return 1;
    g_cur = -1;
    return 0;
}
