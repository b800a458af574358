namespace Hrm.Runtime.Backends;

/// <summary>The op families of <see cref="IHrmBackend"/>, for <see cref="IHrmBackend.SupportsOp"/>.</summary>
public enum HrmOp
{
    /// <summary>Fill, Copy, Add, ResetCarry, GatherRows.</summary>
    Elementwise,

    /// <summary>Token embedding + puzzle prefix + scale.</summary>
    Embedding,

    /// <summary>Linear layers (GEMM).</summary>
    Matmul,

    /// <summary>Rotary position embedding.</summary>
    Rope,

    /// <summary>Non-causal attention.</summary>
    Attention,

    /// <summary>Residual add + RMSNorm.</summary>
    RmsNorm,

    /// <summary>SwiGLU activation.</summary>
    SwiGlu,

    /// <summary>lm_head and Q head.</summary>
    Heads,

    /// <summary>Optimiser steps: AdamATan2 over the dense parameters, SignSGD over puzzle-embedding rows.</summary>
    Optimizer,

    /// <summary>The ACT loss head: stablemax or softmax cross-entropy and the two Q BCE terms, with gradients.</summary>
    StablemaxCe,

    /// <summary>ACT bookkeeping where the carry lives: SelectRows, ActHalt, ActTarget, ActMetrics.</summary>
    Act,
}
