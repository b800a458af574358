namespace Hrm.Runtime.Backends.Cuda.Interop;

/// <summary>
/// <c>CUresult</c>: the driver API status. Only the values the runtime branches on are named; every other value
/// is reported by number and by <c>cuGetErrorName</c> / <c>cuGetErrorString</c>.
/// </summary>
internal enum CuResult
{
    Success = 0,
    InvalidValue = 1,
    OutOfMemory = 2,
    NotInitialized = 3,
    Deinitialized = 4,
    StubLibrary = 34,
    NoDevice = 100,
    InvalidDevice = 101,
    InvalidImage = 200,
    InvalidContext = 201,
    NoBinaryForGpu = 209,
    InvalidPtx = 218,
    UnsupportedPtxVersion = 222,
    NotFound = 500,
    NotReady = 600,
    LaunchOutOfResources = 701,
    CooperativeLaunchTooLarge = 720,
    NotSupported = 801,
}
