namespace Hrm.Runtime.Formats;

/// <summary>
/// A malformed or unsupported model/data file. The message names the file, the offending tensor or field,
/// what was expected and what was found: <c>"{path}: {field}: {problem}"</c>.
/// </summary>
public sealed class HrmFormatException : Exception
{
    /// <summary>Creates an empty exception.</summary>
    public HrmFormatException()
    {
        Path = "";
        Field = "";
    }

    /// <summary>Creates the exception with a plain message.</summary>
    /// <param name="message">The complete error message.</param>
    public HrmFormatException(string message) : base(message)
    {
        Path = "";
        Field = "";
    }

    /// <summary>Creates the exception with a plain message and the exception that caused it.</summary>
    /// <param name="message">The complete error message.</param>
    /// <param name="innerException">The underlying exception.</param>
    public HrmFormatException(string message, Exception innerException) : base(message, innerException)
    {
        Path = "";
        Field = "";
    }

    /// <summary>Creates the exception for <paramref name="field"/> of the file at <paramref name="path"/>.</summary>
    /// <param name="path">The file being read or written.</param>
    /// <param name="field">The tensor name or header field at fault.</param>
    /// <param name="problem">What was expected and what was found.</param>
    public HrmFormatException(string path, string field, string problem)
        : base($"{path}: {field}: {problem}")
    {
        Path = path;
        Field = field;
    }

    /// <summary>Creates the exception for <paramref name="field"/>, wrapping the exception that revealed it.</summary>
    /// <param name="path">The file being read or written.</param>
    /// <param name="field">The tensor name or header field at fault.</param>
    /// <param name="problem">What was expected and what was found.</param>
    /// <param name="innerException">The underlying exception.</param>
    public HrmFormatException(string path, string field, string problem, Exception innerException)
        : base($"{path}: {field}: {problem}", innerException)
    {
        Path = path;
        Field = field;
    }

    /// <summary>The file the problem was found in ("" when not tied to a file).</summary>
    public string Path { get; }

    /// <summary>The tensor name or header field at fault ("" when not tied to one).</summary>
    public string Field { get; }
}
