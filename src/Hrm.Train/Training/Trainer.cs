using System.Globalization;
using Hrm.Runtime.Backends;
using Hrm.Runtime.Config;
using Hrm.Runtime.Loss;
using Hrm.Runtime.Model;
using Hrm.Runtime.Numerics;
using Hrm.Train.Data;

namespace Hrm.Train.Training;

/// <summary>
/// The reference's training loop (spec 1.10, 2, 3, 5.5) on one device: a persistent batch of ACT carries where
/// only halted rows take new samples, one optimiser step per segment (AdamATan2 on the dense parameters,
/// SignSGD on the puzzle rows of the batch), evaluation and a checkpoint every eval_interval epochs and at the
/// end. Everything a resumed run needs is saved, so <c>--resume</c> continues bit for bit.
/// A step uploads its batch and exploration draws and reads nothing back: the ACT carry, halting, the loss and
/// the metric sums stay where the model runs (<see cref="HrmModel.ActStep(ReadOnlySpan{int}, ReadOnlySpan{int},
/// ReadOnlySpan{int}, bool, HrmRandom?, int)"/>, <see cref="IHrmBackend.ActMetrics"/>). The host reads the sums
/// and each step's total loss once per logging interval and before evaluating or saving; a step whose loss is
/// not finite sets a flag on the device that makes both optimisers skip it and every later step, so the weights
/// found diverged are the last good ones.
/// </summary>
public sealed partial class Trainer : IDisposable
{
    private readonly HrmModel _model;
    private readonly PuzzleDataset _train;
    private readonly PuzzleDataset? _test;
    private readonly TrainSampler _sampler;
    private readonly HrmRandom _explore;
    private readonly TrainingStep _step;          // moments, loss, metric sums (log_interval slots), skip flag
    private readonly ActState _act;               // host copy of the carry's bookkeeping, for checkpoints
    private readonly double[] _sumsHost;          // ActMetricSums.Doubles(log_interval)
    private int _pending;                         // steps whose totals are on the device only
    private readonly HrmMetrics _metrics;
    private readonly int[] _tokens, _labels, _ids; // (B, L), (B, L), (B)
    private readonly MetricsLog _log;
    private readonly ProgressView _view;
    private readonly TextWriter _output;
    private readonly bool _interactive;
    private bool _unsaved; // the state has changed since the last checkpoint (or the one resumed from)
    private readonly int[]? _evalExamples; // eval_examples' sample of the test split (null: all)
    private int _stepsSinceLog;
    private IReadOnlyDictionary<string, double> _lastReport = new Dictionary<string, double>();

    private Trainer(RunConfig cfg, string runDir, HrmModel model, PuzzleDataset train, PuzzleDataset? test,
        TextWriter output, bool interactive, long resumeStep, RunCompute compute, int microBatch)
    {
        Compute = compute;
        Config = cfg;
        RunDir = runDir;
        _model = model;
        _train = train;
        _test = test;
        HrmConfig a = model.Config;
        int b = cfg.GlobalBatchSize;
        TotalSteps = LrSchedule.TotalSteps(cfg.Epochs, train.Metadata.TotalGroups, train.Metadata.MeanPuzzleExamples, b);
        double perPass = (double)cfg.EvalInterval * train.Metadata.TotalGroups * train.Metadata.MeanPuzzleExamples / b;
        if (TotalSteps < 1 || perPass < 1)
        {
            throw new HrmConfigException("global_batch_size", $"{b} rows a step over {cfg.Epochs} epochs of " +
                $"{train.Metadata.TotalGroups} groups x {train.Metadata.MeanPuzzleExamples} examples, " +
                $"{cfg.EvalInterval} epochs an evaluation, make no step (the reference's count: epochs x total_groups x " +
                "mean_puzzle_examples / global_batch_size; and a pass of eval_interval epochs must fill a batch); lower " +
                "it or add epochs");
        }
        _sampler = new TrainSampler(train, b, cfg.EvalInterval, cfg.Seed);
        _explore = new HrmRandom(cfg.Seed ^ 0xA5A5_5A5A_0F0F_F0F0UL);
        _step = new TrainingStep(model, b, LossTypeOf(cfg), cfg.LogInterval, microBatch);
        _act = new ActState(b, a.SeqLen);
        _sumsHost = new double[ActMetricSums.Doubles(cfg.LogInterval)];
        _metrics = new HrmMetrics();
        _tokens = new int[b * a.SeqLen];
        _labels = new int[b * a.SeqLen];
        _ids = new int[b];
        Directory.CreateDirectory(runDir);
        _log = new MetricsLog(Path.Combine(runDir, "metrics.jsonl"), resumeStep);
        _view = new ProgressView(output, interactive);
        _evalExamples = test != null ? Evaluator.Sample(test.ExampleCount, cfg.EvalExamples, cfg.Seed) : null;
        _output = output;
        _interactive = interactive;
    }

    public RunConfig Config { get; }

    public string RunDir { get; }

    public HrmModel Model => _model;

    /// <summary>Micro-batches a step takes its global batch in (1: all rows at once; see <see cref="TrainingStep"/>).</summary>
    public int MicroBatches => _step.MicroBatches;

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

    /// <summary>What this trainer computes with (recorded in the run directory with every checkpoint).</summary>
    internal RunCompute Compute { get; }

    /// <summary>Called with the step number after each training step (tests stop a run at a chosen step with it).</summary>
    internal Action<long>? AfterStep { get; set; }

    /// <summary>Set when <see cref="Run"/> returned on <c>stop</c> before the run's end; <see cref="LastCheckpoint"/>
    /// then holds the step it stopped at, from which <see cref="Resume"/> continues bit for bit.</summary>
    public bool Interrupted { get; private set; }

    /// <summary>
    /// Runs passes until epochs are done (or total steps reached); evaluates and checkpoints after each. A run resumed
    /// from a checkpoint inside a pass (an interrupted one) first finishes that pass. When <paramref name="stop"/> is
    /// cancelled, returns after the step (or the end of pass) in progress with a checkpoint of that step written
    /// (<see cref="Interrupted"/>): the metric sums since the last log line are logged at that step first.
    /// </summary>
    public void Run(CancellationToken stop = default)
    {
        int passes = Config.Epochs / Config.EvalInterval;
        bool inPass = _sampler.Pass >= 0 && !_sampler.PassDone;
        while (Step < TotalSteps && (inPass || _sampler.Pass + 1 < passes))
        {
            if (!inPass) _sampler.StartPass();
            inPass = false;
            while (Step < TotalSteps && _sampler.NextBatch(_tokens, _labels, _ids))
            {
                TrainStep();
                AfterStep?.Invoke(Step);
                // A pass whose order is used up ends at the next NextBatch (which then draws nothing): its end, with
                // the evaluation, comes first.
                if (stop.IsCancellationRequested && Step < TotalSteps && !_sampler.PassDone)
                {
                    StopAt();
                    return;
                }
            }
            _view.Update(Step, TotalSteps, Config.GlobalBatchSize, _lastReport, force: true);
            bool last = _sampler.Pass + 1 >= passes || Step >= TotalSteps;
            EndOfPass(last);
            if (stop.IsCancellationRequested && !last)
            {
                StopAt();
                return;
            }
        }
    }

    /// <summary>Ends an interrupted run: the metric sums not yet logged (they live on the device, not in the
    /// checkpoint) as a log line at this step, and a checkpoint of this step unless nothing changed since the last
    /// one (an end of pass that wrote it).</summary>
    private void StopAt()
    {
        if (_stepsSinceLog > 0) LogSums(LrSchedule.Lr(Config.Lr, Step, Config.LrWarmupSteps, TotalSteps, Config.LrMinRatio));
        ReadSums();
        if (_unsaved) LastCheckpoint = SaveCheckpoint($"step_{Step}");
        Interrupted = true;
    }

    /// <summary>One ACT segment on the persistent batch, the loss, the 1-step backward and both optimisers.</summary>
    private void TrainStep()
    {
        Step++;
        _unsaved = true;
        double lr = LrSchedule.Lr(Config.Lr, Step, Config.LrWarmupSteps, TotalSteps, Config.LrMinRatio);
        double embLr = LrSchedule.Lr(Config.PuzzleEmbLr, Step, Config.LrWarmupSteps, TotalSteps, Config.LrMinRatio);
        var settings = new StepSettings(lr, embLr, Config.Beta1, Config.Beta2, Config.WeightDecay, Config.PuzzleEmbWeightDecay);
        _step.Run(_tokens, _ids, _labels, _explore, settings, checked((int)Step), _pending);
        _pending++;
        _stepsSinceLog++;
        if (Step % Config.LogInterval == 0 || Step == TotalSteps) LogSums(lr);
    }

    /// <summary>One metrics line for the steps since the last one (their sums read from the device, then cleared).</summary>
    private void LogSums(double lr)
    {
        int b = Config.GlobalBatchSize;
        ReadSums();
        // Losses are sums over every row of every step since the last line: divide by all those rows.
        _metrics.Reset();
        _metrics.AddSums(_sumsHost, hasQContinue: !_model.Config.NoActContinue);
        Dictionary<string, double> report = _metrics.Report(train: true, b * _stepsSinceLog, lr);
        _lastReport = report;
        _stepsSinceLog = 0;
        _step.ClearSums();
        _log.Write(Step, report);
        _view.Update(Step, TotalSteps, b, report);
    }

    /// <summary>
    /// Reads the metric sums and the totals of the steps not yet read (into <see cref="Losses"/>); throws
    /// <see cref="TrainingDivergedException"/> at the first total that is not finite, after saving the weights,
    /// which the device kept from that step on.
    /// </summary>
    private void ReadSums()
    {
        if (_pending == 0) return;
        _step.ReadSums(_sumsHost);
        long first = Step - _pending + 1;
        int n = _pending;
        _pending = 0;
        for (int i = 0; i < n; i++)
        {
            double total = _sumsHost[ActMetricSums.Fixed + i];
            if (!double.IsFinite(total))
            {
                long bad = first + i;
                string dir = SaveCheckpoint($"nan_step_{bad}");
                throw new TrainingDivergedException(
                    $"step {bad}: the loss is {total.ToString(CultureInfo.InvariantCulture)}; the optimisers skipped that step and " +
                    $"every later one, so the weights and moments in {dir} are those after step {bad - 1} (the carry and " +
                    $"data position are those of step {Step}). Lower lr or check the data.");
            }
            Losses.Add(total);
        }
    }

    private void EndOfPass(bool last)
    {
        ReadSums(); // a diverged run stops before it is evaluated or saved
        _unsaved = true; // the pass is over (its evaluation written) even when no step ran since the last checkpoint
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
        int steps = Config.EvalMaxSteps > 0 ? Config.EvalMaxSteps : _model.Config.HaltMaxSteps;
        // The step's loss object serves the evaluation too (its per-row results are already summed on the device).
        // In micro-batches the carry lives outside the workspace the evaluation uses.
        int[]? examples = _evalExamples;
        EvalBatchObserver progress = new EvalProgress(_output, examples?.Length ?? _test.ExampleCount, _interactive).Observe;
        if (_step.MicroBatches > 1)
            return Evaluator.Run(_model, _test, steps, LossTypeOf(Config), null, progress, _step.Loss, examples);
        var zh = new float[_model.Ws.ZH.Length];
        var zl = new float[_model.Ws.ZL.Length];
        _step.SaveCarry(_act, zh, zl);
        IReadOnlyDictionary<string, double> m = Evaluator.Run(_model, _test, steps, LossTypeOf(Config), null, progress,
            _step.Loss, examples);
        _step.LoadCarry(_act, zh, zl);
        return m;
    }

    internal static LossType LossTypeOf(RunConfig c) =>
        c.LossType == "softmax_cross_entropy" ? LossType.SoftmaxCrossEntropy : LossType.StablemaxCrossEntropy;

    private static string FormatEval(IReadOnlyDictionary<string, double> m) =>
        "eval: " + string.Join(", ", m.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {kv.Value:F4}")));

    public void Dispose()
    {
        try
        {
            _log.Dispose();
            _step.Dispose();
            _model.Dispose();
            _train.Dispose();
            _test?.Dispose();
        }
        finally
        {
            _runLock?.Dispose();
        }
    }
}
