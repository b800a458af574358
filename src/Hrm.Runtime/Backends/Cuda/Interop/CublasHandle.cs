namespace Hrm.Runtime.Backends.Cuda.Interop;

/// <summary>An owned classic cuBLAS handle (<c>cublasCreate_v2</c> / <c>cublasDestroy_v2</c>).</summary>
internal sealed class CublasHandle : CudaContextHandle
{
    private CublasHandle(CudaPrimaryContext context, nint handle) : base(context, handle)
    {
    }

    /// <summary>Loads cuBLAS if needed and creates a handle in <paramref name="context"/>.</summary>
    /// <exception cref="CudaLibraryNotFoundException">cuBLAS is not installed.</exception>
    public static unsafe CublasHandle Create(CudaPrimaryContext context)
    {
        CudaLibraryResolver.Load(CudaLibraryNames.Cublas);
        context.MakeCurrent();
        nint handle;
        CudaCheck.Cublas(Cublas.cublasCreate_v2(&handle));
        return new CublasHandle(context, handle);
    }

    /// <summary>Makes later calls on this handle run on <paramref name="stream"/>.</summary>
    public void SetStream(CudaStream stream) => CudaCheck.Cublas(Cublas.cublasSetStream_v2(Raw, stream.Raw));

    /// <inheritdoc/>
    protected override bool Free(nint nativeHandle) => Cublas.cublasDestroy_v2(nativeHandle) == CublasStatus.Success;
}
