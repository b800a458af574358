using System.Globalization;
using Hrm.Runtime.Formats;
using Hrm.Runtime.Solver;
using Hrm.Train.Data;
using Hrm.Train.Training;

namespace Hrm.Train.Tests.Cli;

/// <summary><c>hrm eval --halting</c>, <c>--max-steps</c> sweeps and the solver against <c>hrm predict</c>.</summary>
public sealed class EvalHaltingCliTests : CliHarness
{
    [Fact]
    public void Halting_eval_matches_predict_writes_segments_and_sweeps()
    {
        string model = TrainTiny();
        string[] common = ["eval", "--checkpoint", model, "--data", P("data"), "--threads", "2", "--device", "cpu"];
        (int code, string output, string err) = Hrm(["predict", "--checkpoint", model, "--inputs", P("data/test/all__inputs.npy"),
            "--max-steps", "3", "--threads", "2", "--device", "cpu", "--out", P("predict")]);
        Assert.True(code == 0, err);
        (code, output, err) = Hrm([.. common, "--halting", "fixed", "--max-steps", "3", "--batch-size", "5", "--out", P("fixed")]);
        Assert.True(code == 0, err);
        Assert.Contains("eval/exact_accuracy", output);
        Assert.Equal(Npy.Read(P("predict/predictions.npy")).ToInt32(), Npy.Read(P("fixed/predictions.npy")).ToInt32());
        Assert.Equal(Npy.Read(P("predict/q_halt_logits.npy")).ToFloat32(), Npy.Read(P("fixed/q_halt_logits.npy")).ToFloat32());
        Assert.All(Npy.Read(P("fixed/segments.npy")).ToInt32(), s => Assert.Equal(3, s));

        (code, output, err) = Hrm([.. common, "--halting", "adaptive", "--max-steps", "6", "--out", P("adaptive")]);
        Assert.True(code == 0, err);
        Assert.Contains("fixed 6", output);
        Assert.Contains("adaptive 1..6", output);
        NpyArray segments = Npy.Read(P("adaptive/segments.npy"));
        Assert.Equal(new long[] { 16 }, segments.Shape);
        Assert.Equal("<i4", segments.Descr);
        Assert.All(segments.ToInt32(), s => Assert.InRange(s, 1, 6));
        // Into the same folder, the reference evaluation removes the halting run's segments.npy, and back.
        (code, output, err) = Hrm([.. common, "--max-steps", "3", "--out", P("adaptive")]);
        Assert.True(code == 0, err);
        Assert.Contains("removed segments.npy, which an eval --halting run had left in", output);
        Assert.False(File.Exists(P("adaptive/segments.npy")));
        Assert.True(File.Exists(P("adaptive/logits.npy")));
        (code, output, err) = Hrm([.. common, "--halting", "fixed", "--max-steps", "3", "--out", P("adaptive")]);
        Assert.True(code == 0, err);
        Assert.Contains("removed logits.npy, which a reference evaluation or predict run had left in", output);
        Assert.False(File.Exists(P("adaptive/logits.npy")));
        Assert.True(File.Exists(P("adaptive/segments.npy")));

        (code, output, err) = Hrm([.. common, "--halting", "adaptive", "--halt-margin", "inf", "--max-steps", "4"]);
        Assert.True(code == 0, err);
        foreach (string metric in (string[])["eval/accuracy", "eval/exact_accuracy", "mean segments"])
        {
            double[] v = Numbers(output, metric);
            Assert.Equal(v[0], v[1]);
        }
        Assert.Equal(4.0, Numbers(output, "mean segments")[1]);

        (code, output, err) = Hrm([.. common, "--max-steps", "1,2,4", "--min-steps", "2"]);
        Assert.True(code == 0, err);
        Assert.Contains("max_steps | fixed exact", output);
        foreach (int m in (int[])[1, 2, 4])
            Assert.Contains(output.Split('\n'), line => line.TrimStart().StartsWith($"{m} |", StringComparison.Ordinal));
    }

    [Fact]
    public void Adaptive_with_a_margin_never_met_equals_fixed_through_the_evaluator()
    {
        string model = TrainTiny();
        using PuzzleDataset test = PuzzleDataset.Open(P("data"), "test");
        using HrmSolver solver = HrmSolver.Load(model, new SolverOptions { Device = SolverDevice.Cpu, Threads = 2, BatchSlots = 3 });
        SolverEvalResult f = SolverEvaluator.Run(solver, test, new HaltingPolicy(HaltingMode.Fixed, 5), keepOutputs: true);
        SolverEvalResult a = SolverEvaluator.Run(solver, test,
            new HaltingPolicy(HaltingMode.Adaptive, 5, margin: float.PositiveInfinity), keepOutputs: true);
        Assert.Equal(f.Predictions, a.Predictions);
        Assert.Equal(f.QHalt, a.QHalt);
        Assert.Equal(f.Segments, a.Segments);
        Assert.Equal((f.Accuracy, f.ExactAccuracy), (a.Accuracy, a.ExactAccuracy));
        Assert.Equal(16, f.Metrics.Count);
    }

    [Fact]
    public void Bad_halting_flags_are_usage_errors()
    {
        string model = TrainTiny();
        string[] common = ["eval", "--checkpoint", model, "--data", P("data"), "--threads", "2"];
        (int code, _, string err) = Hrm([.. common, "--min-steps", "2"]);
        Assert.Equal(2, code);
        Assert.Contains("--min-steps applies to --halting adaptive", err);
        Assert.Equal(2, Hrm([.. common, "--max-steps", "1,0"]).Code);
        Assert.Equal(2, Hrm([.. common, "--halting", "sometimes"]).Code);
        Assert.Equal(2, Hrm([.. common, "--halting", "adaptive", "--halt-margin", "x"]).Code);
        Assert.Contains("--out writes one run", Hrm([.. common, "--max-steps", "1,2", "--out", P("o")]).Err);
        (code, string output, err) = Hrm("solve", "--checkpoint", model, "--puzzle", "1.3..4.2.1.34..1", "--halting", "adaptive",
            "--max-steps", "5");
        Assert.True(code is 0 or 3, err);
        Assert.Contains("segments:", output);
    }

    /// <summary>A 4x4 dataset (64 train, 16 test) and a sudoku-tiny checkpoint after 4 epochs; returns its path.</summary>
    private string TrainTiny()
    {
        (int code, _, string err) = Hrm("data", "sudoku", "--generate", "64", "--test", "16", "--size", "4",
            "--min-givens", "8", "--max-givens", "10", "--num-aug", "1", "--seed", "2", "--out", P("data"));
        Assert.True(code == 0, err);
        (code, _, err) = Hrm("train", "--preset", "sudoku-tiny", "--data", P("data"), "--run-dir", P("run"),
            "--set", "epochs=4", "--set", "eval_interval=4", "--threads", "2");
        Assert.True(code == 0, err);
        return Path.Combine(Directory.GetDirectories(P("run/checkpoints")).Order().Last(), "model.safetensors");
    }

    /// <summary>The numbers printed after <paramref name="metric"/> on its line.</summary>
    private static double[] Numbers(string output, string metric)
    {
        string line = output.Split('\n').Single(l => l.StartsWith(metric + " ", StringComparison.Ordinal));
        return [.. line[metric.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(x => double.Parse(x, CultureInfo.InvariantCulture))];
    }
}
