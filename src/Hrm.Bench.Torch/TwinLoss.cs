using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Hrm.Bench.Torch;

/// <summary>The ACT loss of spec 2.1-2.2 with autograd: stablemax cross-entropy in float64 plus the Q BCE terms.</summary>
public static class TwinLoss
{
    public const long IgnoreLabel = -100;

    /// <summary>
    /// total = Σ_b Σ_t CE / max(n_b, 1) + 0.5·(BCE(q_halt, seq_correct) + BCE(q_continue, target)), summed over
    /// rows. The caller owns the result.
    /// </summary>
    /// <param name="logits">(B, L, V).</param>
    /// <param name="labels">(B, L) int64, −100 = no loss.</param>
    /// <param name="q">(B, 2): halt, continue.</param>
    /// <param name="targetQContinue">(B) in [0, 1].</param>
    /// <param name="seqCorrect">(B) bool: every valid position's argmax equals its label.</param>
    public static Tensor Total(Tensor logits, Tensor labels, Tensor q, Tensor targetQContinue, out Tensor seqCorrect)
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor x = logits.to_type(ScalarType.Float64);
        // s(x) = 1/(1 − x + 1e-30) for x < 0, x + 1 otherwise; log_stablemax = log(s / Σ s).
        Tensor s = where(x.lt(0), (1.0 - x + 1e-30).reciprocal(), x + 1.0);
        Tensor logp = (s / s.sum(-1, keepdim: true)).log();
        Tensor valid = labels.ne(IgnoreLabel);
        Tensor index = where(valid, labels, zeros_like(labels));
        Tensor ce = -where(valid, logp.gather(-1, index.unsqueeze(-1)).squeeze(-1), zeros_like(x.select(-1, 0)));
        Tensor div = valid.sum(-1).clamp_min(1).to_type(ScalarType.Float64);
        Tensor lm = (ce.sum(-1) / div).sum();
        Tensor correct = logits.detach().argmax(-1).eq(labels).logical_or(valid.logical_not());
        Tensor seq = correct.all(-1);
        Tensor qf = q.to_type(ScalarType.Float64);
        Tensor halt = F.binary_cross_entropy_with_logits(qf.select(1, 0), seq.to_type(ScalarType.Float64),
            reduction: nn.Reduction.Sum);
        Tensor cont = F.binary_cross_entropy_with_logits(qf.select(1, 1), targetQContinue.to_type(ScalarType.Float64),
            reduction: nn.Reduction.Sum);
        Tensor total = lm + 0.5 * (halt + cont);
        seqCorrect = scope.MoveToOuter(seq);
        return scope.MoveToOuter(total);
    }
}
