using System.Runtime.InteropServices;
using Hrm.Runtime.Backends;
using Hrm.Runtime.Config;
using Hrm.Runtime.Loss;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;
using Hrm.Runtime.Numerics;
using static Hrm.Runtime.Memory.ParameterLayout;

namespace Hrm.Train.Training;

/// <summary>The optimiser settings of one step: learning rates (after the schedule), AdamATan2's betas and decays.</summary>
public readonly record struct StepSettings(double Lr, double PuzzleEmbLr, double Beta1, double Beta2, double WeightDecay,
    double PuzzleEmbWeightDecay);

/// <summary>
/// One training step as the reference takes it, where the model runs, with nothing read back: the ACT call on the
/// workspace carry (recorded segment + Q-target segment), the loss, the metric sums of the step into a slot
/// (<see cref="ActMetricSums"/>), the 1-step backward, AdamATan2 over the dense parameters and SignSGD over the
/// batch's puzzle rows, both skipped from the first step whose loss is not finite (a flag on the device). The
/// trainer and the benchmarks run exactly this. Owns the optimiser moments, the loss and the sums.
/// </summary>
public sealed class TrainingStep : IDisposable
{
    private readonly HrmModel _model;
    private readonly int _batch;
    private readonly int[] _noSums = new int[2 * ActMetricSums.Fixed];
    private bool _disposed;

    /// <summary>Reserves <paramref name="model"/> for training at <paramref name="batch"/> and allocates the step's state.</summary>
    /// <param name="model">The model (not owned).</param>
    /// <param name="batch">Rows per step (global_batch_size).</param>
    /// <param name="lossType">The LM loss.</param>
    /// <param name="slots">Step totals the sums hold before they must be read (the logging interval).</param>
    public TrainingStep(HrmModel model, int batch, LossType lossType, int slots)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        _model = model;
        _batch = batch;
        Slots = slots;
        HrmConfig a = model.Config;
        IHrmBackend be = model.Backend;
        model.Reserve(batch, training: true);
        AdamM = be.Allocate(model.Layout.DenseElements, "AdamATan2 m");
        AdamV = be.Allocate(model.Layout.DenseElements, "AdamATan2 v");
        Loss = new BackendLoss(be, batch, a.SeqLen, a.VocabSize, lossType);
        Sums = be.AllocateInts(ActMetricSums.Ints(slots), "metric sums");
        Skip = be.AllocateInts(1, "diverged flag");
    }

    /// <summary>AdamATan2's first moments (dense elements).</summary>
    public Buf AdamM { get; }

    /// <summary>AdamATan2's second moments (dense elements).</summary>
    public Buf AdamV { get; }

    /// <summary>The loss op (its per-row buffers hold the last step's rows; evaluation may borrow it).</summary>
    public BackendLoss Loss { get; }

    /// <summary>The metric sums and step totals (<see cref="ActMetricSums"/>, <see cref="Slots"/> slots).</summary>
    public Buf Sums { get; }

    /// <summary>(1) int: set by the first step whose loss is not finite; the optimisers then write nothing.</summary>
    public Buf Skip { get; }

    /// <summary>Step totals <see cref="Sums"/> holds.</summary>
    public int Slots { get; }

    /// <summary>
    /// One step on the new batch (tokens (B,L), puzzle ids (B), labels (B,L)); its total loss goes to step slot
    /// <paramref name="slot"/>; <paramref name="stepNumber"/> is AdamATan2's t (1 for the first update).
    /// </summary>
    public void Run(ReadOnlySpan<int> tokens, ReadOnlySpan<int> ids, ReadOnlySpan<int> labels, HrmRandom explore,
        in StepSettings s, int stepNumber, int slot)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(slot, Slots);
        HrmConfig a = _model.Config;
        IHrmBackend be = _model.Backend;
        // Nothing writes the weights before the optimisers: the backward reuses what the forwards derived from
        // them (the GPU's bf16 weight copies).
        be.BeginWeightReuse();
        try
        {
            _model.ActStep(tokens, ids, labels, training: true, explore);
            Workspace ws = _model.Ws;
            Loss.ComputeRows(ws.Logits, ws.Labels, ws.Q, ws.Target, training: !a.NoActContinue, globalBatch: _batch,
                _model.LogitsGrad, _model.QGrad);
            be.ActMetrics(Sums, Skip, ws.Halted, ws.Steps, ws.Q, Loss.RowLossBuffer, Loss.RowStatsBuffer, _batch, slot);
            _model.ZeroGrads();
            _model.Backward();
        }
        finally
        {
            be.EndWeightReuse();
        }
        be.AdamATan2Step(_model.Params.Slice(0, _model.Layout.DenseElements), _model.Grads, AdamM, AdamV, s.Lr,
            s.Beta1, s.Beta2, s.WeightDecay, stepNumber, Skip);
        if (a.PuzzleEmbNdim > 0)
            be.SignSgdRows(_model.Param(Names.PuzzleEmb), _model.PuzzleRowsGrad, _model.PuzzleIdsBuffer, _batch,
                a.PuzzleEmbNdim, s.PuzzleEmbLr, s.PuzzleEmbWeightDecay, Skip);
    }

    /// <summary>Reads the sums and step totals into <paramref name="dst"/> (<see cref="ActMetricSums.Doubles"/>(Slots)).</summary>
    public void ReadSums(Span<double> dst) => _model.Backend.DownloadInts(Sums, MemoryMarshal.Cast<double, int>(dst));

    /// <summary>Zeroes the metric sums (not the step totals) for the next logging interval.</summary>
    public void ClearSums() => _model.Backend.UploadInts(_noSums, Sums.Slice(0, _noSums.Length));

    /// <summary>Frees the moments, the loss and the sums.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Loss.Dispose();
        IHrmBackend be = _model.Backend;
        be.Free(Sums);
        be.Free(Skip);
        be.Free(AdamM);
        be.Free(AdamV);
    }
}
