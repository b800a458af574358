using System.Globalization;
using System.Runtime.InteropServices;
using Hrm.Runtime.Config;
using Hrm.Runtime.Formats;
using Hrm.Train.Training;

namespace Hrm.Train.Cli;

/// <summary><c>hrm train</c>: starts a run from a run config or preset, or resumes one exactly.</summary>
internal static class TrainCommand
{
    public const string Usage =
        "hrm train (--config FILE | --preset NAME) [--set key=value ...] [--data DIR] [--run-dir DIR]\n" +
        "          [--init-checkpoint FILE] [--device auto|cpu|cuda[:N]|reference] [--threads N] [--micro-batch N]\n" +
        "          [--profile] " + GemmArgs.Usage + "\n" +
        "       hrm train --resume RUN_DIR [--device ...] [--threads N] [--micro-batch N] [--profile]\n" +
        "          " + GemmArgs.Usage + "\n" +
        "  --micro-batch N (micro_batch_size): a step takes its global batch N rows at a time, adding up the gradients\n" +
        "  (one optimiser update a step; N divides global_batch_size); 0, the default, takes the whole batch when it\n" +
        "  fits in the device's memory and else the largest divisor that does, and says so\n" +
        "  --profile prints the time spent in each backend op at the end\n" +
        "  on a GPU the linear layers run as bf16 GEMMs with fp32 accumulation and fp32 master weights (the default,\n" +
        "  --bf16-matmul; the reference's forward is bf16 too); --fp32-matmul runs them in fp32. The CPU always\n" +
        "  computes in fp32. With bf16 GEMMs the forwards that are not recorded keep their residual stream in bf16,\n" +
        "  as the reference does (--bf16-stream, the default; about 3% faster a step on an H200); --no-bf16-stream\n" +
        "  keeps it in fp32. --resume without these continues with the run's choices (compute.json); --threads with\n" +
        "  --resume replaces the run's thread count.\n" +
        "  Ctrl+C (or SIGTERM) stops after the step in progress with a checkpoint of it (exit code 130 or 143);\n" +
        "  --resume continues from there bit for bit.";

    public static int Run(ReadOnlySpan<string> argv, TextWriter o, TextWriter err)
    {
        var args = new CliArgs("train", argv,
            ["config", "preset", "data", "run-dir", "init-checkpoint", "device", "threads", "micro-batch", "resume"],
            flags: ["profile", .. GemmArgs.Flags],
            repeatable: ["set"]);
        bool profile = args.Has("profile");
        bool? gemm = GemmArgs.Given(args, "train");
        bool? stream = GemmArgs.Stream(args); // resume without a stream flag: as recorded
        IReadOnlyList<string> sets = args.GetAll("set");
        string device = args.Get("device") ?? "auto";
        bool interactive = !Console.IsOutputRedirected && ReferenceEquals(o, Console.Out);
        Trainer trainer;
        if (args.Get("resume") is { } resumeDir)
        {
            if (args.Has("config") || args.Has("preset") || sets.Count > 0 || args.Has("data") || args.Has("run-dir") ||
                args.Has("init-checkpoint"))
            {
                throw new UsageException("train", "--resume continues a run with its saved config; it takes no " +
                    "--config/--preset/--set/--data/--run-dir/--init-checkpoint");
            }
            int? threads = args.Has("threads") ? args.GetThreads() : null;
            int? micro = args.Has("micro-batch") ? args.GetInt("micro-batch", 0, min: 0) : null;
            trainer = Trainer.Resume(resumeDir, device, o, interactive, profile, gemm, threads, micro, // null: as so far
                warnings: err, bf16Stream: stream);
        }
        else
        {
            RunConfig cfg = LoadRunConfig(args, sets, err, out string name);
            if (args.Get("data") is { } data) cfg = cfg with { DataPath = data };
            if (args.Has("threads")) cfg = cfg with { Threads = args.GetThreads() };
            if (args.Has("micro-batch")) cfg = cfg with { MicroBatchSize = args.GetInt("micro-batch", 0, min: 0) };
            string runDir = args.Get("run-dir") ??
                Path.Combine("runs", $"{name}-{DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}");
            trainer = Trainer.Create(cfg, runDir, args.Get("init-checkpoint"), device, o, interactive, profile,
                gemm ?? true, stream ?? true);
        }
        using (trainer)
        {
            o.WriteLine($"run directory: {trainer.RunDir}; {trainer.TotalSteps:N0} steps at global batch {trainer.Config.GlobalBatchSize}" +
                (trainer.MicroBatches > 1
                    ? $" in {trainer.MicroBatches} micro-batches of {trainer.Config.GlobalBatchSize / trainer.MicroBatches} rows"
                    : ""));
            int signal = RunUntilSignal(trainer, err);
            if (trainer.ProfileReport() is { } report) o.Write(report);
            string metrics = Path.Combine(trainer.RunDir, "metrics.jsonl");
            if (trainer.Interrupted)
            {
                o.WriteLine($"interrupted at step {trainer.Step} of {trainer.TotalSteps}; checkpoint {trainer.LastCheckpoint}; " +
                    $"metrics {metrics}; hrm train --resume {trainer.RunDir} continues it, bit for bit");
                return 128 + signal;
            }
            o.WriteLine($"done at step {trainer.Step}; checkpoint {trainer.LastCheckpoint}; metrics {metrics}");
        }
        return 0;
    }

    /// <summary>
    /// Runs the trainer; the first SIGINT (Ctrl+C) or SIGTERM asks it to stop after the step in progress with a
    /// checkpoint of it, a second one quits at once. Returns the signal's number (2 or 15), or 0 when none came.
    /// </summary>
    private static int RunUntilSignal(Trainer trainer, TextWriter err)
    {
        int signal = 0;
        var stop = new CancellationTokenSource(); // not disposed: a handler may still run as the registrations go
        void OnSignal(PosixSignalContext ctx)
        {
            if (Interlocked.CompareExchange(ref signal, ctx.Signal == PosixSignal.SIGINT ? 2 : 15, 0) != 0)
                return; // the second one: the default, quit now
            ctx.Cancel = true;
            stop.Cancel();
            string again = ctx.Signal == PosixSignal.SIGINT ? "Ctrl+C again" : "a second signal";
            err.WriteLine($"{Environment.NewLine}hrm: stopping after the step in progress with a checkpoint of it (an " +
                $"evaluation due runs first, or first thing on --resume); {again} quits at once, losing the steps " +
                "since the last checkpoint");
        }
        using (PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal))
        using (PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal))
            trainer.Run(stop.Token);
        return trainer.Interrupted ? Volatile.Read(ref signal) : 0;
    }

    /// <summary>--config FILE (a JSON run config or the reference's all_config.yaml) or --preset NAME, then the --set
    /// overrides.</summary>
    public static RunConfig LoadRunConfig(CliArgs args, IReadOnlyList<string> sets, TextWriter err, out string name)
    {
        string? file = args.Get("config"), preset = args.Get("preset");
        if ((file == null) == (preset == null))
            throw new UsageException("train", $"give exactly one of --config FILE or --preset NAME ({string.Join(", ", RunPresets.Names)})");
        string json, source;
        if (file != null)
        {
            json = BoundedFile.ReadAllText(file, "run config", BoundedFile.MaxJsonBytes);
            source = file;
            name = Path.GetFileNameWithoutExtension(file);
        }
        else
        {
            json = RunConfigJson.Serialize(RunPresets.Get(preset!));
            source = "preset " + preset;
            name = preset!;
        }
        RefuseDatasetKeys("train", sets);
        var warnings = new List<string>();
        RunConfig cfg = RunConfigJson.Parse(json, sets, warnings, source);
        foreach (string w in warnings) err.WriteLine("hrm: warning: " + w);
        return cfg;
    }

    /// <summary>
    /// A run takes <c>seq_len</c>, <c>vocab_size</c> and <c>num_puzzle_identifiers</c> from its dataset, whatever the
    /// config says (the reference builds its model from the dataset's metadata and fails when the arch gives them
    /// too): a <c>--set</c> of one would be replaced without a word, so it is refused.
    /// </summary>
    internal static void RefuseDatasetKeys(string command, IReadOnlyList<string> sets)
    {
        foreach (string set in sets)
        {
            string key = set.Split('=', 2)[0].Trim();
            if (key.StartsWith("arch.", StringComparison.Ordinal)) key = key[5..];
            if (key is "seq_len" or "vocab_size" or "num_puzzle_identifiers")
            {
                throw new UsageException(command, $"--set {set.Split('=', 2)[0].Trim()}: a run takes {key} from its " +
                    "dataset (dataset.json); it cannot be set");
            }
        }
    }
}
