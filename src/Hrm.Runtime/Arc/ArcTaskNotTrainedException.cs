namespace Hrm.Runtime.Arc;

/// <summary>
/// An ARC task that the model was not trained on: its identifiers list no view of it. An HRM for ARC solves only
/// tasks whose demonstrations it was trained on, because each view of a task has a learned puzzle embedding; a
/// task it never saw would run with the blank embedding and its answers would mean nothing.
/// </summary>
public sealed class ArcTaskNotTrainedException : Exception
{
    /// <summary>Creates an empty exception.</summary>
    public ArcTaskNotTrainedException()
    {
        TaskId = "";
        IdentifiersPath = "";
    }

    /// <summary>Creates the exception with a plain message.</summary>
    /// <param name="message">The complete error message.</param>
    public ArcTaskNotTrainedException(string message) : base(message)
    {
        TaskId = "";
        IdentifiersPath = "";
    }

    /// <summary>Creates the exception with a plain message and the exception that caused it.</summary>
    /// <param name="message">The complete error message.</param>
    /// <param name="innerException">The underlying exception.</param>
    public ArcTaskNotTrainedException(string message, Exception innerException) : base(message, innerException)
    {
        TaskId = "";
        IdentifiersPath = "";
    }

    /// <summary>Creates the exception for <paramref name="taskId"/>, missing from <paramref name="source"/>.</summary>
    /// <param name="taskId">The task id.</param>
    /// <param name="source">The identifiers.json that lacks it.</param>
    public ArcTaskNotTrainedException(string taskId, string source)
        : base($"ARC task '{taskId}' has no views in {source}: the model was not trained on it. An HRM for ARC only " +
               "solves tasks whose demonstrations it was trained on (each view has a learned puzzle embedding); " +
               "build a dataset that includes the task (hrm data arc) and train on it, or check the task id (the " +
               "file name or the JSON's \"name\")")
    {
        TaskId = taskId;
        IdentifiersPath = source;
    }

    /// <summary>The task id ("" when not given).</summary>
    public string TaskId { get; }

    /// <summary>The identifiers file that lacks the task ("" when not given).</summary>
    public string IdentifiersPath { get; }
}
