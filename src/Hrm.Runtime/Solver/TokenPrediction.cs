using Hrm.Runtime.Numerics;

namespace Hrm.Runtime.Solver;

/// <summary>What the model answered for one token row (<see cref="HrmSolver.Predict"/>).</summary>
/// <param name="Tokens">The argmax token at every position after the last segment (L).</param>
/// <param name="QHaltLogit">The Q head's halt logit after the last segment.</param>
/// <param name="QContinueLogit">The Q head's continue logit after the last segment.</param>
/// <param name="Segments">Segments the row ran.</param>
/// <param name="StableSince">The segment (1-based) since which <paramref name="Tokens"/> has not changed.</param>
/// <param name="Elapsed">Time from the row entering a batch slot to its completion (queueing excluded).</param>
public sealed record TokenPrediction(int[] Tokens, float QHaltLogit, float QContinueLogit, int Segments,
    int StableSince, TimeSpan Elapsed)
{
    /// <summary>sigmoid(q_halt): the model's own estimate that its answer is right.</summary>
    public double HaltConfidence => Logits.Sigmoid(QHaltLogit);
}
