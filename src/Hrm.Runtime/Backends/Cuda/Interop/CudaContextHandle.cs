using System.Runtime.InteropServices;

namespace Hrm.Runtime.Backends.Cuda.Interop;

/// <summary>
/// Base of every native object that lives in a CUDA context (device memory, streams, events, modules, graphs,
/// cuBLAS handles). It holds a reference on its <see cref="CudaPrimaryContext"/> from construction to release,
/// makes that context current before freeing (finalizers run on their own thread), and never throws on release.
/// Construct only after the native object exists, so a failed create leaves nothing to free.
/// </summary>
internal abstract class CudaContextHandle : SafeHandle
{
    /// <summary>Takes ownership of <paramref name="nativeHandle"/>, created in <paramref name="context"/>.</summary>
    protected CudaContextHandle(CudaPrimaryContext context, nint nativeHandle) : base(0, ownsHandle: true)
    {
        bool added = false;
        context.DangerousAddRef(ref added);
        Context = context;
        SetHandle(nativeHandle);
    }

    /// <summary>The owning context.</summary>
    public CudaPrimaryContext Context { get; }

    /// <inheritdoc/>
    public override bool IsInvalid => handle == 0;

    /// <summary>The raw handle for a P/Invoke; throws once disposed.</summary>
    public nint Raw
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsClosed, this);
            return handle;
        }
    }

    /// <summary>Frees the native object; the owning context is current. Returns the library's status.</summary>
    protected abstract bool Free(nint nativeHandle);

    /// <inheritdoc/>
    protected sealed override bool ReleaseHandle()
    {
        Context.MakeCurrentForRelease();
        bool ok = Free(handle);
        Context.DangerousRelease();
        return ok;
    }

    /// <summary>True for the statuses a release may see at process exit, when the driver is already gone.</summary>
    protected static bool Released(CuResult result) => result is CuResult.Success or CuResult.Deinitialized;
}
