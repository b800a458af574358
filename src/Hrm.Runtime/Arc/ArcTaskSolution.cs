namespace Hrm.Runtime.Arc;

/// <summary>The answers to an ARC task: one <see cref="ArcTestSolution"/> per test input, in task order.</summary>
/// <param name="TaskId">The task id.</param>
/// <param name="Views">Views run per test input (the task's views in the identifiers, the original included).
/// </param>
/// <param name="Tests">One solution per test pair of the task.</param>
public sealed record ArcTaskSolution(string TaskId, int Views, IReadOnlyList<ArcTestSolution> Tests);
