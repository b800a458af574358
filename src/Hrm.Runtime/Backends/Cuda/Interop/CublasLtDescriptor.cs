using System.Runtime.InteropServices;

namespace Hrm.Runtime.Backends.Cuda.Interop;

/// <summary>
/// An owned cuBLASLt host-side descriptor: a matmul descriptor, a matrix layout or a matmul preference. These
/// are plain host objects (no context needed); each is destroyed with its own <c>...Destroy</c> call.
/// </summary>
internal sealed unsafe class CublasLtDescriptor : SafeHandle
{
    private readonly Kind _kind;

    private CublasLtDescriptor(Kind kind, nint handle) : base(0, ownsHandle: true)
    {
        _kind = kind;
        SetHandle(handle);
    }

    private enum Kind
    {
        MatmulDesc,
        MatrixLayout,
        Preference,
    }

    /// <inheritdoc/>
    public override bool IsInvalid => handle == 0;

    /// <summary>The raw descriptor; throws once disposed.</summary>
    public nint Raw
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsClosed, this);
            return handle;
        }
    }

    /// <summary><c>cublasLtMatmulDescCreate</c>.</summary>
    public static CublasLtDescriptor MatmulDesc(CublasComputeType compute, CudaDataType scale)
    {
        nint h;
        CudaCheck.Cublas(CublasLt.cublasLtMatmulDescCreate(&h, compute, scale));
        return new CublasLtDescriptor(Kind.MatmulDesc, h);
    }

    /// <summary>
    /// <c>cublasLtMatrixLayoutCreate</c>: a column-major <paramref name="rows"/> × <paramref name="cols"/> matrix.
    /// </summary>
    public static CublasLtDescriptor MatrixLayout(CudaDataType type, ulong rows, ulong cols, long ld)
    {
        nint h;
        CudaCheck.Cublas(CublasLt.cublasLtMatrixLayoutCreate(&h, type, rows, cols, ld));
        return new CublasLtDescriptor(Kind.MatrixLayout, h);
    }

    /// <summary><c>cublasLtMatmulPreferenceCreate</c>.</summary>
    public static CublasLtDescriptor Preference()
    {
        nint h;
        CudaCheck.Cublas(CublasLt.cublasLtMatmulPreferenceCreate(&h));
        return new CublasLtDescriptor(Kind.Preference, h);
    }

    /// <summary>Sets a 32-bit matmul descriptor attribute (transposes, compute and scale types).</summary>
    public void Set(CublasLtMatmulDescAttribute attribute, int value) =>
        CudaCheck.Cublas(CublasLt.cublasLtMatmulDescSetAttribute(Raw, attribute, &value, sizeof(int)));

    /// <summary>Sets a 32-bit matrix layout attribute (e.g. batch count).</summary>
    public void Set(CublasLtMatrixLayoutAttribute attribute, int value) =>
        CudaCheck.Cublas(CublasLt.cublasLtMatrixLayoutSetAttribute(Raw, attribute, &value, sizeof(int)));

    /// <summary>Sets a 64-bit matrix layout attribute (e.g. strided batch offset in elements).</summary>
    public void Set(CublasLtMatrixLayoutAttribute attribute, long value) =>
        CudaCheck.Cublas(CublasLt.cublasLtMatrixLayoutSetAttribute(Raw, attribute, &value, sizeof(long)));

    /// <summary>Sets a 32-bit preference attribute (the minimum alignments, in bytes).</summary>
    public void Set(CublasLtMatmulPreferenceAttribute attribute, uint value) =>
        CudaCheck.Cublas(CublasLt.cublasLtMatmulPreferenceSetAttribute(Raw, attribute, &value, sizeof(uint)));

    /// <summary>Sets a 64-bit preference attribute (e.g. maximum workspace bytes).</summary>
    public void Set(CublasLtMatmulPreferenceAttribute attribute, ulong value) =>
        CudaCheck.Cublas(CublasLt.cublasLtMatmulPreferenceSetAttribute(Raw, attribute, &value, sizeof(ulong)));

    /// <inheritdoc/>
    protected override bool ReleaseHandle() => _kind switch
    {
        Kind.MatmulDesc => CublasLt.cublasLtMatmulDescDestroy(handle),
        Kind.MatrixLayout => CublasLt.cublasLtMatrixLayoutDestroy(handle),
        _ => CublasLt.cublasLtMatmulPreferenceDestroy(handle),
    } == CublasStatus.Success;
}
