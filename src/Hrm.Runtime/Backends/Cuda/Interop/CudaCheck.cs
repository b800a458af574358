using System.Runtime.CompilerServices;

namespace Hrm.Runtime.Backends.Cuda.Interop;

/// <summary>
/// The one place where native status codes become exceptions. Wrap every call:
/// <c>CudaCheck.Driver(CuDriver.cuMemAlloc_v2(&amp;p, n));</c>. The exception carries the call name (taken from the
/// expression), the numeric code, the library's name and text for it, and the expression itself.
/// </summary>
internal static class CudaCheck
{
    /// <summary>Throws <see cref="CudaException"/> unless <paramref name="result"/> is <c>CUDA_SUCCESS</c>.</summary>
    public static void Driver(CuResult result, [CallerArgumentExpression(nameof(result))] string expression = "")
    {
        if (result != CuResult.Success) throw DriverError(result, expression);
    }

    /// <summary>Throws <see cref="CudaException"/> unless <paramref name="result"/> is <c>NVRTC_SUCCESS</c>.</summary>
    public static void Nvrtc(NvrtcResult result, [CallerArgumentExpression(nameof(result))] string expression = "")
    {
        if (result == NvrtcResult.Success) return;
        string name = CudaErrorText.Nvrtc(result);
        throw new CudaException(CudaErrorKind.Nvrtc, CallName(expression), (int)result, name, name, expression);
    }

    /// <summary>Throws <see cref="CudaException"/> unless <paramref name="status"/> is success.</summary>
    public static void Cublas(CublasStatus status, [CallerArgumentExpression(nameof(status))] string expression = "")
    {
        if (status == CublasStatus.Success) return;
        throw new CudaException(CudaErrorKind.Cublas, CallName(expression), (int)status,
            CudaErrorText.CublasName(status), CudaErrorText.CublasText(status), expression);
    }

    /// <summary>The exception for a failing driver call (for callers that add their own context).</summary>
    public static CudaException DriverError(CuResult result, string expression) =>
        new(CudaErrorKind.Driver, CallName(expression), (int)result, CudaErrorText.DriverName(result),
            CudaErrorText.DriverText(result), expression);

    /// <summary>
    /// The native function named by a checked expression: the identifier before the first '(' with any
    /// qualifier dropped (<c>"CuDriver.cuMemAlloc_v2(&amp;p, n)"</c> → <c>"cuMemAlloc_v2"</c>).
    /// </summary>
    public static string CallName(string expression)
    {
        int paren = expression.IndexOf('(', StringComparison.Ordinal);
        string head = (paren < 0 ? expression : expression[..paren]).Trim();
        int dot = head.LastIndexOf('.');
        return dot < 0 ? head : head[(dot + 1)..];
    }
}
