using System.Runtime.InteropServices;

namespace Hrm.Runtime.Backends.Cuda.Interop;

/// <summary>
/// Raw cuBLASLt declarations (<c>cublasLt.h</c>): handle, matmul descriptor, matrix layouts, preferences,
/// heuristic and <c>cublasLtMatmul</c>. Handles and descriptors are <see cref="nint"/>; device pointers are
/// <see cref="ulong"/>; <c>alpha</c>/<c>beta</c> are host pointers to the scale type.
/// </summary>
internal static unsafe partial class CublasLt
{
    private const string Lib = CudaLibraryNames.CublasLt;

    [LibraryImport(Lib)]
    internal static partial nuint cublasLtGetVersion();

    [LibraryImport(Lib)]
    internal static partial CublasStatus cublasLtCreate(nint* handle);

    [LibraryImport(Lib)]
    internal static partial CublasStatus cublasLtDestroy(nint handle);

    [LibraryImport(Lib)]
    internal static partial CublasStatus cublasLtMatmulDescCreate(nint* desc, CublasComputeType computeType,
        CudaDataType scaleType);

    [LibraryImport(Lib)]
    internal static partial CublasStatus cublasLtMatmulDescSetAttribute(nint desc, CublasLtMatmulDescAttribute attr,
        void* buffer, nuint sizeInBytes);

    [LibraryImport(Lib)]
    internal static partial CublasStatus cublasLtMatmulDescDestroy(nint desc);

    [LibraryImport(Lib)]
    internal static partial CublasStatus cublasLtMatrixLayoutCreate(nint* layout, CudaDataType type, ulong rows,
        ulong cols, long ld);

    [LibraryImport(Lib)]
    internal static partial CublasStatus cublasLtMatrixLayoutSetAttribute(nint layout,
        CublasLtMatrixLayoutAttribute attr, void* buffer, nuint sizeInBytes);

    [LibraryImport(Lib)]
    internal static partial CublasStatus cublasLtMatrixLayoutDestroy(nint layout);

    [LibraryImport(Lib)]
    internal static partial CublasStatus cublasLtMatmulPreferenceCreate(nint* preference);

    [LibraryImport(Lib)]
    internal static partial CublasStatus cublasLtMatmulPreferenceSetAttribute(nint preference,
        CublasLtMatmulPreferenceAttribute attr, void* buffer, nuint sizeInBytes);

    [LibraryImport(Lib)]
    internal static partial CublasStatus cublasLtMatmulPreferenceDestroy(nint preference);

    [LibraryImport(Lib)]
    internal static partial CublasStatus cublasLtMatmulAlgoGetHeuristic(nint handle, nint operationDesc,
        nint aDesc, nint bDesc, nint cDesc, nint dDesc, nint preference, int requestedAlgoCount,
        CublasLtMatmulHeuristicResult* heuristicResults, int* returnAlgoCount);

    [LibraryImport(Lib)]
    internal static partial CublasStatus cublasLtMatmul(nint handle, nint computeDesc, void* alpha, ulong a,
        nint aDesc, ulong b, nint bDesc, void* beta, ulong c, nint cDesc, ulong d, nint dDesc,
        CublasLtMatmulAlgo* algo, ulong workspace, nuint workspaceSizeInBytes, nint stream);
}
