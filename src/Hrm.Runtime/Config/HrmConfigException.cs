namespace Hrm.Runtime.Config;

/// <summary>An invalid or unreadable model configuration; <see cref="Field"/> names the offending key.</summary>
public sealed class HrmConfigException : Exception
{
    /// <summary>Creates the exception for <paramref name="field"/>.</summary>
    public HrmConfigException(string field, string problem)
        : base($"config field '{field}': {problem}") => Field = field;

    /// <summary>Creates the exception with a plain message.</summary>
    public HrmConfigException(string message) : base(message) => Field = "";

    /// <summary>Creates the exception with a complete message for <paramref name="field"/> (e.g. the file that held
    /// it, prefixed to <paramref name="inner"/>'s message).</summary>
    public HrmConfigException(string message, string field, Exception inner) : base(message, inner) => Field = field;

    /// <summary>Creates the exception with a plain message and an inner exception.</summary>
    public HrmConfigException(string message, Exception inner) : base(message, inner) => Field = "";

    /// <summary>Creates an empty exception.</summary>
    public HrmConfigException() => Field = "";

    /// <summary>The reference key name of the invalid field ("" when not tied to one field).</summary>
    public string Field { get; }
}
