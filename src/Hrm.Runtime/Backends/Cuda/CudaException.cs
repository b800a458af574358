namespace Hrm.Runtime.Backends.Cuda;

/// <summary>
/// A CUDA library call returned a failure status. The message reads
/// <c>"{call} failed: {ErrorName} ({Code}): {ErrorText}"</c>, followed by the failing C# expression when it says
/// more than the call name, e.g. <c>cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory</c>.
/// </summary>
public class CudaException : Exception
{
    /// <summary>Creates an empty exception.</summary>
    public CudaException()
    {
        Call = "";
        ErrorName = "";
        ErrorText = "";
    }

    /// <summary>Creates the exception with a plain message.</summary>
    /// <param name="message">The complete error message.</param>
    public CudaException(string message) : base(message)
    {
        Call = "";
        ErrorName = "";
        ErrorText = "";
    }

    /// <summary>Creates the exception with a plain message and the exception that caused it.</summary>
    /// <param name="message">The complete error message.</param>
    /// <param name="innerException">The underlying exception.</param>
    public CudaException(string message, Exception innerException) : base(message, innerException)
    {
        Call = "";
        ErrorName = "";
        ErrorText = "";
    }

    /// <summary>Creates the exception for a failing status of <paramref name="call"/>.</summary>
    /// <param name="kind">The library that failed.</param>
    /// <param name="call">The native function, e.g. <c>cuMemAlloc_v2</c>.</param>
    /// <param name="code">The numeric status code.</param>
    /// <param name="errorName">The status name, e.g. <c>CUDA_ERROR_OUT_OF_MEMORY</c>.</param>
    /// <param name="errorText">The library's description of the status.</param>
    /// <param name="expression">The failing C# expression ("" when unknown).</param>
    /// <param name="detail">More lines for the message, e.g. a JIT error log ("" for none).</param>
    public CudaException(CudaErrorKind kind, string call, int code, string errorName, string errorText,
        string expression = "", string detail = "")
        : this(Format(call, code, errorName, errorText, expression, detail), kind, call, code, errorName, errorText)
    {
    }

    /// <summary>Creates the exception with a complete message and the status fields (for subclasses).</summary>
    /// <param name="message">The complete error message.</param>
    /// <param name="kind">The library that failed.</param>
    /// <param name="call">The native function.</param>
    /// <param name="code">The numeric status code.</param>
    /// <param name="errorName">The status name.</param>
    /// <param name="errorText">The library's description of the status.</param>
    protected CudaException(string message, CudaErrorKind kind, string call, int code, string errorName,
        string errorText)
        : base(message)
    {
        Kind = kind;
        Call = call;
        Code = code;
        ErrorName = errorName;
        ErrorText = errorText;
    }

    /// <summary>The library that reported the failure.</summary>
    public CudaErrorKind Kind { get; }

    /// <summary>The native function that failed, e.g. <c>cuLaunchKernel</c> ("" when not tied to one call).</summary>
    public string Call { get; }

    /// <summary>The numeric status code (<c>CUresult</c>, <c>nvrtcResult</c> or <c>cublasStatus_t</c>).</summary>
    public int Code { get; }

    /// <summary>The status name, e.g. <c>CUDA_ERROR_INVALID_VALUE</c>, <c>NVRTC_ERROR_COMPILATION</c>.</summary>
    public string ErrorName { get; }

    /// <summary>The library's own description of the status.</summary>
    public string ErrorText { get; }

    private static string Format(string call, int code, string errorName, string errorText, string expression,
        string detail)
    {
        string text = $"{call} failed: {errorName} ({code}): {errorText}";
        if (expression.Length > 0 && expression != call) text += $" [in {expression}]";
        return detail.Length == 0 ? text : $"{text}\n{detail}";
    }
}
