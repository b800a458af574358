using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Loss;
using Hrm.Runtime.Model;
using Hrm.Train.Cli;
using Hrm.Train.Data;
using Hrm.Train.Training;

namespace Hrm.Train.Tests.Training;

/// <summary>
/// eval_examples (training) and `hrm eval --examples N`: a fixed seeded sample of a test split too large to evaluate
/// whole, each example computed exactly as in the whole-split evaluation.
/// </summary>
public sealed class EvalSampleTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("hrm-evalsample-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string P(string name) => Path.Combine(_dir.FullName, name);

    [Fact]
    public void The_sample_is_fixed_by_its_seed_sorted_and_without_repeats()
    {
        int[] a = Evaluator.Sample(1000, 100, seed: 7)!, b = Evaluator.Sample(1000, 100, seed: 7)!;
        Assert.Equal(a, b);
        Assert.Equal(100, a.Distinct().Count());
        Assert.Equal(a.Order(), a);
        Assert.All(a, i => Assert.InRange(i, 0, 999));
        Assert.NotEqual(a, Evaluator.Sample(1000, 100, seed: 8));
        Assert.Null(Evaluator.Sample(1000, 0, seed: 7));
        Assert.Null(Evaluator.Sample(1000, 1000, seed: 7)); // every example: no sample
        // Uniform: the sample's examples spread over the split (a mean near the middle).
        Assert.InRange(Evaluator.Sample(100_000, 10_000, seed: 1)!.Average(), 48_000, 52_000);
    }

    [Fact]
    public void Each_sampled_example_is_evaluated_as_in_the_whole_split()
    {
        string data = TrainingFixtures.Build4x4(P("data"), train: 32, test: 24);
        Assert.Equal(0, CommandLine.Run(["init", "--preset", "tiny", "--out", P("m.safetensors")], TextWriter.Null, TextWriter.Null));
        using PuzzleDataset test = PuzzleDataset.Open(data, "test");
        var cfg = TrainingFixtures.Tiny(data).Arch with { SeqLen = test.SeqLen, VocabSize = test.Metadata.VocabSize };
        using var model = new HrmModel(cfg, new CpuBackend(2));
        model.Initialize(new Runtime.Numerics.HrmRandom(5));
        model.Reserve(4, training: false);
        int n = test.ExampleCount, l = cfg.SeqLen, v = cfg.VocabSize;
        var all = new EvalOutputs(n, l, v);
        IReadOnlyDictionary<string, double> whole = Evaluator.Run(model, test, 2, LossType.StablemaxCrossEntropy, all);
        Assert.False(whole.ContainsKey("eval/examples"));
        int[] sample = Evaluator.Sample(n, 7, seed: 3)!;
        var some = new EvalOutputs(sample.Length, l, v);
        var seen = new List<int>();
        IReadOnlyDictionary<string, double> part = Evaluator.Run(model, test, 2, LossType.StablemaxCrossEntropy, some,
            (first, rows, _, _) => seen.Add(first + rows), examples: sample);
        Assert.Equal(7.0, part["eval/examples"]);
        Assert.Equal([4, 7], seen); // positions in the sample
        for (int i = 0; i < sample.Length; i++)
        {
            float[] expected = all.Logits.AsSpan(sample[i] * l * v, l * v).ToArray();
            float[] got = some.Logits.AsSpan(i * l * v, l * v).ToArray();
            for (int k = 0; k < expected.Length; k++) Assert.Equal(expected[k], got[k], 1e-5f);
            Assert.Equal(all.QHalt[sample[i]], some.QHalt[i], 1e-5f);
        }
        // The sample's metrics do not depend on the batch (the last chunk's padding rows are left out of q_halt_loss):
        // batch 4 pads one row of the 7, batch 7 none.
        using var seven = new HrmModel(cfg, new CpuBackend(2));
        seven.Initialize(new Runtime.Numerics.HrmRandom(5));
        seven.Reserve(7, training: false);
        IReadOnlyDictionary<string, double> unpadded = Evaluator.Run(seven, test, 2, LossType.StablemaxCrossEntropy,
            examples: sample);
        Assert.Equal(part.Keys.Order(), unpadded.Keys.Order());
        foreach ((string k, double value) in part)
            Assert.True(Math.Abs(value - unpadded[k]) <= 1e-6 * Math.Max(1, Math.Abs(value)), $"{k}: {value} vs {unpadded[k]}");
        // Every example listed: the whole split's numbers.
        IReadOnlyDictionary<string, double> listed = Evaluator.Run(model, test, 2, LossType.StablemaxCrossEntropy,
            examples: [.. Enumerable.Range(0, n)]);
        foreach ((string k, double value) in whole) Assert.Equal(value, listed[k], 1e-9);
    }

    [Fact]
    public void A_run_with_eval_examples_evaluates_its_sample_and_hrm_eval_takes_one_too()
    {
        string data = TrainingFixtures.Build4x4(P("data"), train: 48, test: 40);
        RunConfig cfg = TrainingFixtures.Tiny(data) with { EvalExamples = 9, Epochs = 2, EvalInterval = 1 };
        using (Trainer t = Trainer.Create(cfg, P("run"), null, "cpu", TextWriter.Null, interactive: false))
        {
            t.Run(TestContext.Current.CancellationToken);
            Assert.Equal(9.0, t.LastEval!["eval/examples"]);
        }
        Assert.Equal(2, File.ReadAllLines(P("run/metrics.jsonl")).Count(l => l.Contains("\"eval/examples\":9", StringComparison.Ordinal)));
        Assert.Contains("\"eval_examples\": 9", File.ReadAllText(P("run/config.json")), StringComparison.Ordinal);

        string model = Path.Combine(Trainer.LatestCheckpoint(P("run"))!, "model.safetensors");
        var o = new StringWriter();
        var e = new StringWriter();
        string[] eval = ["eval", "--checkpoint", model, "--data", data, "--device", "cpu", "--threads", "2"];
        Assert.Equal(0, CommandLine.Run([.. eval, "--examples", "9", "--seed", "7"], o, e));
        Assert.Contains("9 examples (a sample of 40)", o.ToString(), StringComparison.Ordinal);
        Assert.Contains("eval/examples", o.ToString(), StringComparison.Ordinal);
        Assert.Equal(2, CommandLine.Run([.. eval, "--seed", "7"], TextWriter.Null, TextWriter.Null));
        Assert.Equal(2, CommandLine.Run([.. eval, "--examples", "9", "--out", P("out")], TextWriter.Null, TextWriter.Null));
        Assert.Equal(2, CommandLine.Run([.. eval, "--examples", "9", "--max-steps", "1,2"], TextWriter.Null, TextWriter.Null));
    }
}
