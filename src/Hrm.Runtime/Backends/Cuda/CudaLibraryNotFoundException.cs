namespace Hrm.Runtime.Backends.Cuda;

/// <summary>
/// A CUDA native library (driver, NVRTC, cuBLAS) could not be loaded. The message lists every file name and
/// path that was tried, with the loader's reason for each, and how to point the runtime at the library.
/// </summary>
public sealed class CudaLibraryNotFoundException : Exception
{
    /// <summary>Creates an empty exception.</summary>
    public CudaLibraryNotFoundException()
    {
        LibraryName = "";
        Attempts = [];
    }

    /// <summary>Creates the exception with a plain message.</summary>
    /// <param name="message">The complete error message.</param>
    public CudaLibraryNotFoundException(string message) : base(message)
    {
        LibraryName = "";
        Attempts = [];
    }

    /// <summary>Creates the exception with a plain message and the exception that caused it.</summary>
    /// <param name="message">The complete error message.</param>
    /// <param name="innerException">The underlying exception.</param>
    public CudaLibraryNotFoundException(string message, Exception innerException) : base(message, innerException)
    {
        LibraryName = "";
        Attempts = [];
    }

    /// <summary>Creates the exception for the logical library <paramref name="libraryName"/>.</summary>
    /// <param name="libraryName">The logical name, e.g. <c>nvrtc</c>.</param>
    /// <param name="attempts">Every path tried, each with the reason it failed.</param>
    public CudaLibraryNotFoundException(string libraryName, IReadOnlyList<string> attempts)
        : base(Format(libraryName, attempts))
    {
        LibraryName = libraryName;
        Attempts = attempts;
    }

    /// <summary>The logical library name (<c>cuda</c>, <c>nvrtc</c>, <c>cublasLt</c>, <c>cublas</c>).</summary>
    public string LibraryName { get; }

    /// <summary>Every path tried, each followed by the loader's reason in parentheses.</summary>
    public IReadOnlyList<string> Attempts { get; }

    /// <summary>The one-paragraph description used as the message (also for <c>TryCreate</c> reasons).</summary>
    /// <param name="libraryName">The logical name.</param>
    /// <param name="attempts">Every path tried.</param>
    public static string Format(string libraryName, IReadOnlyList<string> attempts) =>
        $"could not load the CUDA library '{libraryName}'; tried: {string.Join("; ", attempts)}\n" +
        "---> HINT: install it (see DEVELOPERS.md) or set HRM_CUDA_LIB_DIR to the directory that holds it.";
}
