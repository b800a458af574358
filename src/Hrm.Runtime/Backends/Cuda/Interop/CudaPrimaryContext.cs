using System.Runtime.InteropServices;

namespace Hrm.Runtime.Backends.Cuda.Interop;

/// <summary>
/// A retained primary context (<c>cuDevicePrimaryCtxRetain</c>); released with
/// <c>cuDevicePrimaryCtxRelease_v2</c>. Every other owned handle (<see cref="CudaContextHandle"/>) holds a
/// reference on it, so the context is released only after the last buffer, stream or module is gone, whatever
/// order Dispose or the finalizers run in.
/// </summary>
internal sealed class CudaPrimaryContext : SafeHandle
{
    private CudaPrimaryContext(int device, nint context) : base(0, ownsHandle: true)
    {
        Device = device;
        SetHandle(context);
    }

    /// <summary>The <c>CUdevice</c> the context belongs to.</summary>
    public int Device { get; }

    /// <inheritdoc/>
    public override bool IsInvalid => handle == 0;

    /// <summary>Retains the primary context of <paramref name="device"/> (the driver must be initialised).</summary>
    public static unsafe CudaPrimaryContext Retain(int device)
    {
        nint context;
        CudaCheck.Driver(CuDriver.cuDevicePrimaryCtxRetain(&context, device));
        return new CudaPrimaryContext(device, context);
    }

    /// <summary>Makes the context current on the calling thread (cheap: a thread-local store in the driver).</summary>
    public void MakeCurrent()
    {
        ObjectDisposedException.ThrowIf(IsClosed, this);
        CudaCheck.Driver(CuDriver.cuCtxSetCurrent(handle));
    }

    /// <summary>Sets the context current for a release path: never throws, the result is deliberately unused.</summary>
    internal void MakeCurrentForRelease() => _ = CuDriver.cuCtxSetCurrent(handle);

    /// <summary>Waits for all work in the context (<c>cuCtxSynchronize</c>).</summary>
    public void Synchronize()
    {
        MakeCurrent();
        CudaCheck.Driver(CuDriver.cuCtxSynchronize());
    }

    /// <inheritdoc/>
    protected override bool ReleaseHandle() =>
        CuDriver.cuDevicePrimaryCtxRelease_v2(Device) is CuResult.Success or CuResult.Deinitialized;
}
