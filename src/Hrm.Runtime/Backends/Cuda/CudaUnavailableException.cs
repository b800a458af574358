namespace Hrm.Runtime.Backends.Cuda;

/// <summary>
/// A CUDA backend was asked for (<c>--device cuda</c>) but cannot be created on this machine: no driver, no GPU,
/// NVRTC or cuBLAS missing, or the kernels do not build for the device. <see cref="Reason"/> says which, with every
/// library path that was tried.
/// </summary>
public sealed class CudaUnavailableException : Exception
{
    /// <summary>Creates an empty exception.</summary>
    public CudaUnavailableException()
    {
        Reason = "";
    }

    /// <summary>Creates the exception with a reason; the message is <c>"no usable CUDA device: {reason}"</c>.</summary>
    /// <param name="reason">What failed and what was tried.</param>
    public CudaUnavailableException(string reason) : base(Format(reason))
    {
        Reason = reason;
    }

    /// <summary>Creates the exception with a reason and the exception that caused it.</summary>
    /// <param name="reason">What failed and what was tried.</param>
    /// <param name="innerException">The underlying exception.</param>
    public CudaUnavailableException(string reason, Exception innerException) : base(Format(reason), innerException)
    {
        Reason = reason;
    }

    /// <summary>What failed and what was tried.</summary>
    public string Reason { get; }

    private static string Format(string reason) =>
        $"no usable CUDA device: {reason}\n" +
        "---> HINT: --device cpu runs everywhere; --device auto picks CUDA when it works and the CPU otherwise.";
}
