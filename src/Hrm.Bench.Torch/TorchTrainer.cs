using TorchSharp;
using static TorchSharp.torch;

namespace Hrm.Bench.Torch;

/// <summary>
/// One training step of the twin as the reference trains (spec 1.10, 2, 3): the ACT reset of halted rows, a segment
/// with the 1-step gradient, halting with exploration, the no-grad Q-target segment, the loss, backward of
/// total / global batch, AdamATan2 (0.0.3) on every dense parameter and SignSGD on the touched puzzle rows.
/// </summary>
public sealed class TorchTrainer : IDisposable
{
    private readonly TorchHrm _m;
    private readonly TwinCarry _carry;
    private readonly int _batch;
    private readonly int[] _steps;
    private readonly bool[] _halted;
    private readonly int[] _tokens, _labels, _ids;
    private readonly Random _explore;
    private readonly Dictionary<string, (Tensor M, Tensor V)> _moments = new(StringComparer.Ordinal);
    private int _t;

    public TorchTrainer(TorchHrm model, int batch, int seed = 1)
    {
        _m = model;
        _batch = batch;
        _carry = model.InitialCarry(batch);
        _steps = new int[batch];
        _halted = Enumerable.Repeat(true, batch).ToArray();
        _tokens = new int[batch * model.Config.SeqLen];
        _labels = new int[batch * model.Config.SeqLen];
        _ids = new int[batch];
        _explore = new Random(seed);
        foreach (string name in model.ParameterNames)
            _moments[name] = (zeros_like(model[name]).requires_grad_(false), zeros_like(model[name]).requires_grad_(false));
    }

    /// <summary>Optimiser settings (spec 3.4, Sudoku): lr, puzzle-embedding lr, their weight decays, betas.</summary>
    public double Lr { get; init; } = 1e-4;
    public double PuzzleEmbLr { get; init; } = 1e-4;
    public double WeightDecay { get; init; } = 1.0;
    public double PuzzleEmbWeightDecay { get; init; } = 1.0;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.95;

    /// <summary>
    /// One step on a loader batch (rows that halted take it; the others keep their data). Returns the loss total
    /// (sum over rows, before the division by <paramref name="globalBatch"/>).
    /// </summary>
    public double Step(int[] tokens, int[] labels, int[] ids, int globalBatch)
    {
        TwinConfig c = _m.Config;
        int l = c.SeqLen, maxSteps = c.HaltMaxSteps;
        for (int b = 0; b < _batch; b++)
        {
            if (!_halted[b]) continue;
            _steps[b] = 0;
            Array.Copy(tokens, b * l, _tokens, b * l, l);
            Array.Copy(labels, b * l, _labels, b * l, l);
            _ids[b] = ids[b];
        }
        _m.ResetRows(_carry, _halted);
        using DisposeScope scope = NewDisposeScope();
        Tensor tok = _m.Tokens(_tokens, _batch);
        Tensor lab = _m.Tokens(_labels, _batch);
        Tensor rows = _m.PuzzleRows(_ids).requires_grad_();
        TorchHrm.SegmentOutput o = _m.Segment(_carry, tok, rows, grad: true);
        float[] q = TorchHrm.ToArray(o.Q);
        for (int b = 0; b < _batch; b++)
        {
            _steps[b]++;
            bool last = _steps[b] >= maxSteps;
            bool halted = last || q[2 * b] > q[2 * b + 1];
            bool explore = _explore.NextDouble() < c.HaltExplorationProb;
            int minSteps = explore ? _explore.Next(2, maxSteps + 1) : 0;
            _halted[b] = maxSteps > 1 ? halted && _steps[b] >= minSteps : last;
        }
        // Bootstrap target: a full no-grad segment from the new carry on the same data.
        var target = new float[_batch];
        using (no_grad())
        using (TwinCarry next = _carry.Clone())
        {
            float[] nq = TorchHrm.ToArray(_m.Segment(next, tok, rows.detach(), grad: false).Q);
            for (int b = 0; b < _batch; b++)
            {
                float t = _steps[b] >= maxSteps ? nq[2 * b] : MathF.Max(nq[2 * b], nq[2 * b + 1]);
                target[b] = 1f / (1f + MathF.Exp(-t));
            }
        }
        Tensor total = TwinLoss.Total(o.Logits, lab, o.Q, tensor(target), out _);
        _m.ZeroGrad();
        (total / globalBatch).backward();
        _t++;
        AdamATan2();
        SignSgd(rows.grad!);
        return total.item<double>();
    }

    /// <summary>
    /// adam-atan2 0.0.3: decoupled decay, lerp moments, θ −= lr/(1−β1^t) · atan2(m, sqrt(v)/sqrt(1−β2^t)).
    /// </summary>
    private void AdamATan2()
    {
        using DisposeScope scope = NewDisposeScope();
        using IDisposable noGrad = no_grad();
        double stepSize = Lr / (1 - Math.Pow(Beta1, _t)), v2 = Math.Sqrt(1 - Math.Pow(Beta2, _t));
        foreach (string name in _m.ParameterNames)
        {
            Tensor p = _m[name];
            Tensor? g = p.grad;
            if (g is null) continue;
            (Tensor m, Tensor v) = _moments[name];
            p.mul_(1 - Lr * WeightDecay);
            m.mul_(Beta1).add_(g, 1 - Beta1);
            v.mul_(Beta2).addcmul_(g, g, 1 - Beta2);
            p.add_(atan2(m, v.sqrt() / v2), -stepSize);
        }
    }

    /// <summary>SignSGD on the puzzle rows of this batch: per id, w ← w·(1 − lr·wd) − lr·sign(Σ grads).</summary>
    private void SignSgd(Tensor rowGrads)
    {
        if (_m.Config.PuzzleEmbNdim == 0) return;
        using DisposeScope scope = NewDisposeScope();
        using IDisposable noGrad = no_grad();
        Tensor ids = tensor(_ids.Select(x => (long)x).ToArray(), ScalarType.Int64);
        (Tensor unique, Tensor? inverse, Tensor? _) = torch.unique(ids, sorted: true, return_inverse: true);
        Tensor sum = zeros(unique.shape[0], rowGrads.shape[1]).index_add_(0, inverse!, rowGrads, 1);
        Tensor table = _m[TwinNames.PuzzleEmb];
        Tensor updated = table.index_select(0, unique) * (1 - PuzzleEmbLr * PuzzleEmbWeightDecay) - PuzzleEmbLr * sum.sign();
        table.index_copy_(0, unique, updated);
    }

    public void Dispose()
    {
        _carry.Dispose();
        foreach ((Tensor m, Tensor v) in _moments.Values)
        {
            m.Dispose();
            v.Dispose();
        }
    }
}
