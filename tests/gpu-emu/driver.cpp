// driver.cpp — a fake CUDA driver on the CPU (tests only): the entry points src/Hrm.Runtime binds
// (Backends/Cuda/Interop/CuDriver*.cs), with the real signatures and the behaviour our runtime relies on.
//
// * One device (EMU_DEVICES: more, alike), "sm_90" (EMU_SM: another architecture), 16 GiB. Device pointers are host
//   pointers. Every allocation is mmap'ed with its end against a PROT_NONE guard page (a read or write past the end
//   faults at once) and starts filled with 0xFF bytes (float NaN, int -1), so reading memory nobody wrote shows up
//   as NaN.
// * Modules: the image (a CUBIN from the real NVRTC) is not run; cuModuleGetFunction finds the kernel of the same
//   name compiled for the CPU (emu_kernel_exists), cuLaunchKernel runs it with the emulator (emu.h).
// * Streams run their work at once, in call order (one global lock; the runtime uses one stream per backend). While
//   a stream is captured, work on it is recorded instead (emu_enqueue); a graph replays the recorded ops in order.
//   As on a GPU, a capture refuses synchronising, allocating and synchronous copies (CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED)
//   and ends invalidated (CUDA_ERROR_STREAM_CAPTURE_INVALIDATED). An event recorded in a capture is a graph node only
//   with CU_EVENT_RECORD_EXTERNAL; a plain record there leaves an event that cannot be waited for or timed.
// * A kernel the emulator reports as failed leaves the sticky CUDA_ERROR_LAUNCH_FAILED, returned by every later
//   synchronising call, as on a GPU.
#include "emu.h"
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>
#include <sys/mman.h>
#include <unistd.h>

#define EXPORT extern "C" __attribute__((visibility("default")))

typedef int CUresult;
typedef unsigned long long CUdeviceptr;

enum : int {
    CUDA_SUCCESS = 0,
    CUDA_ERROR_INVALID_VALUE = 1,
    CUDA_ERROR_OUT_OF_MEMORY = 2,
    CUDA_ERROR_INVALID_DEVICE = 101,
    CUDA_ERROR_INVALID_IMAGE = 200,
    CUDA_ERROR_INVALID_HANDLE = 400,
    CUDA_ERROR_NOT_FOUND = 500,
    CUDA_ERROR_LAUNCH_FAILED = 719,
    CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE = 720,
    CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED = 900,
    CUDA_ERROR_STREAM_CAPTURE_INVALIDATED = 901,
    CUDA_ERROR_CAPTURED_EVENT = 907,
    CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD = 908,
};

namespace {

// One queued piece of work: run() calls fn(ctx); the destructor releases ctx.
struct Op {
    void (*fn)(void*);
    void* ctx;
    void (*release)(void*);
    Op(void (*f)(void*), void* c, void (*r)(void*)) : fn(f), ctx(c), release(r) {}
    ~Op() { if (release) release(ctx); }
    Op(const Op&) = delete;
    Op& operator=(const Op&) = delete;
};
typedef std::vector<std::shared_ptr<Op>> OpList;

struct Graph { OpList ops; };
struct GraphExec { OpList ops; };
struct Stream { Graph* capture = nullptr; bool invalidated = false; };
// captured: last recorded by a plain cuEventRecord in a capture (a point for cross-stream waits, no graph node),
// which the real driver refuses to wait for or time (here CUDA_ERROR_CAPTURED_EVENT; a GPU may say INVALID_VALUE).
struct Event { std::chrono::steady_clock::time_point at{}; bool recorded = false; bool captured = false; };
struct Module { int unused = 0; };
struct Function { std::string name; int maxDynamicSmem = 0; };
struct Allocation { void* base; size_t length; size_t bytes; };

std::recursive_mutex g_lock;
std::map<uintptr_t, Allocation> g_allocations;    // by device pointer
size_t g_allocated = 0;
CUresult g_sticky = CUDA_SUCCESS;
int g_capturing = 0;                               // streams being captured now
std::vector<Stream*> g_streams;
Stream g_default;                                  // the legacy default stream (handle 0)

const size_t kTotalMemory = 16ull << 30;
const int kStaticSmemLimit = 48 * 1024;

// The device's architecture: an H200's (sm_90) unless EMU_SM names another (70, 75, 80, 86, 87, 89), for tests of
// how the runtime treats other GPUs; each with its shared memory per block (opt-in) and per SM.
struct Arch { int sm, optinSmem, smemPerSm; };
const Arch& DeviceArch()
{
    static const Arch arch = [] {
        const Arch known[] = {{70, 96 * 1024, 96 * 1024}, {75, 64 * 1024, 64 * 1024}, {80, 163 * 1024, 164 * 1024},
                              {86, 99 * 1024, 100 * 1024}, {87, 163 * 1024, 164 * 1024}, {89, 99 * 1024, 100 * 1024},
                              {90, 227 * 1024, 228 * 1024}};
        const char* v = getenv("EMU_SM");
        int sm = v && *v ? atoi(v) : 90;
        for (const Arch& a : known)
            if (a.sm == sm) return a;
        fprintf(stderr, "gpu-emu: EMU_SM=%s is not one of 70, 75, 80, 86, 87, 89, 90\n", v);
        abort();
    }();
    return arch;
}
int g_ctx_token = 0;                               // the primary context's handle is its address

Stream* AsStream(void* s) { return s ? static_cast<Stream*>(s) : &g_default; }

// The refusals of a capture: the call fails and every capture in progress ends invalidated.
CUresult RefuseInCapture()
{
    for (Stream* s : g_streams)
        if (s->capture) s->invalidated = true;
    return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
}

void RunNow(Op& op) { op.fn(op.ctx); }

void Enqueue(Stream* s, std::shared_ptr<Op> op)
{
    if (s->capture) {
        s->capture->ops.push_back(std::move(op));
        return;
    }
    RunNow(*op);
}

// A copy (or set) described by value, for emu_enqueue.
struct Copy { void* dst; const void* src; size_t bytes; };
void DoCopy(void* c) { Copy* p = static_cast<Copy*>(c); memmove(p->dst, p->src, p->bytes); }
void FreeCopy(void* c) { delete static_cast<Copy*>(c); }
struct Set32 { uint32_t* dst; uint32_t value; size_t count; };
void DoSet32(void* c) { Set32* p = static_cast<Set32*>(c); for (size_t i = 0; i < p->count; i++) p->dst[i] = p->value; }
void FreeSet32(void* c) { delete static_cast<Set32*>(c); }
struct Set16 { uint16_t* dst; uint16_t value; size_t count; };
void DoSet16(void* c) { Set16* p = static_cast<Set16*>(c); for (size_t i = 0; i < p->count; i++) p->dst[i] = p->value; }
void FreeSet16(void* c) { delete static_cast<Set16*>(c); }
struct Launch { EmuTask* task; std::string name; unsigned g[3], b[3], smem; };
void DoLaunch(void* c)
{
    Launch* l = static_cast<Launch*>(c);
    if (emu_kernel_run(l->task, l->g[0], l->g[1], l->g[2], l->b[0], l->b[1], l->b[2], l->smem) != 0) {
        fprintf(stderr, "gpu-emu: kernel %s failed (grid %u,%u,%u block %u,%u,%u smem %u)\n", l->name.c_str(),
                l->g[0], l->g[1], l->g[2], l->b[0], l->b[1], l->b[2], l->smem);
        if (g_sticky == CUDA_SUCCESS) g_sticky = CUDA_ERROR_LAUNCH_FAILED;
    }
}
void FreeLaunch(void* c) { Launch* l = static_cast<Launch*>(c); emu_kernel_free(l->task); delete l; }
void DoRecordEvent(void* c)
{
    Event* e = static_cast<Event*>(c);
    e->at = std::chrono::steady_clock::now();
    e->recorded = true;
    e->captured = false;
}


}  // namespace

// ---- the seam for the fake cuBLAS
EXPORT void emu_enqueue(void* stream, void (*fn)(void*), void* ctx, void (*release)(void*))
{
    std::lock_guard<std::recursive_mutex> lock(g_lock);
    Enqueue(AsStream(stream), std::make_shared<Op>(fn, ctx, release));
}

// ---- initialisation, device, context
// EMU_DEVICES=N (1 to 8, default 1): N devices, all alike and all one (one context, one memory), for tests of how the
// runtime picks a GPU other than the first.
namespace {
int DeviceCount()
{
    static const int count = [] {
        const char* v = getenv("EMU_DEVICES");
        int n = v && *v ? atoi(v) : 1;
        if (n >= 1 && n <= 8) return n;
        fprintf(stderr, "gpu-emu: EMU_DEVICES=%s is not a number from 1 to 8\n", v);
        abort();
    }();
    return count;
}
bool BadDevice(int device) { return device < 0 || device >= DeviceCount(); }
}
EXPORT CUresult cuInit(unsigned flags) { return flags == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE; }
EXPORT CUresult cuDriverGetVersion(int* version) { if (!version) return CUDA_ERROR_INVALID_VALUE; *version = 13000; return CUDA_SUCCESS; }
EXPORT CUresult cuDeviceGetCount(int* count)
{
    if (!count) return CUDA_ERROR_INVALID_VALUE;
    *count = DeviceCount();
    return CUDA_SUCCESS;
}
EXPORT CUresult cuDeviceGet(int* device, int ordinal)
{
    if (!device) return CUDA_ERROR_INVALID_VALUE;
    if (BadDevice(ordinal)) return CUDA_ERROR_INVALID_DEVICE;
    *device = ordinal;
    return CUDA_SUCCESS;
}
EXPORT CUresult cuDeviceGetName(char* name, int length, int device)
{
    if (BadDevice(device)) return CUDA_ERROR_INVALID_DEVICE;
    if (!name || length <= 0) return CUDA_ERROR_INVALID_VALUE;
    snprintf(name, (size_t)length, "%s", "HRM CPU emulator (tests/gpu-emu)");
    return CUDA_SUCCESS;
}
EXPORT CUresult cuDeviceGetAttribute(int* value, int attribute, int device)
{
    if (BadDevice(device)) return CUDA_ERROR_INVALID_DEVICE;
    if (!value) return CUDA_ERROR_INVALID_VALUE;
    switch (attribute) {
        case 1: *value = 1024; break;                  // MAX_THREADS_PER_BLOCK
        case 8: *value = kStaticSmemLimit; break;      // MAX_SHARED_MEMORY_PER_BLOCK
        case 10: *value = 32; break;                   // WARP_SIZE
        case 16: *value = 132; break;                  // MULTIPROCESSOR_COUNT (an H100/H200's)
        case 38: *value = 50 << 20; break;             // L2_CACHE_SIZE
        case 75: *value = DeviceArch().sm / 10; break; // COMPUTE_CAPABILITY_MAJOR
        case 76: *value = DeviceArch().sm % 10; break; // COMPUTE_CAPABILITY_MINOR
        case 81: *value = DeviceArch().smemPerSm; break; // MAX_SHARED_MEMORY_PER_MULTIPROCESSOR
        case 82: *value = 65536; break;                // MAX_REGISTERS_PER_MULTIPROCESSOR
        case 95: *value = 1; break;                    // COOPERATIVE_LAUNCH
        case 97: *value = DeviceArch().optinSmem; break; // MAX_SHARED_MEMORY_PER_BLOCK_OPTIN
        default: return CUDA_ERROR_INVALID_VALUE;
    }
    return CUDA_SUCCESS;
}
EXPORT CUresult cuDeviceTotalMem_v2(size_t* bytes, int device)
{
    if (BadDevice(device)) return CUDA_ERROR_INVALID_DEVICE;
    if (!bytes) return CUDA_ERROR_INVALID_VALUE;
    *bytes = kTotalMemory;
    return CUDA_SUCCESS;
}
EXPORT CUresult cuDevicePrimaryCtxRetain(void** context, int device)
{
    if (BadDevice(device)) return CUDA_ERROR_INVALID_DEVICE;
    if (!context) return CUDA_ERROR_INVALID_VALUE;
    *context = &g_ctx_token;
    return CUDA_SUCCESS;
}
EXPORT CUresult cuDevicePrimaryCtxRelease_v2(int device)
{
    return BadDevice(device) ? CUDA_ERROR_INVALID_DEVICE : CUDA_SUCCESS;
}
EXPORT CUresult cuCtxSetCurrent(void* context) { return context == nullptr || context == &g_ctx_token ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE; }
EXPORT CUresult cuCtxSynchronize()
{
    std::lock_guard<std::recursive_mutex> lock(g_lock);
    if (g_capturing) return RefuseInCapture();
    return g_sticky;
}

// ---- errors
namespace {
struct ErrorText { int code; const char* name; const char* text; };
const ErrorText kErrors[] = {
    {0, "CUDA_SUCCESS", "no error"},
    {1, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {2, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {101, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
    {200, "CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"},
    {400, "CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
    {500, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {719, "CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"},
    {720, "CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE", "too many blocks in cooperative launch"},
    {900, "CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED", "operation not permitted when stream is capturing"},
    {901, "CUDA_ERROR_STREAM_CAPTURE_INVALIDATED", "operation failed due to a previous error during capture"},
    {907, "CUDA_ERROR_CAPTURED_EVENT", "operation not permitted on an event last recorded in a capturing stream"},
    {908, "CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD", "attempt to terminate a thread-local capture sequence from another thread"},
};
const ErrorText* FindError(int code)
{
    for (const ErrorText& e : kErrors)
        if (e.code == code) return &e;
    return nullptr;
}
}  // namespace
EXPORT CUresult cuGetErrorName(int error, const char** name)
{
    const ErrorText* e = FindError(error);
    if (!name) return CUDA_ERROR_INVALID_VALUE;
    *name = e ? e->name : nullptr;
    return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
EXPORT CUresult cuGetErrorString(int error, const char** text)
{
    const ErrorText* e = FindError(error);
    if (!text) return CUDA_ERROR_INVALID_VALUE;
    *text = e ? e->text : nullptr;
    return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

// ---- memory
EXPORT CUresult cuMemGetInfo_v2(size_t* free, size_t* total)
{
    std::lock_guard<std::recursive_mutex> lock(g_lock);
    if (!free || !total) return CUDA_ERROR_INVALID_VALUE;
    *total = kTotalMemory;
    *free = kTotalMemory - g_allocated;
    return CUDA_SUCCESS;
}
EXPORT CUresult cuMemAlloc_v2(CUdeviceptr* ptr, size_t bytes)
{
    std::lock_guard<std::recursive_mutex> lock(g_lock);
    if (!ptr || bytes == 0) return CUDA_ERROR_INVALID_VALUE;
    if (g_capturing) return RefuseInCapture();
    if (bytes > kTotalMemory - g_allocated) return CUDA_ERROR_OUT_OF_MEMORY;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t usable = (bytes + 255) / 256 * 256;                 // 256-byte aligned start, as cuMemAlloc guarantees
    size_t data = (usable + page - 1) / page * page;
    void* base = mmap(nullptr, data + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) return CUDA_ERROR_OUT_OF_MEMORY;
    mprotect(static_cast<char*>(base) + data, page, PROT_NONE);
    // The end of the usable bytes touches the guard; the up to 255 bytes of rounding stay readable.
    char* start = static_cast<char*>(base) + (data - usable);
    memset(start, 0xFF, usable);
    g_allocations[(uintptr_t)start] = Allocation{base, data + page, bytes};
    g_allocated += bytes;
    *ptr = (CUdeviceptr)(uintptr_t)start;
    return CUDA_SUCCESS;
}
EXPORT CUresult cuMemFree_v2(CUdeviceptr ptr)
{
    std::lock_guard<std::recursive_mutex> lock(g_lock);
    if (ptr == 0) return CUDA_SUCCESS;
    if (g_capturing) return RefuseInCapture();
    auto it = g_allocations.find((uintptr_t)ptr);
    if (it == g_allocations.end()) return CUDA_ERROR_INVALID_VALUE;
    munmap(it->second.base, it->second.length);
    g_allocated -= it->second.bytes;
    g_allocations.erase(it);
    return CUDA_SUCCESS;
}
EXPORT CUresult cuMemHostAlloc(void** host, size_t bytes, unsigned flags)
{
    (void)flags;
    if (!host) return CUDA_ERROR_INVALID_VALUE;
    void* p = nullptr;
    if (posix_memalign(&p, 4096, bytes == 0 ? 1 : bytes) != 0) return CUDA_ERROR_OUT_OF_MEMORY;
    *host = p;
    return CUDA_SUCCESS;
}
EXPORT CUresult cuMemFreeHost(void* host) { free(host); return CUDA_SUCCESS; }
EXPORT CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void* src, size_t bytes)
{
    std::lock_guard<std::recursive_mutex> lock(g_lock);
    if (g_capturing) return RefuseInCapture();
    if (g_sticky) return g_sticky;
    memmove((void*)(uintptr_t)dst, src, bytes);
    return CUDA_SUCCESS;
}
EXPORT CUresult cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, size_t bytes)
{
    std::lock_guard<std::recursive_mutex> lock(g_lock);
    if (g_capturing) return RefuseInCapture();
    if (g_sticky) return g_sticky;
    memmove(dst, (const void*)(uintptr_t)src, bytes);
    return CUDA_SUCCESS;
}
static CUresult CopyAsync(void* dst, const void* src, size_t bytes, void* stream)
{
    std::lock_guard<std::recursive_mutex> lock(g_lock);
    if (g_sticky) return g_sticky;
    Enqueue(AsStream(stream), std::make_shared<Op>(DoCopy, new Copy{dst, src, bytes}, FreeCopy));
    return CUDA_SUCCESS;
}
EXPORT CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t bytes, void* stream)
{
    return CopyAsync((void*)(uintptr_t)dst, src, bytes, stream);
}
EXPORT CUresult cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t bytes, void* stream)
{
    return CopyAsync(dst, (const void*)(uintptr_t)src, bytes, stream);
}
EXPORT CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes, void* stream)
{
    return CopyAsync((void*)(uintptr_t)dst, (const void*)(uintptr_t)src, bytes, stream);
}
EXPORT CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned value, size_t count, void* stream)
{
    std::lock_guard<std::recursive_mutex> lock(g_lock);
    if (dst % 4 != 0) return CUDA_ERROR_INVALID_VALUE;
    if (g_sticky) return g_sticky;
    Enqueue(AsStream(stream), std::make_shared<Op>(DoSet32, new Set32{(uint32_t*)(uintptr_t)dst, value, count}, FreeSet32));
    return CUDA_SUCCESS;
}
EXPORT CUresult cuMemsetD16Async(CUdeviceptr dst, unsigned short value, size_t count, void* stream)
{
    std::lock_guard<std::recursive_mutex> lock(g_lock);
    if (dst % 2 != 0) return CUDA_ERROR_INVALID_VALUE;
    if (g_sticky) return g_sticky;
    Enqueue(AsStream(stream), std::make_shared<Op>(DoSet16, new Set16{(uint16_t*)(uintptr_t)dst, value, count}, FreeSet16));
    return CUDA_SUCCESS;
}

// ---- streams and events
EXPORT CUresult cuStreamCreate(void** stream, unsigned flags)
{
    std::lock_guard<std::recursive_mutex> lock(g_lock);
    (void)flags;
    if (!stream) return CUDA_ERROR_INVALID_VALUE;
    Stream* s = new Stream();
    g_streams.push_back(s);
    *stream = s;
    return CUDA_SUCCESS;
}
EXPORT CUresult cuStreamDestroy_v2(void* stream)
{
    std::lock_guard<std::recursive_mutex> lock(g_lock);
    Stream* s = static_cast<Stream*>(stream);
    for (size_t i = 0; i < g_streams.size(); i++) {
        if (g_streams[i] != s) continue;
        g_streams.erase(g_streams.begin() + (long)i);
        if (s->capture) { g_capturing--; delete s->capture; }
        delete s;
        return CUDA_SUCCESS;
    }
    return CUDA_ERROR_INVALID_HANDLE;
}
EXPORT CUresult cuStreamSynchronize(void* stream)
{
    std::lock_guard<std::recursive_mutex> lock(g_lock);
    (void)stream;
    if (g_capturing) return RefuseInCapture();
    return g_sticky;
}
EXPORT CUresult cuEventCreate(void** event, unsigned flags)
{
    (void)flags;
    if (!event) return CUDA_ERROR_INVALID_VALUE;
    *event = new Event();
    return CUDA_SUCCESS;
}
// flags 1 (CU_EVENT_RECORD_EXTERNAL): in a capture, an event record node of the graph (recorded at every replay);
// refused outside a capture. A plain record in a capture adds no node: the event is "captured" (see Event).
EXPORT CUresult cuEventRecordWithFlags(void* event, void* stream, unsigned flags)
{
    std::lock_guard<std::recursive_mutex> lock(g_lock);
    if (!event) return CUDA_ERROR_INVALID_HANDLE;
    if (flags > 1) return CUDA_ERROR_INVALID_VALUE;
    Stream* s = AsStream(stream);
    if (flags == 1 && !s->capture) return CUDA_ERROR_INVALID_VALUE;
    if (flags == 0 && s->capture) {
        Event* e = static_cast<Event*>(event);
        e->recorded = false;
        e->captured = true;
        return CUDA_SUCCESS;
    }
    Enqueue(s, std::make_shared<Op>(DoRecordEvent, event, nullptr));
    return CUDA_SUCCESS;
}
EXPORT CUresult cuEventRecord(void* event, void* stream) { return cuEventRecordWithFlags(event, stream, 0); }
EXPORT CUresult cuEventSynchronize(void* event)
{
    std::lock_guard<std::recursive_mutex> lock(g_lock);
    if (!event) return CUDA_ERROR_INVALID_HANDLE;
    if (g_capturing) return RefuseInCapture();
    if (static_cast<Event*>(event)->captured) return CUDA_ERROR_CAPTURED_EVENT;
    return g_sticky;
}
EXPORT CUresult cuEventElapsedTime(float* ms, void* start, void* end)
{
    if (!ms) return CUDA_ERROR_INVALID_VALUE;
    Event* a = static_cast<Event*>(start);
    Event* b = static_cast<Event*>(end);
    if (!a || !b) return CUDA_ERROR_INVALID_HANDLE;
    if (a->captured || b->captured) return CUDA_ERROR_CAPTURED_EVENT;
    if (!a->recorded || !b->recorded) return CUDA_ERROR_INVALID_HANDLE;
    *ms = std::chrono::duration<float, std::milli>(b->at - a->at).count();
    return CUDA_SUCCESS;
}
EXPORT CUresult cuEventDestroy_v2(void* event) { delete static_cast<Event*>(event); return CUDA_SUCCESS; }

// ---- modules and kernels
EXPORT CUresult cuModuleLoadDataEx(void** module, const void* image, unsigned numOptions, int* options, void** values)
{
    (void)numOptions; (void)options; (void)values;
    if (!module || !image) return CUDA_ERROR_INVALID_VALUE;
    // A CUBIN is an ELF file; PTX is text that starts with a comment or a directive. Anything else is refused,
    // as the real driver refuses it.
    const char* text = static_cast<const char*>(image);
    bool elf = memcmp(text, "\x7f" "ELF", 4) == 0;
    bool ptx = strncmp(text, "//", 2) == 0 || strncmp(text, ".version", 8) == 0;
    if (!elf && !ptx) return CUDA_ERROR_INVALID_IMAGE;
    *module = new Module();
    return CUDA_SUCCESS;
}
EXPORT CUresult cuModuleUnload(void* module) { delete static_cast<Module*>(module); return CUDA_SUCCESS; }
EXPORT CUresult cuModuleGetFunction(void** function, void* module, const char* name)
{
    if (!function || !module || !name) return CUDA_ERROR_INVALID_VALUE;
    if (!emu_kernel_exists(name)) {
        fprintf(stderr, "gpu-emu: no CPU build of kernel %s (only native/kernels/*.cu are compiled in)\n", name);
        return CUDA_ERROR_NOT_FOUND;
    }
    // Functions live as long as the process (the runtime resolves each once).
    *function = new Function{name, 0};
    return CUDA_SUCCESS;
}
EXPORT CUresult cuFuncSetAttribute(void* function, int attribute, int value)
{
    Function* f = static_cast<Function*>(function);
    if (!f) return CUDA_ERROR_INVALID_HANDLE;
    if (attribute == 8) {                              // MAX_DYNAMIC_SHARED_SIZE_BYTES
        if (value < 0 || value + emu_kernel_static_smem(f->name.c_str()) > DeviceArch().optinSmem)
            return CUDA_ERROR_INVALID_VALUE;
        f->maxDynamicSmem = value;
        return CUDA_SUCCESS;
    }
    if (attribute == 9) return CUDA_SUCCESS;           // PREFERRED_SHARED_MEMORY_CARVEOUT: a hint
    return CUDA_ERROR_INVALID_VALUE;
}
EXPORT CUresult cuFuncGetAttribute(int* value, int attribute, void* function)
{
    Function* f = static_cast<Function*>(function);
    if (!f) return CUDA_ERROR_INVALID_HANDLE;
    if (!value) return CUDA_ERROR_INVALID_VALUE;
    int statics = emu_kernel_static_smem(f->name.c_str());
    switch (attribute) {
        case 0: *value = emu_kernel_max_threads(f->name.c_str()); break;  // MAX_THREADS_PER_BLOCK
        case 1: *value = statics; break;               // SHARED_SIZE_BYTES
        case 2: *value = 0; break;                     // CONST_SIZE_BYTES
        case 3: *value = 0; break;                     // LOCAL_SIZE_BYTES
        case 4: *value = 32; break;                    // NUM_REGS (not known here)
        case 5: case 6: *value = 90; break;            // PTX_VERSION, BINARY_VERSION
        case 7: *value = 0; break;                     // CACHE_MODE_CA
        case 8: *value = f->maxDynamicSmem ? f->maxDynamicSmem : kStaticSmemLimit - statics; break;
        case 9: *value = -1; break;                    // PREFERRED_SHARED_MEMORY_CARVEOUT
        default: return CUDA_ERROR_INVALID_VALUE;
    }
    return CUDA_SUCCESS;
}
// Blocks of `function` resident per SM: 1 here (the emulator has no registers to count; a persistent kernel's grid is
// then one block per "SM", 132, unless its host caps it).
EXPORT CUresult cuOccupancyMaxActiveBlocksPerMultiprocessor(int* numBlocks, void* function, int blockSize,
                                                            size_t dynamicSMemSize)
{
    Function* f = static_cast<Function*>(function);
    if (!f) return CUDA_ERROR_INVALID_HANDLE;
    if (!numBlocks || blockSize <= 0 || blockSize > emu_kernel_max_threads(f->name.c_str()))
        return CUDA_ERROR_INVALID_VALUE;
    int statics = emu_kernel_static_smem(f->name.c_str());
    int limit = f->maxDynamicSmem ? f->maxDynamicSmem : kStaticSmemLimit - statics;
    *numBlocks = (long long)dynamicSMemSize > limit ? 0 : 1;
    return CUDA_SUCCESS;
}
EXPORT CUresult cuLaunchKernel(void* function, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                               unsigned bz, unsigned smem, void* stream, void** params, void** extra);
// As the driver: a cooperative grid larger than what is resident at once (here 1 block per SM, 132 SMs; see
// cuOccupancyMaxActiveBlocksPerMultiprocessor) is refused; otherwise a plain launch (the emulator parks blocks at
// grid barriers, so co-residency is not needed here).
EXPORT CUresult cuLaunchCooperativeKernel(void* function, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                                          unsigned by, unsigned bz, unsigned smem, void* stream, void** params)
{
    if ((unsigned long long)gx * gy * gz > 132) return CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE;
    return cuLaunchKernel(function, gx, gy, gz, bx, by, bz, smem, stream, params, nullptr);
}
EXPORT CUresult cuLaunchKernel(void* function, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                               unsigned bz, unsigned smem, void* stream, void** params, void** extra)
{
    std::lock_guard<std::recursive_mutex> lock(g_lock);
    Function* f = static_cast<Function*>(function);
    if (!f) return CUDA_ERROR_INVALID_HANDLE;
    if (extra) return CUDA_ERROR_INVALID_VALUE;        // the runtime always passes kernelParams
    unsigned long long threads = (unsigned long long)bx * by * bz;
    if (gx == 0 || gy == 0 || gz == 0 || threads == 0 || threads > 1024 || bz > 64 || gy > 65535 || gz > 65535)
        return CUDA_ERROR_INVALID_VALUE;
    if (threads > (unsigned long long)emu_kernel_max_threads(f->name.c_str()))
        return CUDA_ERROR_INVALID_VALUE;               // above the kernel's __launch_bounds__, as on a GPU
    int statics = emu_kernel_static_smem(f->name.c_str());
    int limit = f->maxDynamicSmem ? f->maxDynamicSmem : kStaticSmemLimit - statics;
    if ((long long)smem > limit) return CUDA_ERROR_INVALID_VALUE;
    if (g_sticky) return g_sticky;
    EmuTask* task = emu_kernel_bind(f->name.c_str(), params);
    if (!task) return CUDA_ERROR_INVALID_HANDLE;
    Launch* l = new Launch{task, f->name, {gx, gy, gz}, {bx, by, bz}, smem};
    Enqueue(AsStream(stream), std::make_shared<Op>(DoLaunch, l, FreeLaunch));
    return CUDA_SUCCESS;
}

// ---- capture and graphs
EXPORT CUresult cuStreamBeginCapture_v2(void* stream, int mode)
{
    std::lock_guard<std::recursive_mutex> lock(g_lock);
    if (!stream) return CUDA_ERROR_INVALID_VALUE;      // the legacy stream cannot be captured
    if (mode < 0 || mode > 2) return CUDA_ERROR_INVALID_VALUE;
    Stream* s = static_cast<Stream*>(stream);
    if (s->capture) return CUDA_ERROR_INVALID_VALUE;
    s->capture = new Graph();
    s->invalidated = false;
    g_capturing++;
    return CUDA_SUCCESS;
}
EXPORT CUresult cuStreamEndCapture(void* stream, void** graph)
{
    std::lock_guard<std::recursive_mutex> lock(g_lock);
    if (!stream || !graph) return CUDA_ERROR_INVALID_VALUE;
    Stream* s = static_cast<Stream*>(stream);
    if (!s->capture) return CUDA_ERROR_INVALID_VALUE;
    Graph* g = s->capture;
    s->capture = nullptr;
    g_capturing--;
    if (s->invalidated) {
        s->invalidated = false;
        delete g;
        *graph = nullptr;
        return CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
    }
    *graph = g;
    return CUDA_SUCCESS;
}
EXPORT CUresult cuGraphInstantiateWithFlags(void** exec, void* graph, unsigned long long flags)
{
    (void)flags;
    if (!exec || !graph) return CUDA_ERROR_INVALID_VALUE;
    *exec = new GraphExec{static_cast<Graph*>(graph)->ops};
    return CUDA_SUCCESS;
}
EXPORT CUresult cuGraphLaunch(void* exec, void* stream)
{
    std::lock_guard<std::recursive_mutex> lock(g_lock);
    GraphExec* e = static_cast<GraphExec*>(exec);
    if (!e) return CUDA_ERROR_INVALID_HANDLE;
    if (g_sticky) return g_sticky;
    Stream* s = AsStream(stream);
    for (const std::shared_ptr<Op>& op : e->ops) Enqueue(s, op);
    return CUDA_SUCCESS;
}
EXPORT CUresult cuGraphExecDestroy(void* exec) { delete static_cast<GraphExec*>(exec); return CUDA_SUCCESS; }
EXPORT CUresult cuGraphDestroy(void* graph) { delete static_cast<Graph*>(graph); return CUDA_SUCCESS; }
