namespace Hrm.Runtime.Backends.Cuda.Interop;

/// <summary>An owned CUDA event (<c>cuEventCreate</c>), for timing and cross-stream ordering.</summary>
internal sealed class CudaEvent : CudaContextHandle
{
    private CudaEvent(CudaPrimaryContext context, nint evt) : base(context, evt)
    {
    }

    /// <summary>Creates an event; <paramref name="timing"/> false makes a cheaper sync-only event.</summary>
    public static unsafe CudaEvent Create(CudaPrimaryContext context, bool timing = true)
    {
        context.MakeCurrent();
        nint evt;
        CudaCheck.Driver(CuDriver.cuEventCreate(&evt, timing ? CuFlags.EventDefault : CuFlags.EventDisableTiming));
        return new CudaEvent(context, evt);
    }

    /// <summary>Records the event on <paramref name="stream"/>.</summary>
    public void Record(CudaStream stream) => CudaCheck.Driver(CuDriver.cuEventRecord(Raw, stream.Raw));

    /// <summary>
    /// Records the event as a node of the graph <paramref name="stream"/> is capturing (<c>cuEventRecordWithFlags</c>
    /// with <c>CU_EVENT_RECORD_EXTERNAL</c>): every replay of the graph records it again, so its time can be read
    /// after each replay. A plain <see cref="Record"/> in a capture only marks a point for cross-stream waits.
    /// </summary>
    public void RecordInGraph(CudaStream stream) =>
        CudaCheck.Driver(CuDriver.cuEventRecordWithFlags(Raw, stream.Raw, CuFlags.EventRecordExternal));

    /// <summary>Waits until the recorded work is complete.</summary>
    public void Synchronize() => CudaCheck.Driver(CuDriver.cuEventSynchronize(Raw));

    /// <summary>Milliseconds between two recorded, completed timing events.</summary>
    public static unsafe float ElapsedMilliseconds(CudaEvent start, CudaEvent end)
    {
        float ms;
        CudaCheck.Driver(CuDriver.cuEventElapsedTime(&ms, start.Raw, end.Raw));
        return ms;
    }

    /// <inheritdoc/>
    protected override bool Free(nint nativeHandle) => Released(CuDriver.cuEventDestroy_v2(nativeHandle));
}
