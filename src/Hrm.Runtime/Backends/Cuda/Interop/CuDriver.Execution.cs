using System.Runtime.InteropServices;

namespace Hrm.Runtime.Backends.Cuda.Interop;

/// <summary>Raw driver API: streams, events, modules, functions, launches and graphs.</summary>
internal static unsafe partial class CuDriver
{
    [LibraryImport(Lib)]
    internal static partial CuResult cuStreamCreate(nint* stream, uint flags);

    [LibraryImport(Lib)]
    internal static partial CuResult cuStreamDestroy_v2(nint stream);

    [LibraryImport(Lib)]
    internal static partial CuResult cuStreamSynchronize(nint stream);

    [LibraryImport(Lib)]
    internal static partial CuResult cuEventCreate(nint* evt, uint flags);

    [LibraryImport(Lib)]
    internal static partial CuResult cuEventRecord(nint evt, nint stream);

    [LibraryImport(Lib)]
    internal static partial CuResult cuEventRecordWithFlags(nint evt, nint stream, uint flags);

    [LibraryImport(Lib)]
    internal static partial CuResult cuEventSynchronize(nint evt);

    [LibraryImport(Lib)]
    internal static partial CuResult cuEventElapsedTime(float* milliseconds, nint start, nint end);

    [LibraryImport(Lib)]
    internal static partial CuResult cuEventDestroy_v2(nint evt);

    [LibraryImport(Lib)]
    internal static partial CuResult cuModuleLoadDataEx(nint* module, void* image, uint numOptions,
        CuJitOption* options, void** optionValues);

    [LibraryImport(Lib)]
    internal static partial CuResult cuModuleUnload(nint module);

    [LibraryImport(Lib)]
    internal static partial CuResult cuModuleGetFunction(nint* function, nint module, byte* name);

    [LibraryImport(Lib)]
    internal static partial CuResult cuFuncSetAttribute(nint function, CuFunctionAttribute attribute, int value);

    [LibraryImport(Lib)]
    internal static partial CuResult cuFuncGetAttribute(int* value, CuFunctionAttribute attribute, nint function);

    [LibraryImport(Lib)]
    internal static partial CuResult cuOccupancyMaxActiveBlocksPerMultiprocessor(int* numBlocks, nint function,
        int blockSize, nuint dynamicSMemSize);

    [LibraryImport(Lib)]
    internal static partial CuResult cuLaunchKernel(nint function, uint gridX, uint gridY, uint gridZ,
        uint blockX, uint blockY, uint blockZ, uint sharedMemBytes, nint stream, void** kernelParams, void** extra);

    [LibraryImport(Lib)]
    internal static partial CuResult cuLaunchCooperativeKernel(nint function, uint gridX, uint gridY, uint gridZ,
        uint blockX, uint blockY, uint blockZ, uint sharedMemBytes, nint stream, void** kernelParams);

    [LibraryImport(Lib)]
    internal static partial CuResult cuStreamBeginCapture_v2(nint stream, CuStreamCaptureMode mode);

    [LibraryImport(Lib)]
    internal static partial CuResult cuStreamEndCapture(nint stream, nint* graph);

    [LibraryImport(Lib)]
    internal static partial CuResult cuGraphInstantiateWithFlags(nint* graphExec, nint graph, ulong flags);

    [LibraryImport(Lib)]
    internal static partial CuResult cuGraphLaunch(nint graphExec, nint stream);

    [LibraryImport(Lib)]
    internal static partial CuResult cuGraphExecDestroy(nint graphExec);

    [LibraryImport(Lib)]
    internal static partial CuResult cuGraphDestroy(nint graph);
}
