namespace Hrm.Runtime.Backends.Cuda.Interop;

/// <summary>An instantiated, launchable CUDA graph (<c>CUgraphExec</c>).</summary>
internal sealed class CudaGraphExec : CudaContextHandle
{
    internal CudaGraphExec(CudaPrimaryContext context, nint exec) : base(context, exec)
    {
    }

    /// <summary>Launches the whole graph on <paramref name="stream"/>.</summary>
    public void Launch(CudaStream stream) => CudaCheck.Driver(CuDriver.cuGraphLaunch(Raw, stream.Raw));

    /// <inheritdoc/>
    protected override bool Free(nint nativeHandle) => Released(CuDriver.cuGraphExecDestroy(nativeHandle));
}
