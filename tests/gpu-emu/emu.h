// emu.h — the seams of the CPU emulator of our GPU stack (tests only; see README.md in this folder).
//
// libcuda.so.1 here = a fake CUDA driver (driver.cpp) + the kernel emulator (emu_core.cpp, the shim common.cuh)
// + every native/kernels/*.cu compiled for the CPU. libcublas.so.13 / libcublasLt.so.13 = fake cuBLAS on the CPU
// (cublas.cpp, cublaslt.cpp), linked against that libcuda.so.1 for emu_enqueue. Device pointers are host pointers.
#pragma once
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

// ---- kernels (emu_core.cpp + the generated bind_<file>.cpp, one per native/kernels file)
typedef struct EmuTask EmuTask;

// Kernel `name` bound to its arguments: args[i] points at the value of parameter i (as cuLaunchKernel's
// kernelParams); the values are copied now. Null when no kernel has that name.
EmuTask* emu_kernel_bind(const char* name, void** args);

// Runs every block of the grid (one block after another; a block's threads as coroutines that switch at
// __syncthreads, warp shuffles and the other warp-wide operations) with `smem` bytes of dynamic shared memory.
// Returns 0, or nonzero after printing why on stderr (bad launch configuration, a barrier not reached by all).
int emu_kernel_run(const EmuTask* task, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                   unsigned smem);

void emu_kernel_free(EmuTask* task);

// 1 when a kernel named `name` was compiled in, else 0 (cuModuleGetFunction).
int emu_kernel_exists(const char* name);

// Static shared memory of kernel `name` in bytes, or 0 when unknown (cuFuncGetAttribute SHARED_SIZE_BYTES).
int emu_kernel_static_smem(const char* name);

// The first argument of kernel `name`'s __launch_bounds__ (1024 without one), or 0 when unknown
// (cuFuncGetAttribute MAX_THREADS_PER_BLOCK; cuLaunchKernel refuses larger blocks, as the real driver does).
int emu_kernel_max_threads(const char* name);

// ---- driver (driver.cpp)
// Runs fn(ctx) on `stream` (a CUstream; 0 = the default stream) now, or, while the stream is being captured,
// records it into the graph being built; release(ctx) is called once the op will never run again (may be null).
void emu_enqueue(void* stream, void (*fn)(void* ctx), void* ctx, void (*release)(void* ctx));

#ifdef __cplusplus
}
#endif
