using BenchmarkDotNet.Attributes;
using Hrm.Bench.Compare;
using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Config;
using Hrm.Runtime.Model;
using Hrm.Runtime.Numerics;
using Hrm.Train.Training;

namespace Hrm.Bench.E2E;

/// <summary>
/// One training step as the trainer runs it (<see cref="OurTrainingStep"/>, shared with <c>compare</c>), Sudoku
/// config: ACT reset of halted rows, recorded segment, Q-target segment, stablemax + Q BCE loss, 1-step backward,
/// AdamATan2 on the dense parameters, SignSGD on the puzzle rows. Labels are the tokens with one ignored position
/// per row.
/// </summary>
[MemoryDiagnoser]
[JsonExporterAttribute.Full]
[BenchmarkCategory("E2E", "Cpu")]
[HrmJob(warmupCount: 1, iterationCount: 3)]
public class TrainingStepBench : IDisposable
{
    private HrmModel? _model;
    private OurTrainingStep? _step;
    private int[] _tokens = [];  // (B, L)
    private int[] _labels = [];  // (B, L)
    private int[] _ids = [];     // (B)

    [Params(32)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        HrmConfig config = HrmPresets.Get("sudoku-extreme-1k");
        _model = new HrmModel(config, new CpuBackend());
        _model.Initialize(new HrmRandom(1));
        _step = new OurTrainingStep(_model, Batch);
        (_tokens, _labels, _ids) = OurTrainingStep.Inputs(config, Batch);
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _step?.Dispose();
        _step = null;
        _model?.Dispose();
        _model = null;
        GC.SuppressFinalize(this);
    }

    [Benchmark]
    public double TrainingStep() => _step!.Step(_tokens, _labels, _ids);
}
