using Hrm.Runtime.Backends.Cuda;

namespace Hrm.Runtime.Tests.Cuda;

/// <summary>
/// Small kernels of the tests' own (the real ones live in native/kernels), and helpers to get a compiler or skip.
/// </summary>
internal static class TestKernels
{
    /// <summary>A header, passed to NVRTC in memory like common.cuh.</summary>
    public static readonly KeyValuePair<string, string> MiniHeader = KeyValuePair.Create("mini.cuh", """
        #pragma once
        __device__ __forceinline__ float mini_scale(float x, float s) { return x * s; }
        """);

    /// <summary>out[i] = s * inp[i] (one thread per element), and a block sum with 1 KiB of shared memory.</summary>
    public const string Scale = """
        #include "mini.cuh"
        extern "C" __global__ void scale_forward_kernel1(float* __restrict__ out, const float* __restrict__ inp,
                                                         float s, int n) {
            int i = blockIdx.x * blockDim.x + threadIdx.x;
            if (i < n) out[i] = mini_scale(inp[i], s);
        }
        extern "C" __global__ void block_sum_kernel1(float* __restrict__ out, const float* __restrict__ inp, int n) {
            __shared__ float buf[256];
            int i = blockIdx.x * 256 + threadIdx.x;
            buf[threadIdx.x] = i < n ? inp[i] : 0.0f;
            __syncthreads();
            for (int s = 128; s > 0; s >>= 1) {
                if (threadIdx.x < s) buf[threadIdx.x] += buf[threadIdx.x + s];
                __syncthreads();
            }
            if (threadIdx.x == 0) out[blockIdx.x] = buf[0];
        }
        """;

    /// <summary>x[i] += 1 (for graph replay tests).</summary>
    public const string AddOne = """
        extern "C" __global__ void add_one_kernel1(float* __restrict__ x, int n) {
            int i = blockIdx.x * blockDim.x + threadIdx.x;
            if (i < n) x[i] += 1.0f;
        }
        """;

    /// <summary>Compiles cleanly except for two "declared but never referenced" warnings.</summary>
    public const string Warns = """
        extern "C" __global__ void warns_kernel1(float* out) { int unused = 3; out[0] = 1.0f; }
        """;

    /// <summary>A missing ';' on line 2 (NVRTC reports it at the next token, line 3).</summary>
    public const string SyntaxError = """
        extern "C" __global__ void broken_kernel1(float* out) {
            out[0] = 1.0f
        }
        """;

    /// <summary>Dynamically indexed local array: ptxas must spill under a low register cap.</summary>
    public const string Spills = """
        extern "C" __global__ void spills_kernel1(float* out, int k) {
            float loc[64];
            for (int j = 0; j < 64; j++) loc[j] = out[j];
            out[1] = loc[k & 63];
            out[2] = loc[(k + 5) & 63];
        }
        """;

    /// <summary>A compiler over NVRTC, or the test is skipped with the reason (which lists every path tried).</summary>
    public static KernelCompiler CompilerOrSkip(KernelCache? cache)
    {
        bool ok = KernelCompiler.TryCreate(cache, out KernelCompiler? compiler, out string reason);
        Assert.SkipUnless(ok, $"NVRTC is not available: {reason}");
        return compiler!;
    }

    /// <summary><see cref="CompilerOrSkip"/> for a test that only compiles (it never touches a device): skipped in
    /// the emulated GPU run (<see cref="GpuEmu.EmulatedGpuTests"/>), whose parent process runs it with the same NVRTC,
    /// so the emulator's time goes to the tests it can change.</summary>
    public static KernelCompiler HostCompilerOrSkip(KernelCache? cache)
    {
        Assert.SkipWhen(GpuEmu.EmulatedGpuTests.Emulated,
            "compiles only: the parent process ran this test with the same NVRTC (the emulated run is for the device)");
        return CompilerOrSkip(cache);
    }
}
