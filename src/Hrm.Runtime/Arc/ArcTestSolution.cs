namespace Hrm.Runtime.Arc;

/// <summary>The answer to one test input of an ARC task.</summary>
/// <param name="Input">The test input (original frame).</param>
/// <param name="Attempts">The best <see cref="ArcTaskSolver.Attempts"/> candidates at most, best first, ranked as
/// in the evaluation (<see cref="ArcVoting.Ranked"/>); empty when every view's prediction was dropped.</param>
/// <param name="Candidates">Distinct predictions voted for.</param>
/// <param name="DroppedViews">Views whose prediction held no grid (an empty crop) and did not vote.</param>
public sealed record ArcTestSolution(ArcGrid Input, IReadOnlyList<ArcCandidate> Attempts, int Candidates,
    int DroppedViews);
