namespace Hrm.Runtime.Backends.Cuda.Interop;

/// <summary>An owned loaded module (<c>CUmodule</c>), unloaded with <c>cuModuleUnload</c>.</summary>
internal sealed class CudaModuleHandle : CudaContextHandle
{
    internal CudaModuleHandle(CudaPrimaryContext context, nint module) : base(context, module)
    {
    }

    /// <inheritdoc/>
    protected override bool Free(nint nativeHandle) => Released(CuDriver.cuModuleUnload(nativeHandle));
}
