namespace Hrm.Runtime.Backends.Cuda;

/// <summary>
/// NVRTC rejected a kernel source. The message names the source and the NVRTC status, lists the options, and
/// ends with the full program log (every error with its file and line).
/// </summary>
public sealed class NvrtcCompileException : CudaException
{
    /// <summary>Creates an empty exception.</summary>
    public NvrtcCompileException()
    {
        SourceName = "";
        Log = "";
        Options = [];
    }

    /// <summary>Creates the exception with a plain message.</summary>
    /// <param name="message">The complete error message.</param>
    public NvrtcCompileException(string message) : base(message)
    {
        SourceName = "";
        Log = "";
        Options = [];
    }

    /// <summary>Creates the exception with a plain message and the exception that caused it.</summary>
    /// <param name="message">The complete error message.</param>
    /// <param name="innerException">The underlying exception.</param>
    public NvrtcCompileException(string message, Exception innerException) : base(message, innerException)
    {
        SourceName = "";
        Log = "";
        Options = [];
    }

    /// <summary>Creates the exception for a failed <c>nvrtcCompileProgram</c>.</summary>
    /// <param name="sourceName">The name of the compiled source, e.g. <c>rms_norm.cu</c>.</param>
    /// <param name="code">The <c>nvrtcResult</c>.</param>
    /// <param name="errorName">The result's name from <c>nvrtcGetErrorString</c>.</param>
    /// <param name="options">The options passed to NVRTC.</param>
    /// <param name="log">The complete program log.</param>
    public NvrtcCompileException(string sourceName, int code, string errorName, IReadOnlyList<string> options,
        string log)
        : base(Format(sourceName, code, errorName, options, log), CudaErrorKind.Nvrtc, "nvrtcCompileProgram", code,
            errorName, errorName)
    {
        SourceName = sourceName;
        Log = log;
        Options = options;
    }

    /// <summary>The name of the source that failed to compile.</summary>
    public string SourceName { get; }

    /// <summary>The complete NVRTC program log.</summary>
    public string Log { get; }

    /// <summary>The options the compile ran with.</summary>
    public IReadOnlyList<string> Options { get; }

    private static string Format(string sourceName, int code, string errorName, IReadOnlyList<string> options,
        string log) =>
        $"NVRTC could not compile '{sourceName}': {errorName} ({code})\n" +
        $"options: {string.Join(' ', options)}\n" +
        $"--- NVRTC log ---\n{log.TrimEnd()}\n" +
        "---> HINT: the file and line of each error are in the log above.";
}
