using Hrm.Runtime.Config;
using Hrm.Runtime.Loss;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;
using Hrm.Runtime.Numerics;
using Hrm.Train.Training;
using static Hrm.Runtime.Memory.ParameterLayout;

namespace Hrm.Bench.Compare;

/// <summary>
/// Our training step as <c>Trainer</c> runs it, without logging: ACT step (recorded segment + Q-target segment), loss,
/// 1-step backward, AdamATan2 over the dense region, SignSGD over the puzzle rows. Sudoku hyperparameters, constant lr.
/// </summary>
public sealed class OurTrainingStep : IDisposable
{
    private const double Lr = 1e-4, WeightDecay = 1.0, Beta1 = 0.9, Beta2 = 0.95;
    private readonly HrmModel _m;
    private readonly int _batch;
    private readonly Buf _adamM, _adamV;
    private readonly ActState _act;
    private readonly HrmLoss _loss;
    private readonly HrmRandom _explore = new(1);
    private readonly float[] _logits, _dLogits, _dq;
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
        _act = new ActState(batch, a.SeqLen);
        _loss = new HrmLoss(batch, a.SeqLen, a.VocabSize);
        _logits = new float[batch * a.SeqLen * a.VocabSize];
        _dLogits = new float[_logits.Length];
        _dq = new float[2 * batch];
    }

    /// <summary>One step; returns the loss total (sum over rows).</summary>
    public double Step(int[] tokens, int[] labels, int[] ids)
    {
        HrmConfig a = _m.Config;
        _m.ActStep(_act, tokens, ids, labels, training: true, _explore);
        _m.ReadLogits(_logits);
        LossParts parts = _loss.Compute(_logits, _act.Labels, _act.QHalt, _act.QContinue, _act.TargetQContinue,
            training: !_m.Config.NoActContinue, globalBatch: _batch, _dLogits, _dq);
        _m.Backend.Upload(_dLogits, _m.LogitsGrad);
        _m.Backend.Upload(_dq, _m.QGrad);
        _m.ZeroGrads();
        _m.Backward();
        _m.Backend.AdamATan2Step(_m.Params.Slice(0, _m.Layout.DenseElements), _m.Grads, _adamM, _adamV,
            Lr, Beta1, Beta2, WeightDecay, ++_t);
        if (a.PuzzleEmbNdim > 0)
            _m.Backend.SignSgdRows(_m.Param(Names.PuzzleEmb), _m.PuzzleRowsGrad, _m.PuzzleIdsBuffer, _batch,
                a.PuzzleEmbNdim, Lr, WeightDecay);
        return parts.Total;
    }

    public void Dispose()
    {
        _m.Backend.Free(_adamM);
        _m.Backend.Free(_adamV);
    }
}
