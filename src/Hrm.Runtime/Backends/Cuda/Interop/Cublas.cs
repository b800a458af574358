using System.Runtime.InteropServices;

namespace Hrm.Runtime.Backends.Cuda.Interop;

/// <summary>
/// Raw classic cuBLAS declarations (<c>cublas_api.h</c>, v2 entry points): handle, stream, and the mixed
/// precision GEMMs. Column-major, like all of cuBLAS.
/// </summary>
internal static unsafe partial class Cublas
{
    private const string Lib = CudaLibraryNames.Cublas;

    /// <summary><c>CUBLAS_GEMM_DEFAULT</c>: let cuBLAS pick the algorithm.</summary>
    internal const int GemmDefault = -1;

    [LibraryImport(Lib)]
    internal static partial CublasStatus cublasCreate_v2(nint* handle);

    [LibraryImport(Lib)]
    internal static partial CublasStatus cublasDestroy_v2(nint handle);

    [LibraryImport(Lib)]
    internal static partial CublasStatus cublasSetStream_v2(nint handle, nint stream);

    [LibraryImport(Lib)]
    internal static partial CublasStatus cublasGemmEx(nint handle, CublasOperation transA, CublasOperation transB,
        int m, int n, int k, void* alpha, ulong a, CudaDataType aType, int lda, ulong b, CudaDataType bType, int ldb,
        void* beta, ulong c, CudaDataType cType, int ldc, CublasComputeType computeType, int algo);

    [LibraryImport(Lib)]
    internal static partial CublasStatus cublasGemmStridedBatchedEx(nint handle, CublasOperation transA,
        CublasOperation transB, int m, int n, int k, void* alpha, ulong a, CudaDataType aType, int lda, long strideA,
        ulong b, CudaDataType bType, int ldb, long strideB, void* beta, ulong c, CudaDataType cType, int ldc,
        long strideC, int batchCount, CublasComputeType computeType, int algo);
}
