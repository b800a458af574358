using BenchmarkDotNet.Attributes;
using Hrm.Runtime.Loss;
using Hrm.Train.Training;

namespace Hrm.Bench.Ops;

/// <summary>
/// The training loss on the host (<see cref="HrmLoss.Compute"/>, stablemax cross-entropy + the two Q BCE terms, in
/// double): the loss alone and the loss with the gradients of the logits and Q logits, at the Sudoku shape
/// (L = 81, V = 11) for a batch of 64 and the global batch of 768, and one odd size. The first label of each row is
/// −100 (ignored), so that path is covered too.
/// </summary>
[MemoryDiagnoser]
[JsonExporterAttribute.Full]
[BenchmarkCategory("Cpu", "StablemaxCe")]
[HrmJob(warmupCount: 2, iterationCount: 5)]
public class StablemaxCeBench
{
    private HrmLoss? _loss;
    private float[] _logits = [];   // (B, L, V)
    private int[] _labels = [];     // (B, L)
    private float[] _qHalt = [];    // (B)
    private float[] _qCont = [];    // (B)
    private float[] _target = [];   // (B)
    private float[] _dLogits = [];  // (B, L, V)
    private float[] _dq = [];       // (B, 2)

    [ParamsSource(nameof(Shapes))]
    public LossShape Shape { get; set; } = new(1, 1, 1);

    public static IEnumerable<LossShape> Shapes() => [new(64, 81, 11), new(768, 81, 11), new(3, 37, 13)];

    [GlobalSetup]
    public void Setup()
    {
        LossShape s = Shape;
        long n = (long)s.B * s.L;
        _loss = new HrmLoss(s.B, s.L, s.V, LossType.StablemaxCrossEntropy);
        _logits = BenchData.Uniform(1, n * s.V, 3f);
        _labels = BenchData.Ints(2, n, 0, s.V);
        for (int b = 0; b < s.B; b++) _labels[b * s.L] = HrmLoss.IgnoreLabel;
        _qHalt = BenchData.Uniform(3, s.B, 2f);
        _qCont = BenchData.Uniform(4, s.B, 2f);
        _target = BenchData.Uniform(5, s.B, 0.5f);
        for (int b = 0; b < s.B; b++) _target[b] += 0.5f;
        _dLogits = new float[n * s.V];
        _dq = new float[2 * s.B];
    }

    [Benchmark]
    public double Loss() =>
        _loss!.Compute(_logits, _labels, _qHalt, _qCont, _target, training: true, Shape.B, [], []).Total;

    [Benchmark]
    public double LossAndGradient() =>
        _loss!.Compute(_logits, _labels, _qHalt, _qCont, _target, training: true, Shape.B, _dLogits, _dq).Total;
}
