namespace Hrm.Runtime.Backends.Cuda;

/// <summary>Choices of a <see cref="CudaBackend"/> that trade accuracy for speed, and where it runs.</summary>
public sealed record CudaBackendOptions
{
    /// <summary>
    /// The attention path for head size 64: true (default) runs the bf16 tensor-core kernels (kernel2, about 1e-2
    /// relative agreement with fp32); false runs the fp32 kernels (kernel1, about 1e-6). Other head sizes always
    /// run in fp32.
    /// </summary>
    public bool Bf16Attention { get; init; } = true;

    /// <summary>
    /// Let cuBLAS use TF32 tensor cores for the fp32 GEMMs (faster, about 1e-3 relative). Off by default, so the
    /// linear layers agree with the CPU backend to fp32 rounding.
    /// </summary>
    public bool Tf32Matmul { get; init; }

    /// <summary>The CUDA device ordinal (0 = the first GPU).</summary>
    public int DeviceOrdinal { get; init; }

    /// <summary>Directory of the compiled-kernel cache; null = <c>HRM_KERNEL_CACHE</c> or <c>~/.cache/hrm/kernels</c>.</summary>
    public string? KernelCacheDirectory { get; init; }

    /// <summary>
    /// Wait for the device after every op, so wall-clock timers around single ops (<see cref="ProfilingBackend"/>)
    /// measure the op; slows everything else down.
    /// </summary>
    public bool SynchronizeEachOp { get; init; }
}
