namespace Hrm.Runtime.Backends.Cuda.Interop;

/// <summary><c>cublasStatus_t</c> (shared by cuBLAS and cuBLASLt).</summary>
internal enum CublasStatus
{
    Success = 0,
    NotInitialized = 1,
    AllocFailed = 3,
    InvalidValue = 7,
    ArchMismatch = 8,
    MappingError = 11,
    ExecutionFailed = 13,
    InternalError = 14,
    NotSupported = 15,
    LicenseError = 16,
}

/// <summary><c>cudaDataType_t</c> values the runtime uses (<c>library_types.h</c>).</summary>
internal enum CudaDataType
{
    R32F = 0,
    R16F = 2,
    R16BF = 14,
}

/// <summary><c>cublasComputeType_t</c>.</summary>
internal enum CublasComputeType
{
    Compute16F = 64,
    Compute32F = 68,
    Compute32FPedantic = 69,
    Compute32FFast16F = 74,
    Compute32FFast16BF = 75,
    Compute32FFastTf32 = 77,
}

/// <summary><c>cublasOperation_t</c>.</summary>
internal enum CublasOperation
{
    N = 0,
    T = 1,
}

/// <summary><c>cublasLtMatmulDescAttributes_t</c> (the values used here).</summary>
internal enum CublasLtMatmulDescAttribute
{
    ComputeType = 0,
    ScaleType = 1,
    PointerMode = 2,
    TransA = 3,
    TransB = 4,
    Epilogue = 7,
    BiasPointer = 8,
}

/// <summary><c>cublasLtMatrixLayoutAttribute_t</c>.</summary>
internal enum CublasLtMatrixLayoutAttribute
{
    Type = 0,
    Order = 1,
    Rows = 2,
    Cols = 3,
    Ld = 4,
    BatchCount = 5,
    StridedBatchOffset = 6,
}

/// <summary><c>cublasLtMatmulPreferenceAttributes_t</c>.</summary>
internal enum CublasLtMatmulPreferenceAttribute
{
    SearchMode = 0,
    MaxWorkspaceBytes = 1,
    MinAlignmentABytes = 5,
    MinAlignmentBBytes = 6,
    MinAlignmentCBytes = 7,
    MinAlignmentDBytes = 8,
}

/// <summary><c>cublasLtMatmulAlgo_t</c>: 8 opaque 64-bit words.</summary>
internal unsafe struct CublasLtMatmulAlgo
{
    public fixed ulong Data[8];
}

/// <summary><c>cublasLtMatmulHeuristicResult_t</c> (96 bytes).</summary>
internal unsafe struct CublasLtMatmulHeuristicResult
{
    public CublasLtMatmulAlgo Algo;
    public nuint WorkspaceSize;
    public CublasStatus State;
    public float WavesCount;
    public fixed int Reserved[4];
}
