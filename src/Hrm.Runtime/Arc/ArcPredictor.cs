namespace Hrm.Runtime.Arc;

/// <summary>
/// Runs a model on a batch of ARC rows: N token rows of 900 (<see cref="ArcEncoding"/>) with their puzzle
/// identifiers, giving the predicted token (argmax) of every position and the q_halt logit of every row.
/// <see cref="ArcTaskSolver"/> passes all rows of a task at once (test inputs x views, e.g. 2 x 1001); a predictor
/// may run them in chunks of its own batch size.
/// </summary>
/// <param name="tokens">(N, 900) input tokens.</param>
/// <param name="puzzleIds">(N) puzzle identifiers.</param>
/// <returns>PredictedTokens (N, 900) and QHalt (N) logits.</returns>
public delegate (int[] PredictedTokens, float[] QHalt) ArcPredictor(ReadOnlySpan<int> tokens,
    ReadOnlySpan<int> puzzleIds);
