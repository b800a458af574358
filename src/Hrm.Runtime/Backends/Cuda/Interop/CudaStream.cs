namespace Hrm.Runtime.Backends.Cuda.Interop;

/// <summary>
/// An owned CUDA stream (<c>cuStreamCreate</c>, non-blocking by default), with stream capture into a
/// <see cref="CudaGraph"/>.
/// </summary>
internal sealed class CudaStream : CudaContextHandle
{
    private CudaStream(CudaPrimaryContext context, nint stream) : base(context, stream)
    {
    }

    /// <summary>Creates a stream; <paramref name="nonBlocking"/> avoids implicit sync with the legacy stream.</summary>
    public static unsafe CudaStream Create(CudaPrimaryContext context, bool nonBlocking = true)
    {
        context.MakeCurrent();
        nint stream;
        CudaCheck.Driver(CuDriver.cuStreamCreate(&stream, nonBlocking ? CuFlags.StreamNonBlocking : 0));
        return new CudaStream(context, stream);
    }

    /// <summary>Waits for all work queued on the stream.</summary>
    public void Synchronize() => CudaCheck.Driver(CuDriver.cuStreamSynchronize(Raw));

    /// <summary>True between <see cref="BeginCapture"/> and the end of that capture: work is recorded, not run,
    /// and nothing may wait for the stream or allocate memory for it.</summary>
    public bool Capturing { get; private set; }

    /// <summary>Starts capturing the work queued on this stream into a graph.</summary>
    public void BeginCapture(CuStreamCaptureMode mode = CuStreamCaptureMode.ThreadLocal)
    {
        CudaCheck.Driver(CuDriver.cuStreamBeginCapture_v2(Raw, mode));
        Capturing = true;
    }

    /// <summary>Ends the capture started by <see cref="BeginCapture"/> and returns the captured graph.</summary>
    public unsafe CudaGraph EndCapture()
    {
        nint graph;
        Capturing = false;
        CudaCheck.Driver(CuDriver.cuStreamEndCapture(Raw, &graph));
        return new CudaGraph(Context, graph);
    }

    /// <summary>Ends a capture whose work is not wanted (or was invalidated by a refused call) and discards it;
    /// the stream runs work again afterwards.</summary>
    public unsafe void AbortCapture()
    {
        nint graph = 0;
        Capturing = false;
        _ = CuDriver.cuStreamEndCapture(Raw, &graph); // CUDA_ERROR_STREAM_CAPTURE_INVALIDATED is expected here
        if (graph != 0) _ = CuDriver.cuGraphDestroy(graph);
    }

    /// <inheritdoc/>
    protected override bool Free(nint nativeHandle) => Released(CuDriver.cuStreamDestroy_v2(nativeHandle));
}
