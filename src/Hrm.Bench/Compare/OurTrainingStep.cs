using Hrm.Runtime.Config;
using Hrm.Runtime.Loss;
using Hrm.Runtime.Model;
using Hrm.Runtime.Numerics;
using Hrm.Train.Training;

namespace Hrm.Bench.Compare;

/// <summary>
/// Our training step as <c>Trainer</c> runs it (<see cref="TrainingStep"/>), without logging: ACT step on the
/// workspace carry (recorded segment + Q-target segment), loss and metric sums where the model runs, 1-step backward,
/// AdamATan2 over the dense region, SignSGD over the puzzle rows, nothing read back (<see cref="Run"/>). Sudoku
/// hyperparameters, constant lr.
/// </summary>
public sealed class OurTrainingStep : IDisposable
{
    private const double Lr = 1e-4, WeightDecay = 1.0, Beta1 = 0.9, Beta2 = 0.95;
    private static readonly StepSettings Settings = new(Lr, Lr, Beta1, Beta2, WeightDecay, WeightDecay);
    private readonly TrainingStep _step;
    private readonly HrmRandom _explore = new(1);
    private readonly double[] _sums = new double[ActMetricSums.Doubles(1)];
    private int _t;

    /// <param name="model">The model (reserved for the micro-batch, or for the batch).</param>
    /// <param name="batch">Rows per step.</param>
    /// <param name="microBatch">Rows at once (<see cref="TrainingStep"/>); 0: the whole batch.</param>
    public OurTrainingStep(HrmModel model, int batch, int microBatch = 0) =>
        _step = new TrainingStep(model, batch, LossType.StablemaxCrossEntropy, slots: 1, microBatch);

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
        for (int b = 0; b < batch; b++) labels[b * config.SeqLen] = HrmLoss.IgnoreLabel;
        return (tokens, labels, new int[batch]);
    }

    /// <summary>One step, then its loss total (sum over rows) read back.</summary>
    public double Step(int[] tokens, int[] labels, int[] ids)
    {
        Run(tokens, labels, ids);
        _step.ReadSums(_sums);
        return _sums[ActMetricSums.Fixed];
    }

    /// <summary>One step with nothing read back (queued only, on an asynchronous backend).</summary>
    public void Run(int[] tokens, int[] labels, int[] ids) => _step.Run(tokens, ids, labels, _explore, Settings, ++_t, slot: 0);

    public void Dispose() => _step.Dispose();
}
