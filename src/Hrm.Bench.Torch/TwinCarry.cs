using static TorchSharp.torch;

namespace Hrm.Bench.Torch;

/// <summary>
/// The detached recurrent state (z_H, z_L), each (B, S, D) fp32. It owns its tensors: they are taken out of any
/// TorchSharp dispose scope, so a scope around a segment call never frees the carry.
/// </summary>
public sealed class TwinCarry : IDisposable
{
    internal TwinCarry(Tensor zH, Tensor zL)
    {
        ZH = zH.DetachFromDisposeScope();
        ZL = zL.DetachFromDisposeScope();
    }

    /// <summary>z_H (B, S, D).</summary>
    public Tensor ZH { get; private set; }

    /// <summary>z_L (B, S, D).</summary>
    public Tensor ZL { get; private set; }

    /// <summary>Takes ownership of new states and disposes the old ones.</summary>
    internal void Replace(Tensor zH, Tensor zL)
    {
        ZH.Dispose();
        ZL.Dispose();
        ZH = zH.DetachFromDisposeScope();
        ZL = zL.DetachFromDisposeScope();
    }

    /// <summary>A deep copy.</summary>
    public TwinCarry Clone() => new(ZH.clone(), ZL.clone());

    public void Dispose()
    {
        ZH.Dispose();
        ZL.Dispose();
    }
}
