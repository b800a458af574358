using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Config;
using Hrm.Runtime.Model;
using Hrm.Runtime.Numerics;
using Hrm.Train.Analysis;
using Hrm.Train.Cli;
using Hrm.Train.Data;
using Hrm.Train.Tests.Training;

namespace Hrm.Train.Tests.Analysis;

public sealed class CarryRecorderTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("hrm-carry-");

    public void Dispose() => _dir.Delete(recursive: true);

    private static HrmModel TinyModel(ulong seed)
    {
        var cfg = new HrmConfig
        {
            HiddenSize = 32, NumHeads = 2, HLayers = 1, LLayers = 1, HCycles = 1, LCycles = 2, HaltMaxSteps = 4,
            SeqLen = 16, VocabSize = 6, PuzzleEmbNdim = 32, NumPuzzleIdentifiers = 2,
        };
        var model = new HrmModel(cfg, new CpuBackend(2));
        model.Initialize(new HrmRandom(seed));
        return model;
    }

    [Fact]
    public void The_history_holds_the_prediction_after_every_segment()
    {
        using HrmModel model = TinyModel(5);
        var rng = new Random(8);
        int[] tokens = [.. Enumerable.Range(0, 16).Select(_ => rng.Next(1, 6))];
        ActRun run = ActRunner.Run(model, tokens, 3);
        Assert.Equal(3, run.History.Length);
        Assert.Same(run.Predicted, run.History[^1]);
        var logits = new float[16 * 6];
        for (int k = 1; k <= 3; k++)
        {
            model.Evaluate(tokens, [0], k);   // a fresh carry run for exactly k segments
            model.ReadLogits(logits);
            int[] expected = [.. Enumerable.Range(0, 16).Select(i => PredictCommand.ArgMax(logits.AsSpan(i * 6, 6)))];
            Assert.Equal(expected, run.History[k - 1]);
        }
        int last = Enumerable.Range(1, 3).Last(k => k == 1 || !run.History[k - 1].SequenceEqual(run.History[k - 2]));
        Assert.Equal(last, run.StableSince);
    }

    [Fact]
    public void Recorded_carries_do_not_depend_on_the_batch_and_read_carry_checks_lengths()
    {
        string data = TrainingFixtures.Build4x4(Path.Combine(_dir.FullName, "data"), train: 8, test: 7);
        using PuzzleDataset test = PuzzleDataset.Open(data, "test");
        using HrmModel model = TinyModel(9);
        CarryTrajectories a = CarryRecorder.Record(model, test, examples: 5, maxSteps: 3, batch: 2);   // chunks 2, 2, 1 (padded)
        CarryTrajectories b = CarryRecorder.Record(model, test, examples: 5, maxSteps: 3, batch: 5);
        Assert.Equal((5, 3, 17, 32), (a.Examples, a.Segments, a.Positions, a.Hidden));   // T = 16 + one puzzle-embedding position
        Assert.Equal(5 * 3 * 17 * 32, a.ZH.Length);
        for (int i = 0; i < a.ZH.Length; i++)
        {
            Assert.True(Math.Abs(a.ZH[i] - b.ZH[i]) <= 1e-5f * (1 + Math.Abs(b.ZH[i])), $"z_H[{i}]: {a.ZH[i]} vs {b.ZH[i]}");
            Assert.True(Math.Abs(a.ZL[i] - b.ZL[i]) <= 1e-5f * (1 + Math.Abs(b.ZL[i])), $"z_L[{i}]: {a.ZL[i]} vs {b.ZL[i]}");
        }
        int state = 17 * 32;
        Assert.False(a.ZH.AsSpan(0, state).SequenceEqual(a.ZH.AsSpan(state, state)), "z_H moves between segments");
        Assert.False(a.ZL.AsSpan(0, state).SequenceEqual(a.ZL.AsSpan(3 * state, state)), "examples differ");

        model.Reserve(2, training: false);
        Assert.Contains("z_H: expected B·T·C = 2·17·32",
            Assert.Throws<ArgumentException>(() => model.ReadCarry(new float[10], new float[2 * state])).Message);
        Assert.Contains("z_L: expected", Assert.Throws<ArgumentException>(() => model.ReadCarry(new float[2 * state], new float[10])).Message);
        Assert.Throws<ArgumentException>(() => CarryRecorder.Record(model, test, examples: 8, maxSteps: 1, batch: 2));
    }
}
