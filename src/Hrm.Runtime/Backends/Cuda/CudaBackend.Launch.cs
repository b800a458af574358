using System.Runtime.CompilerServices;

namespace Hrm.Runtime.Backends.Cuda;

/// <summary>Kernel launches (with the signature check) and the optional wait after each op.</summary>
public sealed unsafe partial class CudaBackend
{
    /// <summary>
    /// Queues <paramref name="kernel"/> on the stream. <paramref name="signature"/> is what the caller packed into
    /// <paramref name="args"/> (see <see cref="CudaKernels.Table"/>); a mismatch with the kernel's signature is a
    /// programming error and throws before anything is launched.
    /// </summary>
    private void Launch(in Kernel kernel, string signature, Dim3 grid, Dim3 block, uint sharedBytes, void** args)
    {
        CheckSignature(kernel, signature);
        kernel.Function.Launch(_stream, grid, block, sharedBytes, args);
        Launches++;
    }

    /// <summary><see cref="Launch"/> as a cooperative launch (<see cref="CudaFunction.LaunchCooperative"/>).</summary>
    private void LaunchCooperative(in Kernel kernel, string signature, Dim3 grid, Dim3 block, uint sharedBytes,
        void** args)
    {
        CheckSignature(kernel, signature);
        kernel.Function.LaunchCooperative(_stream, grid, block, sharedBytes, args);
        Launches++;
    }

    private static void CheckSignature(in Kernel kernel, string signature)
    {
        if (!ReferenceEquals(signature, kernel.Parameters) && signature != kernel.Parameters)
        {
            throw new InvalidOperationException($"launch of {kernel.Function.Name}: packed parameters " +
                $"'{signature}', the kernel takes '{kernel.Parameters}'");
        }
    }

    /// <summary>
    /// After an op: waits for it when <see cref="CudaBackendOptions.SynchronizeEachOp"/> is set; in a capture with an
    /// op timeline (<see cref="StartOpTimeline"/>), records its event node, named after the calling method (a composite
    /// op's parts mark themselves: MatmulSwiGluForward as MatmulForward and SwiGluForward).
    /// </summary>
    private void Done([CallerMemberName] string op = "")
    {
        if (_syncEach) _stream.Synchronize();
        _timeline?.Mark(op);
    }
}
