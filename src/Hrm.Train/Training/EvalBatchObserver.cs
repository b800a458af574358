namespace Hrm.Train.Training;

/// <summary>
/// Sees each evaluated chunk of <see cref="Evaluator.Run"/>: examples [first, first + rows), their logits
/// (rows, L, V) and their q_halt logits (rows). The spans are only valid during the call.
/// </summary>
/// <param name="first">First example of the chunk.</param>
/// <param name="rows">Real rows in the chunk (padding rows are not passed).</param>
/// <param name="logits">(rows, L, V).</param>
/// <param name="qHalt">(rows).</param>
public delegate void EvalBatchObserver(int first, int rows, ReadOnlySpan<float> logits, ReadOnlySpan<float> qHalt);
