namespace Hrm.Runtime.Backends.Cuda.Interop;

/// <summary>An owned cuBLASLt handle (<c>cublasLtCreate</c> / <c>cublasLtDestroy</c>).</summary>
internal sealed class CublasLtHandle : CudaContextHandle
{
    private CublasLtHandle(CudaPrimaryContext context, nint handle) : base(context, handle)
    {
    }

    /// <summary>Loads cuBLASLt if needed and creates a handle in <paramref name="context"/>.</summary>
    /// <exception cref="CudaLibraryNotFoundException">cuBLASLt is not installed.</exception>
    public static unsafe CublasLtHandle Create(CudaPrimaryContext context)
    {
        CudaLibraryResolver.Load(CudaLibraryNames.CublasLt);
        context.MakeCurrent();
        nint handle;
        CudaCheck.Cublas(CublasLt.cublasLtCreate(&handle));
        return new CublasLtHandle(context, handle);
    }

    /// <inheritdoc/>
    protected override bool Free(nint nativeHandle) =>
        CublasLt.cublasLtDestroy(nativeHandle) == CublasStatus.Success;
}
