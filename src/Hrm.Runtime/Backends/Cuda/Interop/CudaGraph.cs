namespace Hrm.Runtime.Backends.Cuda.Interop;

/// <summary>A captured CUDA graph (<see cref="CudaStream.EndCapture"/>); instantiate it to launch it.</summary>
internal sealed class CudaGraph : CudaContextHandle
{
    internal CudaGraph(CudaPrimaryContext context, nint graph) : base(context, graph)
    {
    }

    /// <summary>Instantiates the graph (<c>cuGraphInstantiateWithFlags</c>, flags 0).</summary>
    public unsafe CudaGraphExec Instantiate()
    {
        Context.MakeCurrent();
        nint exec;
        CudaCheck.Driver(CuDriver.cuGraphInstantiateWithFlags(&exec, Raw, 0));
        return new CudaGraphExec(Context, exec);
    }

    /// <inheritdoc/>
    protected override bool Free(nint nativeHandle) => Released(CuDriver.cuGraphDestroy(nativeHandle));
}
