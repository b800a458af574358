namespace Hrm.Runtime.Backends.Cuda.Interop;

/// <summary>
/// Owned page-locked host memory (<c>cuMemHostAlloc</c> with <c>CU_MEMHOSTALLOC_PORTABLE</c>, freed with
/// <c>cuMemFreeHost</c>): the source or destination of asynchronous copies.
/// </summary>
internal sealed unsafe class PinnedHostBuffer<T> : CudaContextHandle where T : unmanaged
{
    private PinnedHostBuffer(CudaPrimaryContext context, void* pointer, int length)
        : base(context, (nint)pointer)
    {
        Length = length;
    }

    /// <summary>Number of elements.</summary>
    public int Length { get; }

    /// <summary>Size in bytes.</summary>
    public long Bytes => (long)Length * sizeof(T);

    /// <summary>The host address.</summary>
    public void* Address => (void*)Raw;

    /// <summary>The memory as a span (valid until disposal).</summary>
    public Span<T> Span => new(Address, Length);

    /// <summary>Allocates <paramref name="length"/> pinned elements (uninitialised).</summary>
    public static PinnedHostBuffer<T> Allocate(CudaPrimaryContext context, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        context.MakeCurrent();
        void* pointer;
        CudaCheck.Driver(CuDriver.cuMemHostAlloc(&pointer, (nuint)Math.Max(1L, (long)length * sizeof(T)),
            CuFlags.MemHostAllocPortable));
        try
        {
            return new PinnedHostBuffer<T>(context, pointer, length);
        }
        catch
        {
            _ = CuDriver.cuMemFreeHost(pointer);
            throw;
        }
    }

    /// <inheritdoc/>
    protected override bool Free(nint nativeHandle) => Released(CuDriver.cuMemFreeHost((void*)nativeHandle));
}
