using System.Globalization;
using Hrm.Runtime.Backends;
using Hrm.Runtime.Config;
using Hrm.Runtime.Loss;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;
using Hrm.Runtime.Numerics;
using Hrm.Train.Data;
using static Hrm.Runtime.Memory.ParameterLayout;

namespace Hrm.Train.Training;

/// <summary>
/// The reference's training loop (spec 1.10, 2, 3, 5.5) on one device: a persistent batch of ACT carries where
/// only halted rows take new samples, one optimiser step per segment (AdamATan2 on the dense parameters,
/// SignSGD on the puzzle rows of the batch), evaluation and a checkpoint every eval_interval epochs and at the
/// end. Everything a resumed run needs is saved, so <c>--resume</c> continues bit for bit.
/// </summary>
public sealed partial class Trainer : IDisposable
{
    private readonly HrmModel _model;
    private readonly PuzzleDataset _train;
    private readonly PuzzleDataset? _test;
    private readonly TrainSampler _sampler;
    private readonly HrmRandom _explore;
    private readonly Buf _adamM, _adamV;          // (dense elements) each
    private readonly ActState _act;
    private readonly BackendLoss _loss;
    private readonly HrmMetrics _metrics;
    private readonly int[] _tokens, _labels, _ids; // (B, L), (B, L), (B)
    private readonly MetricsLog _log;
    private readonly ProgressView _view;
    private int _stepsSinceLog;
    private IReadOnlyDictionary<string, double> _lastReport = new Dictionary<string, double>();

    private Trainer(RunConfig cfg, string runDir, HrmModel model, PuzzleDataset train, PuzzleDataset? test,
        TextWriter output, bool interactive, long resumeStep)
    {
        Config = cfg;
        RunDir = runDir;
        _model = model;
        _train = train;
        _test = test;
        HrmConfig a = model.Config;
        int b = cfg.GlobalBatchSize;
        TotalSteps = LrSchedule.TotalSteps(cfg.Epochs, train.Metadata.TotalGroups, train.Metadata.MeanPuzzleExamples, b);
        _sampler = new TrainSampler(train, b, cfg.EvalInterval, cfg.Seed);
        _explore = new HrmRandom(cfg.Seed ^ 0xA5A5_5A5A_0F0F_F0F0UL);
        model.Reserve(b, training: true);
        _adamM = model.Backend.Allocate(model.Layout.DenseElements, "AdamATan2 m");
        _adamV = model.Backend.Allocate(model.Layout.DenseElements, "AdamATan2 v");
        _act = new ActState(b, a.SeqLen);
        _loss = new BackendLoss(model.Backend, b, a.SeqLen, a.VocabSize, LossTypeOf(cfg));
        _metrics = new HrmMetrics();
        _tokens = new int[b * a.SeqLen];
        _labels = new int[b * a.SeqLen];
        _ids = new int[b];
        Directory.CreateDirectory(runDir);
        _log = new MetricsLog(Path.Combine(runDir, "metrics.jsonl"), resumeStep);
        _view = new ProgressView(output, interactive);
    }

    public RunConfig Config { get; }

    public string RunDir { get; }

    public HrmModel Model => _model;

    /// <summary>Optimiser steps taken so far.</summary>
    public long Step { get; private set; }

    /// <summary>floor(epochs · total_groups · mean_puzzle_examples / global_batch_size).</summary>
    public long TotalSteps { get; }

    /// <summary>Total loss of every step taken in this process, in order (tests compare resumed runs with it).</summary>
    public List<double> Losses { get; } = [];

    /// <summary>The last evaluation's metrics (eval/…), or null.</summary>
    public IReadOnlyDictionary<string, double>? LastEval { get; private set; }

    /// <summary>Path of the last checkpoint directory written, or null.</summary>
    public string? LastCheckpoint { get; private set; }

    /// <summary>Runs passes until epochs are done (or total steps reached); evaluates and checkpoints after each.</summary>
    public void Run()
    {
        int passes = Config.Epochs / Config.EvalInterval;
        while (_sampler.Pass + 1 < passes && Step < TotalSteps)
        {
            _sampler.StartPass();
            while (Step < TotalSteps && _sampler.NextBatch(_tokens, _labels, _ids)) TrainStep();
            _view.Update(Step, TotalSteps, Config.GlobalBatchSize, _lastReport, force: true);
            EndOfPass(last: _sampler.Pass + 1 >= passes || Step >= TotalSteps);
        }
    }

    /// <summary>One ACT segment on the persistent batch, the loss, the 1-step backward and both optimisers.</summary>
    private void TrainStep()
    {
        HrmConfig a = _model.Config;
        int b = Config.GlobalBatchSize;
        Step++;
        double lr = LrSchedule.Lr(Config.Lr, Step, Config.LrWarmupSteps, TotalSteps, Config.LrMinRatio);
        double embLr = LrSchedule.Lr(Config.PuzzleEmbLr, Step, Config.LrWarmupSteps, TotalSteps, Config.LrMinRatio);
        _model.ActStep(_act, _tokens, _ids, _labels, training: true, _explore);
        // The loss runs where the logits are; the gradients stay in LogitsGrad/QGrad for the backward and only the
        // per-row losses and statistics (B,3 each) come back.
        LossParts parts = _loss.Compute(_model.Ws.Logits, _act.Labels, _model.Ws.Q, _act.TargetQContinue,
            training: !a.NoActContinue, globalBatch: b, _model.LogitsGrad, _model.QGrad);
        double total = parts.Total;
        if (!double.IsFinite(total))
        {
            string dir = SaveCheckpoint($"nan_step_{Step}");
            throw new TrainingDivergedException(
                $"step {Step}: the loss is {total.ToString(CultureInfo.InvariantCulture)} (lm {parts.LmLoss}, q_halt {parts.QHaltLoss}, " +
                $"q_continue {parts.QContinueLoss}); the last good weights (before this step's update) are in {dir}. " +
                "Lower lr or check the data.");
        }
        Losses.Add(total);
        _metrics.Add(_act.Halted, _act.Steps, _act.QHalt, _loss.Rows.ValidCounts, _loss.Rows.CorrectCounts, parts);
        _stepsSinceLog++;
        _model.ZeroGrads();
        _model.Backward();
        _model.Backend.AdamATan2Step(_model.Params.Slice(0, _model.Layout.DenseElements), _model.Grads, _adamM, _adamV,
            lr, Config.Beta1, Config.Beta2, Config.WeightDecay, checked((int)Step));
        if (a.PuzzleEmbNdim > 0)
            _model.Backend.SignSgdRows(_model.Param(Names.PuzzleEmb), _model.PuzzleRowsGrad, _model.PuzzleIdsBuffer, b,
                a.PuzzleEmbNdim, embLr, Config.PuzzleEmbWeightDecay);
        if (Step % Config.LogInterval == 0 || Step == TotalSteps)
        {
            // Losses are sums over every row of every step since the last line: divide by all those rows.
            Dictionary<string, double> report = _metrics.Report(train: true, b * _stepsSinceLog, lr);
            _lastReport = report;
            _stepsSinceLog = 0;
            _log.Write(Step, report);
            _view.Update(Step, TotalSteps, b, report);
            _metrics.Reset();
        }
    }

    private void EndOfPass(bool last)
    {
        if (_test != null)
        {
            LastEval = EvaluateKeepingCarry();
            _log.Write(Step, LastEval);
            _view.Line(FormatEval(LastEval));
        }
        if (Config.CheckpointEveryEval || last) LastCheckpoint = SaveCheckpoint($"step_{Step}");
    }

    /// <summary>Evaluates on the test split; the training carry is saved and restored around it.</summary>
    public IReadOnlyDictionary<string, double> EvaluateKeepingCarry()
    {
        if (_test == null) throw new InvalidOperationException("the dataset has no test split");
        var zh = new float[_model.Ws.ZH.Length];
        var zl = new float[_model.Ws.ZL.Length];
        _model.Backend.Download(_model.Ws.ZH, zh);
        _model.Backend.Download(_model.Ws.ZL, zl);
        int steps = Config.EvalMaxSteps > 0 ? Config.EvalMaxSteps : _model.Config.HaltMaxSteps;
        IReadOnlyDictionary<string, double> m = Evaluator.Run(_model, _test, steps, LossTypeOf(Config));
        _model.Backend.Upload(zh, _model.Ws.ZH);
        _model.Backend.Upload(zl, _model.Ws.ZL);
        return m;
    }

    internal static LossType LossTypeOf(RunConfig c) =>
        c.LossType == "softmax_cross_entropy" ? LossType.SoftmaxCrossEntropy : LossType.StablemaxCrossEntropy;

    private static string FormatEval(IReadOnlyDictionary<string, double> m) =>
        "eval: " + string.Join(", ", m.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {kv.Value:F4}")));

    public void Dispose()
    {
        _log.Dispose();
        _loss.Dispose();
        _model.Dispose();
        _train.Dispose();
        _test?.Dispose();
    }
}
