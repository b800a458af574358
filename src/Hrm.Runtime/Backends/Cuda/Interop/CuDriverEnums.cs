namespace Hrm.Runtime.Backends.Cuda.Interop;

/// <summary><c>CUdevice_attribute</c> values read by <see cref="CudaDevice"/> (values from <c>cuda.h</c>).</summary>
internal enum CuDeviceAttribute
{
    MaxThreadsPerBlock = 1,
    MaxSharedMemoryPerBlock = 8,
    WarpSize = 10,
    MultiprocessorCount = 16,
    L2CacheSize = 38,
    ComputeCapabilityMajor = 75,
    ComputeCapabilityMinor = 76,
    MaxSharedMemoryPerMultiprocessor = 81,
    MaxRegistersPerMultiprocessor = 82,
    CooperativeLaunch = 95,
    MaxSharedMemoryPerBlockOptin = 97,
}

/// <summary><c>CUfunction_attribute</c> values (<c>cuFuncGetAttribute</c> / <c>cuFuncSetAttribute</c>).</summary>
internal enum CuFunctionAttribute
{
    MaxThreadsPerBlock = 0,
    SharedSizeBytes = 1,
    ConstSizeBytes = 2,
    LocalSizeBytes = 3,
    NumRegs = 4,
    PtxVersion = 5,
    BinaryVersion = 6,
    CacheModeCa = 7,
    MaxDynamicSharedSizeBytes = 8,
    PreferredSharedMemoryCarveout = 9,
}

/// <summary><c>CUjit_option</c> values passed to <c>cuModuleLoadDataEx</c>.</summary>
internal enum CuJitOption
{
    MaxRegisters = 0,
    ThreadsPerBlock = 1,
    WallTime = 2,
    InfoLogBuffer = 3,
    InfoLogBufferSizeBytes = 4,
    ErrorLogBuffer = 5,
    ErrorLogBufferSizeBytes = 6,
    OptimizationLevel = 7,
    TargetFromCuContext = 8,
    Target = 9,
    FallbackStrategy = 10,
    GenerateDebugInfo = 11,
    LogVerbose = 12,
    GenerateLineInfo = 13,
}

/// <summary><c>CUstreamCaptureMode</c>.</summary>
internal enum CuStreamCaptureMode
{
    Global = 0,
    ThreadLocal = 1,
    Relaxed = 2,
}

/// <summary>Flag constants of the driver API.</summary>
internal static class CuFlags
{
    /// <summary><c>CU_STREAM_NON_BLOCKING</c>: no implicit synchronisation with the legacy default stream.</summary>
    public const uint StreamNonBlocking = 0x1;

    /// <summary><c>CU_EVENT_DEFAULT</c>: an event that records timing.</summary>
    public const uint EventDefault = 0x0;

    /// <summary><c>CU_EVENT_DISABLE_TIMING</c>: cheaper events for synchronisation only.</summary>
    public const uint EventDisableTiming = 0x2;

    /// <summary><c>CU_EVENT_RECORD_EXTERNAL</c>: a record during stream capture becomes an event record node of the
    /// graph (re-recorded at every replay); invalid outside a capture.</summary>
    public const uint EventRecordExternal = 0x1;

    /// <summary><c>CU_MEMHOSTALLOC_PORTABLE</c>: pinned memory usable from every context.</summary>
    public const uint MemHostAllocPortable = 0x1;
}
