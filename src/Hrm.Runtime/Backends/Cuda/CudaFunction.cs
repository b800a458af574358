using Hrm.Runtime.Backends.Cuda.Interop;

namespace Hrm.Runtime.Backends.Cuda;

/// <summary>
/// A kernel in a loaded <see cref="CudaModule"/> (<c>CUfunction</c>): valid while the module is. Resolve each
/// function once at build time (<see cref="CudaModule.GetFunction"/>) and keep it in a table; launching does not
/// allocate.
/// </summary>
/// <param name="Handle">The <c>CUfunction</c>.</param>
/// <param name="Name">The kernel's <c>extern "C"</c> name.</param>
internal readonly record struct CudaFunction(nint Handle, string Name)
{
    /// <summary>Reads a function attribute, e.g. <see cref="CuFunctionAttribute.NumRegs"/>.</summary>
    public unsafe int GetAttribute(CuFunctionAttribute attribute)
    {
        int value;
        CudaCheck.Driver(CuDriver.cuFuncGetAttribute(&value, attribute, Handle));
        return value;
    }

    /// <summary>
    /// Allows launches with up to <paramref name="bytes"/> of dynamic shared memory (needed above 48 KiB; the
    /// limit is <see cref="CudaDevice.MaxSharedMemoryPerBlockOptIn"/> minus the kernel's static shared memory).
    /// </summary>
    public void SetMaxDynamicSharedMemory(int bytes) =>
        CudaCheck.Driver(CuDriver.cuFuncSetAttribute(Handle, CuFunctionAttribute.MaxDynamicSharedSizeBytes, bytes));

    /// <summary>How many blocks of <paramref name="blockSize"/> threads and <paramref name="dynamicSharedBytes"/> of
    /// dynamic shared memory one SM holds at once (the driver's occupancy calculator).</summary>
    public unsafe int MaxActiveBlocksPerSm(int blockSize, int dynamicSharedBytes)
    {
        int blocks;
        CudaCheck.Driver(CuDriver.cuOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, Handle, blockSize,
            (nuint)dynamicSharedBytes));
        return blocks;
    }

    /// <summary>
    /// Queues the kernel on <paramref name="stream"/>. <paramref name="args"/> points to one pointer per kernel
    /// parameter, each pointing at the argument's value (pack them with <c>stackalloc void*[n]</c>).
    /// </summary>
    public unsafe void Launch(CudaStream stream, Dim3 grid, Dim3 block, uint sharedBytes, void** args) =>
        CudaCheck.Driver(CuDriver.cuLaunchKernel(Handle, grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z,
            sharedBytes, stream.Raw, args, null));

    /// <summary>
    /// <see cref="Launch"/> as a cooperative kernel: the driver guarantees every block is resident at once (what a
    /// grid-wide barrier needs) or refuses the launch (<c>CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE</c>).
    /// </summary>
    public unsafe void LaunchCooperative(CudaStream stream, Dim3 grid, Dim3 block, uint sharedBytes, void** args) =>
        CudaCheck.Driver(CuDriver.cuLaunchCooperativeKernel(Handle, grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z,
            sharedBytes, stream.Raw, args));
}
