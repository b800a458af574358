namespace Hrm.Runtime.Backends.Cuda.Interop;

/// <summary>
/// One owned device allocation of <see cref="Length"/> elements of <typeparamref name="T"/>
/// (<c>cuMemAlloc_v2</c> / <c>cuMemFree_v2</c>). Synchronous copies make the context current; asynchronous ones
/// take pinned host memory only (a managed span may move before the copy runs) and assume the caller's thread
/// already has the context current.
/// </summary>
internal sealed unsafe class DeviceBuffer<T> : CudaContextHandle where T : unmanaged
{
    private DeviceBuffer(CudaPrimaryContext context, ulong pointer, long length)
        : base(context, (nint)pointer)
    {
        Length = length;
    }

    /// <summary>Number of elements.</summary>
    public long Length { get; }

    /// <summary>Size in bytes.</summary>
    public long Bytes => Length * sizeof(T);

    /// <summary>The device address (<c>CUdeviceptr</c>).</summary>
    public ulong Pointer => (ulong)Raw;

    /// <summary>Allocates <paramref name="length"/> elements (uninitialised; at least one byte is allocated).</summary>
    public static DeviceBuffer<T> Allocate(CudaPrimaryContext context, long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        context.MakeCurrent();
        ulong pointer;
        CudaCheck.Driver(CuDriver.cuMemAlloc_v2(&pointer, (nuint)Math.Max(1, length * sizeof(T))));
        try
        {
            return new DeviceBuffer<T>(context, pointer, length);
        }
        catch
        {
            _ = CuDriver.cuMemFree_v2(pointer);
            throw;
        }
    }

    /// <summary>Copies all of <paramref name="source"/> to the start of the buffer and waits.</summary>
    public void CopyFromHost(ReadOnlySpan<T> source)
    {
        CheckCount(source.Length);
        Context.MakeCurrent();
        fixed (T* src = source)
            CudaCheck.Driver(CuDriver.cuMemcpyHtoD_v2(Pointer, src, (nuint)(source.Length * sizeof(T))));
        // From pageable memory the copy may return before the DMA lands, and non-blocking streams do not wait for
        // the legacy stream it ran on: wait for the device, so the next launch on any stream sees the data.
        CudaCheck.Driver(CuDriver.cuCtxSynchronize());
    }

    /// <summary>Copies the first <c>destination.Length</c> elements to the host and waits.</summary>
    public void CopyToHost(Span<T> destination)
    {
        CheckCount(destination.Length);
        Context.MakeCurrent();
        fixed (T* dst = destination)
            CudaCheck.Driver(CuDriver.cuMemcpyDtoH_v2(dst, Pointer, (nuint)(destination.Length * sizeof(T))));
    }

    /// <summary>Queues a copy of all of <paramref name="source"/> to the start of the buffer.</summary>
    public void CopyFromHostAsync(PinnedHostBuffer<T> source, CudaStream stream)
    {
        CheckCount(source.Length);
        CudaCheck.Driver(CuDriver.cuMemcpyHtoDAsync_v2(Pointer, source.Address, (nuint)source.Bytes, stream.Raw));
    }

    /// <summary>Queues a copy of the first <c>destination.Length</c> elements to pinned host memory.</summary>
    public void CopyToHostAsync(PinnedHostBuffer<T> destination, CudaStream stream)
    {
        CheckCount(destination.Length);
        CudaCheck.Driver(
            CuDriver.cuMemcpyDtoHAsync_v2(destination.Address, Pointer, (nuint)destination.Bytes, stream.Raw));
    }

    /// <summary>Queues a device-to-device copy of all of <paramref name="source"/> to the buffer's start.</summary>
    public void CopyFromAsync(DeviceBuffer<T> source, CudaStream stream)
    {
        CheckCount(source.Length);
        CudaCheck.Driver(CuDriver.cuMemcpyDtoDAsync_v2(Pointer, source.Pointer, (nuint)source.Bytes, stream.Raw));
    }

    /// <summary>Queues filling the whole buffer with the 32-bit pattern <paramref name="value"/>.</summary>
    public void FillAsync(uint value, CudaStream stream)
    {
        if (Bytes % 4 != 0)
            throw new ArgumentException($"FillAsync needs a multiple of 4 bytes; the buffer has {Bytes} bytes");
        CudaCheck.Driver(CuDriver.cuMemsetD32Async(Pointer, value, (nuint)(Bytes / 4), stream.Raw));
    }

    /// <inheritdoc/>
    protected override bool Free(nint nativeHandle) => Released(CuDriver.cuMemFree_v2((ulong)nativeHandle));

    private void CheckCount(long count)
    {
        if (count > Length)
            throw new ArgumentException($"copy of {count} elements does not fit a device buffer of {Length}");
    }
}
