namespace Hrm.Runtime.Loss;

/// <summary>The LM loss of spec 2.1 (<c>loss_type</c>).</summary>
public enum LossType
{
    /// <summary>stablemax_cross_entropy (default): s(x) = 1/(1 − x + 1e-30) for x &lt; 0, x + 1 for x ≥ 0.</summary>
    StablemaxCrossEntropy,

    /// <summary>softmax_cross_entropy (the full Sudoku-Hard run).</summary>
    SoftmaxCrossEntropy,
}
