using System.Runtime.InteropServices;

namespace Hrm.Runtime.Backends.Cuda.Interop;

/// <summary><c>nvrtcResult</c>. Names come from <c>nvrtcGetErrorString</c>.</summary>
internal enum NvrtcResult
{
    Success = 0,
    OutOfMemory = 1,
    ProgramCreationFailure = 2,
    InvalidInput = 3,
    InvalidProgram = 4,
    InvalidOption = 5,
    Compilation = 6,
}

/// <summary>
/// Raw NVRTC declarations (<c>nvrtc.h</c>). <c>nvrtcProgram</c> is <see cref="nint"/>, strings are
/// NUL-terminated UTF-8 <c>byte*</c>, arrays of strings are <c>byte**</c>.
/// </summary>
internal static unsafe partial class Nvrtc
{
    private const string Lib = CudaLibraryNames.Nvrtc;

    [LibraryImport(Lib)]
    internal static partial byte* nvrtcGetErrorString(NvrtcResult result);

    [LibraryImport(Lib)]
    internal static partial NvrtcResult nvrtcVersion(int* major, int* minor);

    [LibraryImport(Lib)]
    internal static partial NvrtcResult nvrtcGetNumSupportedArchs(int* numArchs);

    [LibraryImport(Lib)]
    internal static partial NvrtcResult nvrtcGetSupportedArchs(int* archs);

    [LibraryImport(Lib)]
    internal static partial NvrtcResult nvrtcCreateProgram(nint* program, byte* source, byte* name, int numHeaders,
        byte** headers, byte** includeNames);

    [LibraryImport(Lib)]
    internal static partial NvrtcResult nvrtcDestroyProgram(nint* program);

    [LibraryImport(Lib)]
    internal static partial NvrtcResult nvrtcCompileProgram(nint program, int numOptions, byte** options);

    [LibraryImport(Lib)]
    internal static partial NvrtcResult nvrtcGetProgramLogSize(nint program, nuint* logSize);

    [LibraryImport(Lib)]
    internal static partial NvrtcResult nvrtcGetProgramLog(nint program, byte* log);

    [LibraryImport(Lib)]
    internal static partial NvrtcResult nvrtcGetPTXSize(nint program, nuint* ptxSize);

    [LibraryImport(Lib)]
    internal static partial NvrtcResult nvrtcGetPTX(nint program, byte* ptx);

    [LibraryImport(Lib)]
    internal static partial NvrtcResult nvrtcGetCUBINSize(nint program, nuint* cubinSize);

    [LibraryImport(Lib)]
    internal static partial NvrtcResult nvrtcGetCUBIN(nint program, byte* cubin);
}
