using System.Runtime.InteropServices;

namespace Hrm.Runtime.Backends.Cuda.Interop;

/// <summary>
/// Raw CUDA driver API declarations: initialisation, devices, primary contexts and error strings. Blittable
/// signatures only: <c>CUdevice</c> is <see cref="int"/>, handles are <see cref="nint"/>, <c>CUdeviceptr</c> is
/// <see cref="ulong"/>, <c>size_t</c> is <see cref="nuint"/>, strings are UTF-8 <c>byte*</c>. Call through
/// <see cref="CudaCheck"/>; load the library with <see cref="CudaLibraryResolver"/> first.
/// </summary>
internal static unsafe partial class CuDriver
{
    private const string Lib = CudaLibraryNames.Cuda;

    [LibraryImport(Lib)]
    internal static partial CuResult cuInit(uint flags);

    [LibraryImport(Lib)]
    internal static partial CuResult cuDriverGetVersion(int* driverVersion);

    [LibraryImport(Lib)]
    internal static partial CuResult cuDeviceGetCount(int* count);

    [LibraryImport(Lib)]
    internal static partial CuResult cuDeviceGet(int* device, int ordinal);

    [LibraryImport(Lib)]
    internal static partial CuResult cuDeviceGetName(byte* name, int length, int device);

    [LibraryImport(Lib)]
    internal static partial CuResult cuDeviceGetAttribute(int* value, CuDeviceAttribute attribute, int device);

    [LibraryImport(Lib)]
    internal static partial CuResult cuDeviceTotalMem_v2(nuint* bytes, int device);

    [LibraryImport(Lib)]
    internal static partial CuResult cuDevicePrimaryCtxRetain(nint* context, int device);

    [LibraryImport(Lib)]
    internal static partial CuResult cuDevicePrimaryCtxRelease_v2(int device);

    [LibraryImport(Lib)]
    internal static partial CuResult cuCtxSetCurrent(nint context);

    [LibraryImport(Lib)]
    internal static partial CuResult cuCtxSynchronize();

    [LibraryImport(Lib)]
    internal static partial CuResult cuGetErrorName(CuResult error, byte** name);

    [LibraryImport(Lib)]
    internal static partial CuResult cuGetErrorString(CuResult error, byte** text);
}
