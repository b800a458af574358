using System.Runtime.InteropServices;

namespace Hrm.Runtime.Backends.Cuda.Interop;

/// <summary>
/// Names and descriptions of status codes, asked of the libraries themselves (<c>cuGetErrorName</c>,
/// <c>cuGetErrorString</c>, <c>nvrtcGetErrorString</c>) with a numeric fallback when they cannot answer.
/// cuBLAS statuses are named from a table, so no extra library entry point is needed.
/// </summary>
internal static unsafe class CudaErrorText
{
    /// <summary>E.g. <c>CUDA_ERROR_OUT_OF_MEMORY</c>.</summary>
    public static string DriverName(CuResult result) => Ask(result, name: true) ?? $"CUresult {(int)result}";

    /// <summary>E.g. <c>out of memory</c>.</summary>
    public static string DriverText(CuResult result) =>
        Ask(result, name: false) ?? "unrecognised CUDA error code";

    /// <summary>E.g. <c>NVRTC_ERROR_COMPILATION</c>.</summary>
    public static string Nvrtc(NvrtcResult result)
    {
        try
        {
            byte* text = Interop.Nvrtc.nvrtcGetErrorString(result);
            return text == null ? $"nvrtcResult {(int)result}" : Marshal.PtrToStringUTF8((nint)text) ?? "";
        }
        catch (EntryPointNotFoundException)
        {
            return $"nvrtcResult {(int)result}";
        }
    }

    /// <summary>The <c>CUBLAS_STATUS_*</c> name.</summary>
    public static string CublasName(CublasStatus status) => status switch
    {
        CublasStatus.Success => "CUBLAS_STATUS_SUCCESS",
        CublasStatus.NotInitialized => "CUBLAS_STATUS_NOT_INITIALIZED",
        CublasStatus.AllocFailed => "CUBLAS_STATUS_ALLOC_FAILED",
        CublasStatus.InvalidValue => "CUBLAS_STATUS_INVALID_VALUE",
        CublasStatus.ArchMismatch => "CUBLAS_STATUS_ARCH_MISMATCH",
        CublasStatus.MappingError => "CUBLAS_STATUS_MAPPING_ERROR",
        CublasStatus.ExecutionFailed => "CUBLAS_STATUS_EXECUTION_FAILED",
        CublasStatus.InternalError => "CUBLAS_STATUS_INTERNAL_ERROR",
        CublasStatus.NotSupported => "CUBLAS_STATUS_NOT_SUPPORTED",
        CublasStatus.LicenseError => "CUBLAS_STATUS_LICENSE_ERROR",
        _ => $"cublasStatus_t {(int)status}",
    };

    /// <summary>A one-line description of the cuBLAS status.</summary>
    public static string CublasText(CublasStatus status) => status switch
    {
        CublasStatus.NotInitialized => "the cuBLAS handle was not initialised",
        CublasStatus.AllocFailed => "cuBLAS could not allocate memory",
        CublasStatus.InvalidValue => "an argument is invalid (shape, leading dimension, alignment or type)",
        CublasStatus.ArchMismatch => "the operation needs a feature this GPU lacks",
        CublasStatus.ExecutionFailed => "the GPU program failed to execute",
        CublasStatus.InternalError => "an internal cuBLAS operation failed",
        CublasStatus.NotSupported => "no implementation supports these types, layouts or sizes",
        _ => "cuBLAS error",
    };

    private static string? Ask(CuResult result, bool name)
    {
        try
        {
            byte* text = null;
            CuResult r = name ? CuDriver.cuGetErrorName(result, &text) : CuDriver.cuGetErrorString(result, &text);
            if (r != CuResult.Success || text == null) return null;
            return Marshal.PtrToStringUTF8((nint)text);
        }
        catch (EntryPointNotFoundException)
        {
            return null;
        }
    }
}
