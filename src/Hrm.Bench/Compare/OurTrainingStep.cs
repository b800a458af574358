using System.Runtime.InteropServices;
using Hrm.Runtime.Backends;
using Hrm.Runtime.Config;
using Hrm.Runtime.Loss;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;
using Hrm.Runtime.Numerics;
using static Hrm.Runtime.Memory.ParameterLayout;

namespace Hrm.Bench.Compare;

/// <summary>
/// Our training step as <c>Trainer</c> runs it, without logging: ACT step on the workspace carry (recorded segment +
/// Q-target segment), loss and metric sums where the model runs, 1-step backward, AdamATan2 over the dense region,
/// SignSGD over the puzzle rows, nothing read back (<see cref="Run"/>). Sudoku hyperparameters, constant lr.
/// </summary>
public sealed class OurTrainingStep : IDisposable
{
    private const double Lr = 1e-4, WeightDecay = 1.0, Beta1 = 0.9, Beta2 = 0.95;
    private readonly HrmModel _m;
    private readonly int _batch;
    private readonly Buf _adamM, _adamV;
    private readonly BackendLoss _loss;
    private readonly Buf _sums, _skip;              // ActMetricSums (1 slot), diverged flag (1)
    private readonly double[] _sumsHost = new double[ActMetricSums.Doubles(1)];
    private readonly HrmRandom _explore = new(1);
    private int _t;

    public OurTrainingStep(HrmModel model, int batch)
    {
        _m = model;
        _batch = batch;
        HrmConfig a = model.Config;
        model.Reserve(batch, training: true);
        _adamM = model.Backend.Allocate(model.Layout.DenseElements, "AdamATan2 m");
        _adamV = model.Backend.Allocate(model.Layout.DenseElements, "AdamATan2 v");
        model.Backend.Fill(_adamM, 0f);
        model.Backend.Fill(_adamV, 0f);
        _loss = new BackendLoss(model.Backend, batch, a.SeqLen, a.VocabSize, LossType.StablemaxCrossEntropy);
        _sums = model.Backend.AllocateInts(ActMetricSums.Ints(1), "metric sums");
        _skip = model.Backend.AllocateInts(1, "diverged flag");
    }

    /// <summary>
    /// The benchmark batch: random tokens in [1, V) (B, L), labels = the tokens with the first position of each row
    /// ignored (B, L), puzzle ids all 0 (B).
    /// </summary>
    public static (int[] Tokens, int[] Labels, int[] Ids) Inputs(HrmConfig config, int batch, ulong seed = 5)
    {
        var r = new HrmRandom(seed);
        var tokens = new int[batch * config.SeqLen];
        for (int i = 0; i < tokens.Length; i++) tokens[i] = r.NextInt(1, config.VocabSize);
        int[] labels = (int[])tokens.Clone();
        for (int b = 0; b < batch; b++) labels[b * config.SeqLen] = Hrm.Train.Training.HrmLoss.IgnoreLabel;
        return (tokens, labels, new int[batch]);
    }

    /// <summary>One step, then its loss total (sum over rows) read back.</summary>
    public double Step(int[] tokens, int[] labels, int[] ids)
    {
        Run(tokens, labels, ids);
        _m.Backend.DownloadInts(_sums, MemoryMarshal.Cast<double, int>(_sumsHost.AsSpan()));
        return _sumsHost[ActMetricSums.Fixed];
    }

    /// <summary>One step with nothing read back (queued only, on an asynchronous backend).</summary>
    public void Run(int[] tokens, int[] labels, int[] ids)
    {
        HrmConfig a = _m.Config;
        _m.ActStep(tokens, ids, labels, training: true, _explore);
        Workspace ws = _m.Ws;
        IHrmBackend be = _m.Backend;
        _loss.ComputeRows(ws.Logits, ws.Labels, ws.Q, ws.Target, training: !a.NoActContinue, globalBatch: _batch,
            _m.LogitsGrad, _m.QGrad);
        be.ActMetrics(_sums, _skip, ws.Halted, ws.Steps, ws.Q, _loss.RowLossBuffer, _loss.RowStatsBuffer, _batch, 0);
        _m.ZeroGrads();
        _m.Backward();
        be.AdamATan2Step(_m.Params.Slice(0, _m.Layout.DenseElements), _m.Grads, _adamM, _adamV,
            Lr, Beta1, Beta2, WeightDecay, ++_t, _skip);
        if (a.PuzzleEmbNdim > 0)
            be.SignSgdRows(_m.Param(Names.PuzzleEmb), _m.PuzzleRowsGrad, _m.PuzzleIdsBuffer, _batch,
                a.PuzzleEmbNdim, Lr, WeightDecay, _skip);
    }

    public void Dispose()
    {
        _loss.Dispose();
        _m.Backend.Free(_sums);
        _m.Backend.Free(_skip);
        _m.Backend.Free(_adamM);
        _m.Backend.Free(_adamV);
    }
}
