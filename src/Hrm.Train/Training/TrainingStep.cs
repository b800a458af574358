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
/// <para>
/// Micro-batches (gradient accumulation): with a micro-batch b smaller than the batch B (b divides B) the model is
/// reserved for b rows, the carry of all B rows lives in a <see cref="CarryBank"/>, and a step runs B/b micro-batches
/// in row order (carry rows in, ACT call on the batch's rows, loss normalised by B, metric sums, backward adding into
/// the dense gradients, carry rows out) before one AdamATan2 and one SignSGD update over all B rows. The exploration
/// draws are made for all B rows first, so a step explores exactly as on the whole batch: the result differs from
/// the whole-batch step only by the order of floating-point sums (the weight gradients add per micro-batch).
/// Activation memory is that of b rows; the bank adds 2·B·T·C floats. The trainer's evaluations then run b rows at
/// a time too (the same metrics, B/b times as many batches).
/// </para>
/// </summary>
public sealed class TrainingStep : IDisposable
{
    private readonly HrmModel _model;
    private readonly int _batch;
    private readonly int[] _noSums = new int[2 * ActMetricSums.Fixed];
    private readonly CarryBank? _bank;          // micro-batches only
    private readonly int[] _exploration = [];   // (B) the step's exploration draws (micro-batches only)
    private readonly double[] _chunkSums = [];  // ActMetricSums.Doubles(Slots · micro-batches) (micro-batches only)
    private bool _disposed;

    /// <summary>Reserves <paramref name="model"/> for training at <paramref name="batch"/> and allocates the step's state.</summary>
    /// <param name="model">The model (not owned).</param>
    /// <param name="batch">Rows per step (global_batch_size).</param>
    /// <param name="lossType">The LM loss.</param>
    /// <param name="slots">Step totals the sums hold before they must be read (the logging interval).</param>
    /// <param name="microBatch">Rows per micro-batch (a divisor of <paramref name="batch"/>); 0 or
    /// <paramref name="batch"/>: the whole batch at once.</param>
    public TrainingStep(HrmModel model, int batch, LossType lossType, int slots, int microBatch = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        if (microBatch == 0) microBatch = batch;
        if (microBatch < 1 || microBatch > batch || batch % microBatch != 0)
            throw new ArgumentOutOfRangeException(nameof(microBatch), microBatch,
                $"the micro-batch must divide the batch ({batch}) and lie in [1, {batch}]");
        _model = model;
        _batch = batch;
        MicroBatch = microBatch;
        MicroBatches = batch / microBatch;
        Slots = slots;
        HrmConfig a = model.Config;
        IHrmBackend be = model.Backend;
        model.Reserve(microBatch, training: true);
        AdamM = be.Allocate(model.Layout.DenseElements, "AdamATan2 m");
        try
        {
            AdamV = be.Allocate(model.Layout.DenseElements, "AdamATan2 v");
            Loss = new BackendLoss(be, microBatch, a.SeqLen, a.VocabSize, lossType);
            Sums = be.AllocateInts(ActMetricSums.Ints(slots * MicroBatches), "metric sums");
            Skip = be.AllocateInts(1, "diverged flag");
            if (MicroBatches == 1) return;
            _bank = new CarryBank(be, batch, microBatch, a.TotalSeqLen, a.HiddenSize, a.SeqLen, Math.Max(a.PuzzleEmbNdim, 0));
            _exploration = new int[model.ExploresWhenTraining ? batch : 0];
            _chunkSums = new double[ActMetricSums.Doubles(slots * MicroBatches)];
        }
        catch
        {
            // Out of memory part way: give back what this step holds (the model keeps its reservation).
            FreeState();
            throw;
        }
    }

    /// <summary>Rows per micro-batch (the batch itself when the step is not split).</summary>
    public int MicroBatch { get; }

    /// <summary>Micro-batches per step (1: the whole batch at once).</summary>
    public int MicroBatches { get; }

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
        if (_bank != null)
        {
            RunMicroBatches(tokens, ids, labels, explore, slot);
        }
        else
        {
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
        }
        be.AdamATan2Step(_model.Params.Slice(0, _model.Layout.DenseElements), _model.Grads, AdamM, AdamV, s.Lr,
            s.Beta1, s.Beta2, s.WeightDecay, stepNumber, Skip);
        if (a.PuzzleEmbNdim > 0)
        {
            Buf rowsGrad = _bank?.PuzzleRowsGrad ?? _model.PuzzleRowsGrad, rowIds = _bank?.PuzzleIds ?? _model.PuzzleIdsBuffer;
            be.SignSgdRows(_model.Param(Names.PuzzleEmb), rowsGrad, rowIds, _batch, a.PuzzleEmbNdim, s.PuzzleEmbLr,
                s.PuzzleEmbWeightDecay, Skip);
        }
    }

    /// <summary>The step's forwards, losses, sums and backwards, one micro-batch after another (class remarks);
    /// micro-batch i's total goes to raw slot slot·n + i.</summary>
    private void RunMicroBatches(ReadOnlySpan<int> tokens, ReadOnlySpan<int> ids, ReadOnlySpan<int> labels,
        HrmRandom explore, int slot)
    {
        HrmConfig a = _model.Config;
        IHrmBackend be = _model.Backend;
        CarryBank bank = _bank!;
        int b = MicroBatch, l = a.SeqLen, n = MicroBatches;
        if (tokens.Length != _batch * l)
            throw new ArgumentException($"inputs: expected {_batch}·{l} tokens, got {tokens.Length}");
        if (ids.Length != _batch)
            throw new ArgumentException($"puzzle identifiers: expected {_batch}, got {ids.Length}");
        if (labels.Length != _batch * l)
            throw new ArgumentException($"labels: expected {_batch * l} values, got {labels.Length}");
        // The whole batch is checked before any micro-batch runs: a bad row stops the step before it changes anything.
        _model.CheckInputValues(tokens, ids);
        StablemaxCeMath.CheckLabels(labels, a.VocabSize);
        if (_exploration.Length > 0) _model.DrawExploration(explore, _exploration);
        be.BeginWeightReuse();
        try
        {
            _model.ZeroGrads();
            for (int i = 0; i < n; i++)
            {
                bank.Load(_model, i);
                ReadOnlySpan<int> drawn = _exploration.Length > 0 ? _exploration.AsSpan(i * b, b) : default;
                _model.ActStep(tokens.Slice(i * b * l, b * l), ids.Slice(i * b, b), labels.Slice(i * b * l, b * l), drawn);
                Workspace ws = _model.Ws;
                Loss.ComputeRows(ws.Logits, ws.Labels, ws.Q, ws.Target, training: !a.NoActContinue, globalBatch: _batch,
                    _model.LogitsGrad, _model.QGrad);
                be.ActMetrics(Sums, Skip, ws.Halted, ws.Steps, ws.Q, Loss.RowLossBuffer, Loss.RowStatsBuffer, b,
                    slot * n + i);
                _model.Backward();
                bank.Store(_model, i, withGrads: true);
            }
        }
        finally
        {
            be.EndWeightReuse();
        }
    }

    /// <summary>Reads the sums and step totals into <paramref name="dst"/> (<see cref="ActMetricSums.Doubles"/>(Slots));
    /// a step taken in micro-batches totals theirs (in double, in order).</summary>
    public void ReadSums(Span<double> dst)
    {
        if (_bank == null)
        {
            _model.Backend.DownloadInts(Sums, MemoryMarshal.Cast<double, int>(dst));
            return;
        }
        _model.Backend.DownloadInts(Sums, MemoryMarshal.Cast<double, int>(_chunkSums.AsSpan()));
        _chunkSums.AsSpan(0, ActMetricSums.Fixed).CopyTo(dst);
        for (int s = 0; s < Slots; s++)
        {
            double total = 0;
            for (int i = 0; i < MicroBatches; i++) total += _chunkSums[ActMetricSums.Fixed + s * MicroBatches + i];
            dst[ActMetricSums.Fixed + s] = total;
        }
    }

    /// <summary>Zeroes the metric sums (not the step totals) for the next logging interval.</summary>
    public void ClearSums() => _model.Backend.UploadInts(_noSums, Sums.Slice(0, _noSums.Length));

    /// <summary>
    /// The training carry of all B rows: its bookkeeping into <paramref name="state"/>, z_H and z_L (B,T,C) into
    /// <paramref name="zh"/> and <paramref name="zl"/> (checkpoints).
    /// </summary>
    public void SaveCarry(ActState state, Span<float> zh, Span<float> zl)
    {
        ArgumentNullException.ThrowIfNull(state);
        IHrmBackend be = _model.Backend;
        if (_bank == null)
        {
            _model.SaveCarry(state);
            be.Download(_model.Ws.ZH, zh);
            be.Download(_model.Ws.ZL, zl);
            return;
        }
        be.Download(_bank.ZH, zh);
        be.Download(_bank.ZL, zl);
        var halted = new int[_batch];
        be.DownloadInts(_bank.Halted, halted);
        for (int r = 0; r < _batch; r++) state.Halted[r] = halted[r] != 0;
        be.DownloadInts(_bank.Steps, state.Steps);
        be.DownloadInts(_bank.Tokens, state.Tokens);
        be.DownloadInts(_bank.Labels, state.Labels);
        be.DownloadInts(_bank.PuzzleIds, state.PuzzleIds);
    }

    /// <summary>
    /// Replaces the training carry of all B rows (<see cref="SaveCarry"/>'s form; a resumed run). The values are
    /// checked as <see cref="HrmModel.LoadCarry"/> checks them.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range (the message names it).</exception>
    public void LoadCarry(ActState state, ReadOnlySpan<float> zh, ReadOnlySpan<float> zl)
    {
        ArgumentNullException.ThrowIfNull(state);
        IHrmBackend be = _model.Backend;
        if (_bank == null)
        {
            be.Upload(zh, _model.Ws.ZH);
            be.Upload(zl, _model.Ws.ZL);
            _model.LoadCarry(state);
            return;
        }
        // Through the workspace, one micro-batch at a time: the model checks each part as it loads it.
        int b = MicroBatch, l = _model.Config.SeqLen;
        long z = (long)b * _model.Config.TotalSeqLen * _model.Config.HiddenSize;
        var part = new ActState(b, l);
        for (int i = 0; i < MicroBatches; i++)
        {
            state.Halted.AsSpan(i * b, b).CopyTo(part.Halted);
            state.Steps.AsSpan(i * b, b).CopyTo(part.Steps);
            state.Tokens.AsSpan(i * b * l, b * l).CopyTo(part.Tokens);
            state.Labels.AsSpan(i * b * l, b * l).CopyTo(part.Labels);
            state.PuzzleIds.AsSpan(i * b, b).CopyTo(part.PuzzleIds);
            try
            {
                _model.LoadCarry(part);
            }
            catch (ArgumentOutOfRangeException e)
            {
                throw new ArgumentOutOfRangeException(nameof(state), $"micro-batch {i} (rows {i * b}..{(i + 1) * b - 1}): {e.Message}");
            }
            be.Upload(zh.Slice((int)(i * z), (int)z), _model.Ws.ZH);
            be.Upload(zl.Slice((int)(i * z), (int)z), _model.Ws.ZL);
            _bank.Store(_model, i, withGrads: false);
        }
    }

    /// <summary>Frees the moments, the loss and the sums.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        FreeState();
    }

    /// <summary>Frees whatever of the step's regions exist (the constructor may have stopped part way).</summary>
    private void FreeState()
    {
        Loss?.Dispose();
        _bank?.Dispose();
        IHrmBackend be = _model.Backend;
        foreach (Buf b in new[] { Sums, Skip, AdamM, AdamV })
        {
            if (!b.IsEmpty) be.Free(b);
        }
    }
}
