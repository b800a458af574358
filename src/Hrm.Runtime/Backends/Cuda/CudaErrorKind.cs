namespace Hrm.Runtime.Backends.Cuda;

/// <summary>Which CUDA library reported a failing status code.</summary>
public enum CudaErrorKind
{
    /// <summary>The CUDA driver API (<c>CUresult</c>).</summary>
    Driver,

    /// <summary>The NVRTC runtime compiler (<c>nvrtcResult</c>).</summary>
    Nvrtc,

    /// <summary>cuBLAS or cuBLASLt (<c>cublasStatus_t</c>).</summary>
    Cublas,
}
