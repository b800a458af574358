using System.Globalization;
using Hrm.Runtime.Backends;
using Hrm.Runtime.Config;
using Hrm.Runtime.Model;
using Hrm.Runtime.Numerics;
using Hrm.Train.Analysis;
using Hrm.Train.Data;
using Hrm.Train.Render;

namespace Hrm.Train.Cli;

/// <summary>
/// <c>hrm analyze participation-ratio</c>: the HRM paper's dimensionality analysis (section 4, "Brain
/// Correspondence"): the participation ratio of z_H and of z_L over the states of evaluation trajectories, for the
/// trained checkpoint and for a freshly initialised model of the same config.
/// </summary>
/// <remarks>
/// The paper computes the covariance "derived from neural states gathered across multiple Sudoku-solving
/// trajectories" (100 of them) without saying more. Here a trajectory is one test example run for max-steps
/// segments from a fresh carry, and a state is the carry after each segment. With <c>--sample sequence</c>
/// (default) one sample is a module's whole state, the T x C values of one example after one segment (every unit of
/// the module is one "neuron", as in the population-activity analyses the paper compares with), so there are N·S
/// samples of T·C values; with <c>--sample position</c> one sample is the C-vector of one position (N·S·T samples
/// of C values). T includes the puzzle-embedding prefix.
/// </remarks>
internal static class AnalyzeCommand
{
    public const string Usage =
        "hrm analyze participation-ratio --checkpoint FILE --data DIR [--split test] [--examples N] [--max-steps N]\n" +
        "            [--seed S] [--sample sequence|position] [--batch-size N] [--config FILE | --preset NAME] [--device ...] [--threads N]\n" +
        "            [--out pr.png] " + GemmArgs.ModelUsage;

    private static readonly string[] Options =
        ["checkpoint", "data", "split", "examples", "max-steps", "seed", "sample", "batch-size", "config", "preset", "device", "threads", "out"];

    public static int Run(ReadOnlySpan<string> argv, TextWriter o, TextWriter err)
    {
        if (argv.Length == 0 || argv[0] != "participation-ratio")
            throw new UsageException("analyze", "expected what to analyze: participation-ratio");
        var args = new CliArgs("analyze", argv[1..], Options, GemmArgs.ModelFlags);
        Hrm.Runtime.Backends.Cuda.CudaBackendOptions gemm = GemmArgs.Cuda(args, "analyze");
        string data = args.Require("data"), device = args.Get("device") ?? "auto";
        string? output = args.GetOutFile("out");
        args.CheckNotInput("out", "checkpoint", "config");
        if (output != null && !output.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            throw new UsageException("analyze", $"--out '{output}': the picture is a PNG; name the file *.png");
        bool perPosition = (args.Get("sample") ?? "sequence") switch
        {
            "sequence" => false,
            "position" => true,
            string s => throw new UsageException("analyze", $"--sample: expected sequence or position, got '{s}'"),
        };
        ulong seed = args.GetSeed("seed", 0);
        int threads = args.GetThreads();
        using PuzzleDataset split = PuzzleDataset.Open(data, args.Get("split") ?? "test");
        HrmConfig? cfgOverride = ConfigSource.ForCheckpoint(args, args.Require("checkpoint"), err,
            () => (split.Metadata.SeqLen, split.Metadata.VocabSize, split.Metadata.NumPuzzleIdentifiers));
        int examples = Math.Min(args.GetInt("examples", 100, min: 1), split.ExampleCount);
        int batch = args.GetInt("batch-size", 64, min: 1);

        HrmConfig cfg;
        int maxSteps;
        (double H, double L) trained, fresh;
        string samples;
        IHrmBackend backend = BackendFactory.Create(device, threads, gemm, out string notice);
        using (HrmModel model = HrmCheckpoint.Load(args.Require("checkpoint"), backend, cfgOverride))
        {
            cfg = model.Config;
            maxSteps = args.GetMaxSteps(cfg.HaltMaxSteps);
            if (!perPosition && examples * maxSteps < 2)
            {
                throw new UsageException("analyze",
                    $"{examples} example x {maxSteps} segment is one sample; a covariance needs at least 2 (raise --examples or --max-steps)");
            }
            o.WriteLine($"{notice}; {examples} examples x {maxSteps} segments");
            (trained, samples) = Measure(model, split, examples, maxSteps, batch, perPosition);
        }
        using (var model = new HrmModel(cfg, BackendFactory.Create(device, threads, gemm, out _)))
        {
            model.Initialize(new HrmRandom(seed));
            (fresh, _) = Measure(model, split, examples, maxSteps, batch, perPosition);
        }
        o.WriteLine($"participation ratio over {samples}");
        o.WriteLine($"{"model",-22} {"z_H",9} {"z_L",9} {"z_H/z_L",9}");
        string untrained = $"untrained (seed {seed})";
        Row(o, "trained", trained);
        Row(o, untrained, fresh);
        if (!double.IsFinite(trained.H + trained.L + fresh.H + fresh.L))
            o.WriteLine("n/a: every sample of that state is the same (no variance), so its ratio is undefined");
        if (output == null) return 0;
        ParticipationRatioPicture.Save(output, $"{args.Require("checkpoint")}: {samples}",
            [("trained", trained.H, trained.L), (untrained, fresh.H, fresh.L)]);
        o.WriteLine($"wrote {output}");
        return 0;
    }

    private static ((double H, double L) Pr, string Samples) Measure(HrmModel model, PuzzleDataset split, int examples,
        int maxSteps, int batch, bool perPosition)
    {
        CarryTrajectories tr = CarryRecorder.Record(model, split, examples, maxSteps, batch);
        int states = tr.Examples * tr.Segments;
        (int n, int d) = perPosition ? (states * tr.Positions, tr.Hidden) : (states, tr.Positions * tr.Hidden);
        string what = perPosition ? $"one position's C = {tr.Hidden} values" : $"one example's whole state, T x C = {tr.Positions} x {tr.Hidden}";
        string samples = string.Create(CultureInfo.InvariantCulture,
            $"{n:N0} samples of {d:N0} values\n(sample = {what}, after each segment)");
        return ((ParticipationRatio.OfSamples(tr.ZH, n, d), ParticipationRatio.OfSamples(tr.ZL, n, d)), samples);
    }

    private static void Row(TextWriter o, string name, (double H, double L) pr)
    {
        static string F(double v) => double.IsFinite(v) ? v.ToString("F2", CultureInfo.InvariantCulture) : "n/a";
        o.WriteLine($"{name,-22} {F(pr.H),9} {F(pr.L),9} {F(pr.H / pr.L),9}");
    }
}
