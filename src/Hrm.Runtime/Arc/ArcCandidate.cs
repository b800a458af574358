namespace Hrm.Runtime.Arc;

/// <summary>
/// One voted answer for a test input: the grid, how many views predicted it, and their mean confidence.
/// </summary>
/// <param name="Grid">The prediction in the original frame.</param>
/// <param name="Count">Views that predicted it.</param>
/// <param name="MeanQ">Mean sigmoid(q_halt) of those views.</param>
public sealed record ArcCandidate(ArcGrid Grid, int Count, double MeanQ);
