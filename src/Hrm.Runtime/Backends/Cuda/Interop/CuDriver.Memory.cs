using System.Runtime.InteropServices;

namespace Hrm.Runtime.Backends.Cuda.Interop;

/// <summary>Raw driver API: device memory, pinned host memory and copies.</summary>
internal static unsafe partial class CuDriver
{
    [LibraryImport(Lib)]
    internal static partial CuResult cuMemGetInfo_v2(nuint* free, nuint* total);

    [LibraryImport(Lib)]
    internal static partial CuResult cuMemAlloc_v2(ulong* devicePtr, nuint bytes);

    [LibraryImport(Lib)]
    internal static partial CuResult cuMemFree_v2(ulong devicePtr);

    [LibraryImport(Lib)]
    internal static partial CuResult cuMemHostAlloc(void** hostPtr, nuint bytes, uint flags);

    [LibraryImport(Lib)]
    internal static partial CuResult cuMemFreeHost(void* hostPtr);

    [LibraryImport(Lib)]
    internal static partial CuResult cuMemcpyHtoD_v2(ulong dst, void* src, nuint bytes);

    [LibraryImport(Lib)]
    internal static partial CuResult cuMemcpyDtoH_v2(void* dst, ulong src, nuint bytes);

    [LibraryImport(Lib)]
    internal static partial CuResult cuMemcpyHtoDAsync_v2(ulong dst, void* src, nuint bytes, nint stream);

    [LibraryImport(Lib)]
    internal static partial CuResult cuMemcpyDtoHAsync_v2(void* dst, ulong src, nuint bytes, nint stream);

    [LibraryImport(Lib)]
    internal static partial CuResult cuMemcpyDtoDAsync_v2(ulong dst, ulong src, nuint bytes, nint stream);

    [LibraryImport(Lib)]
    internal static partial CuResult cuMemsetD32Async(ulong dst, uint value, nuint count, nint stream);

    [LibraryImport(Lib)]
    internal static partial CuResult cuMemsetD16Async(ulong dst, ushort value, nuint count, nint stream);
}
