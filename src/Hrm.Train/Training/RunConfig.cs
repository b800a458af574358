using Hrm.Runtime.Config;
using Hrm.Runtime.Threading;

namespace Hrm.Train.Training;

/// <summary>
/// A training run: the architecture plus the reference's training fields (its JSON keys, spec 3.4), and ours
/// (loss_type, log_interval, eval_max_steps, eval_examples, threads, micro_batch_size). Presets live in
/// <see cref="RunPresets"/>.
/// </summary>
public sealed record RunConfig
{
    public HrmConfig Arch { get; init; } = new();

    /// <summary>Dataset root (data_path): identifiers.json, train/, test/.</summary>
    public string DataPath { get; init; } = "";

    public int GlobalBatchSize { get; init; } = 768;

    /// <summary>Epochs, counted in groups as the reference's sampler counts them.</summary>
    public int Epochs { get; init; } = 100000;

    /// <summary>Epochs between evaluations (and checkpoints).</summary>
    public int EvalInterval { get; init; } = 10000;

    public bool CheckpointEveryEval { get; init; } = true;

    public double Lr { get; init; } = 1e-4;

    public double LrMinRatio { get; init; } = 1.0;

    public int LrWarmupSteps { get; init; } = 2000;

    public double Beta1 { get; init; } = 0.9;

    public double Beta2 { get; init; } = 0.95;

    public double WeightDecay { get; init; } = 0.1;

    public double PuzzleEmbLr { get; init; } = 1e-2;

    public double PuzzleEmbWeightDecay { get; init; } = 0.1;

    public ulong Seed { get; init; }

    /// <summary>stablemax_cross_entropy (the reference's default) or softmax_cross_entropy.</summary>
    public string LossType { get; init; } = "stablemax_cross_entropy";

    /// <summary>Steps between metrics.jsonl lines.</summary>
    public int LogInterval { get; init; } = 1;

    /// <summary>Segments per evaluation sequence; 0 = arch.halt_max_steps.</summary>
    public int EvalMaxSteps { get; init; }

    /// <summary>Examples each evaluation of the run takes from the test split: a fixed sample drawn from the seed
    /// (<see cref="Evaluator.Sample"/>), the same every time; 0 = all, as the reference (whose Sudoku test split is
    /// 423k examples; `hrm eval` on a checkpoint then gives the whole split's numbers).</summary>
    public int EvalExamples { get; init; }

    /// <summary>CPU threads; 0 = one per core.</summary>
    public int Threads { get; init; }

    /// <summary>Rows a training step takes at once (gradients add up over the global batch's micro-batches, one
    /// optimiser update a step); a divisor of global_batch_size; 0 = the whole batch when it fits in memory, else the
    /// largest divisor that does (<see cref="MicroBatchChoice"/>).</summary>
    public int MicroBatchSize { get; init; }

    /// <summary>Throws <see cref="HrmConfigException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        Arch.Validate();
        static void Positive(double v, string key)
        {
            if (!(v > 0) || double.IsInfinity(v)) throw new HrmConfigException(key, $"must be positive, got {v}");
        }
        Positive(GlobalBatchSize, "global_batch_size");
        Positive(Epochs, "epochs");
        Positive(EvalInterval, "eval_interval");
        Positive(LogInterval, "log_interval");
        if (Epochs % EvalInterval != 0)
            throw new HrmConfigException("eval_interval", $"epochs ({Epochs}) must be a multiple of eval_interval ({EvalInterval}), as in the reference");
        if (!(Lr >= 0)) throw new HrmConfigException("lr", $"must be >= 0, got {Lr}");
        if (!(PuzzleEmbLr >= 0)) throw new HrmConfigException("puzzle_emb_lr", $"must be >= 0, got {PuzzleEmbLr}");
        if (!(LrMinRatio >= 0 && LrMinRatio <= 1)) throw new HrmConfigException("lr_min_ratio", $"must lie in [0, 1], got {LrMinRatio}");
        if (LrWarmupSteps < 0) throw new HrmConfigException("lr_warmup_steps", $"must be >= 0, got {LrWarmupSteps}");
        if (!(Beta1 >= 0 && Beta1 < 1)) throw new HrmConfigException("beta1", $"must lie in [0, 1), got {Beta1}");
        if (!(Beta2 >= 0 && Beta2 < 1)) throw new HrmConfigException("beta2", $"must lie in [0, 1), got {Beta2}");
        if (LossType is not ("stablemax_cross_entropy" or "softmax_cross_entropy"))
            throw new HrmConfigException("loss_type", $"expected stablemax_cross_entropy or softmax_cross_entropy, got '{LossType}'");
        if (EvalMaxSteps < 0 || EvalMaxSteps > HrmConfig.MaxDepth)
        {
            throw new HrmConfigException("eval_max_steps",
                $"must lie in 0..{HrmConfig.MaxDepth} (0: halt_max_steps), got {EvalMaxSteps}");
        }
        if (EvalExamples < 0) throw new HrmConfigException("eval_examples", $"must be >= 0 (0: all), got {EvalExamples}");
        if (Threads < 0 || Threads > WorkerPool.MaxThreads)
        {
            throw new HrmConfigException("threads",
                $"must lie in 0..{WorkerPool.MaxThreads} (0: one per core), got {Threads}");
        }
        if (MicroBatchSize < 0 || (MicroBatchSize > 0 && GlobalBatchSize % MicroBatchSize != 0))
            throw new HrmConfigException("micro_batch_size", $"must be 0 (auto) or a divisor of global_batch_size " +
                $"({GlobalBatchSize}), got {MicroBatchSize}");
    }
}
