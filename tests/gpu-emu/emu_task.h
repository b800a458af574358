// emu_task.h — a kernel bound to its launch arguments (tests/gpu-emu; see common.cuh and emu_core.cpp).
//
// build.sh generates one bind_X.cpp per native/kernels/X.cu: `#include "X.cu"`, `#include "emu_task.h"`, then per
// kernel one EMU_KERNEL_INFO(name, bytes, maxThreads): `bytes` of static shared memory (sizeof a struct of its
// __shared__ arrays) and the first argument of its __launch_bounds__ (else 1024). EMU_KERNEL(name) is the short form
// for a kernel with neither (hand-written test kernels, see selftest.cpp). Each registers `name` at load time with a binder that copies the launch arguments by value from
// void** args (cuLaunchKernel's kernelParams: args[i] points at parameter i) into a tuple typed by the kernel's own
// parameter list, and a task whose run() calls the kernel for the current emulated thread.
#pragma once
#include <string.h>
#include <tuple>
#include <utility>

struct EmuTask {
    const char* name;  // the kernel's name
    int staticSmem;    // its static shared memory in bytes
    int maxThreads;    // its __launch_bounds__ limit on the block size
    virtual ~EmuTask() {}
    virtual void run() const = 0;  // the kernel body for the current thread (threadIdx, blockIdx set)
};

typedef EmuTask* (*EmuBinder)(void** args);
__attribute__((visibility("hidden"))) bool emu_register_kernel(const char* name, EmuBinder bind, int staticSmem,
                                                               int maxThreads);

template <class... P> struct __attribute__((visibility("hidden"))) EmuTaskOf final : EmuTask {
    void (*fn)(P...);
    std::tuple<P...> args;
    void run() const override { std::apply(fn, args); }
};

template <class T> static inline T emu_arg(const void* p) {
    T v;
    memcpy(&v, p, sizeof v);  // unaligned-safe copy of the caller's value
    return v;
}

template <class... P, size_t... I>
static EmuTask* emu_bind_args(void (*fn)(P...), void** args, std::index_sequence<I...>) {
    auto* t = new EmuTaskOf<P...>;
    t->fn = fn;
    t->args = std::tuple<P...>(emu_arg<P>(args[I])...);
    return t;
}

template <class... P> static EmuTask* emu_bind(void (*fn)(P...), void** args) {
    if (sizeof...(P) > 0 && args == nullptr) return nullptr;
    return emu_bind_args(fn, args, std::index_sequence_for<P...>{});
}

#define EMU_KERNEL_INFO(name, bytes, maxThreads)                                                          \
    static const bool emu_registered_##name = emu_register_kernel(                                        \
        #name, [](void** args) -> EmuTask* { return emu_bind(&name, args); }, (int)(bytes), (int)(maxThreads));
#define EMU_KERNEL(name) EMU_KERNEL_INFO(name, 0, 1024)
