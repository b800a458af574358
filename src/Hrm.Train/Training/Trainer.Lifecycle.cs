using System.Globalization;
using Hrm.Runtime.Backends;
using Hrm.Runtime.Config;
using Hrm.Runtime.Formats;
using Hrm.Runtime.Model;
using Hrm.Runtime.Numerics;
using Hrm.Train.Data;

namespace Hrm.Train.Training;

public sealed partial class Trainer
{
    /// <summary>Checkpoint directories: <c>RUN/checkpoints/step_N/{model,train_state}.safetensors</c>.</summary>
    public const string CheckpointsDir = "checkpoints";

    /// <summary>
    /// Starts a run in <paramref name="runDir"/>: vocab_size, seq_len and num_puzzle_identifiers come from the
    /// training split's metadata (as in the reference); weights are initialised from the seed or loaded from
    /// <paramref name="initCheckpoint"/> (fine-tuning, or a converted reference checkpoint). With
    /// <paramref name="profile"/> the backend is wrapped in a <see cref="ProfilingBackend"/> (time per op, see
    /// <see cref="ProfileReport"/>). <paramref name="bf16Matmul"/> (the default) runs the linear layers as bf16 GEMMs on
    /// a GPU (<see cref="Hrm.Runtime.Backends.Cuda.CudaBackendOptions.Bf16Matmul"/>; false: fp32 GEMMs; the CPU always
    /// computes in fp32); <paramref name="bf16Stream"/> with them the bf16 no-grad residual stream
    /// (<see cref="Hrm.Runtime.Backends.Cuda.CudaBackendOptions.Bf16Stream"/>). The trainer holds the run
    /// directory's lock (<see cref="RunLock"/>) until disposed: another trainer there meets an
    /// <see cref="IOException"/>.
    /// </summary>
    public static Trainer Create(RunConfig cfg, string runDir, string? initCheckpoint, string device, TextWriter output,
        bool interactive, bool profile = false, bool bf16Matmul = true, bool bf16Stream = true) =>
        WithLock(runDir, create: true, () => CreateCore(cfg, runDir, initCheckpoint, device, output, interactive,
            profile, bf16Matmul, bf16Stream));

    private static Trainer CreateCore(RunConfig cfg, string runDir, string? initCheckpoint, string device,
        TextWriter output, bool interactive, bool profile, bool bf16Matmul, bool bf16Stream)
    {
        RefuseExistingRun(runDir);
        (PuzzleDataset train, PuzzleDataset? test) = OpenData(cfg.DataPath);
        HrmModel? model = null;
        try
        {
            DatasetMetadata md = train.Metadata;
            cfg = cfg with
            {
                Arch = cfg.Arch with { VocabSize = md.VocabSize, SeqLen = md.SeqLen, NumPuzzleIdentifiers = md.NumPuzzleIdentifiers },
            };
            cfg.Validate();
            IHrmBackend backend = CreateBackend(device, cfg.Threads, profile, bf16Matmul, bf16Stream,
                out string notice);
            model = new HrmModel(cfg.Arch, backend);
            if (initCheckpoint != null) HrmCheckpoint.LoadInto(model, initCheckpoint);
            else model.Initialize(new HrmRandom(cfg.Seed));
            output.WriteLine($"{notice}; {model.Layout.ParameterCount:N0} parameters; " +
                             $"{train.ExampleCount:N0} train examples in {train.GroupCount:N0} groups" +
                             (test != null ? $", {test.ExampleCount:N0} test examples" : ", no test split"));
            int micro = MicroBatchChoice.Resolve(model, cfg.GlobalBatchSize, cfg.MicroBatchSize, null, out string? why);
            if (why != null) output.WriteLine(why);
            var compute = RunCompute.Of(backend, bf16Matmul, MicroBatchRecord(cfg, micro), bf16Stream && bf16Matmul);
            // The run's files once the trainer accepts the config (a batch that makes no step, say, is refused there):
            // a refused run leaves no config.json behind, which would make its directory look like a run.
            var t = new Trainer(cfg, runDir, model, train, test, output, interactive, resumeStep: -1, compute, micro);
            try
            {
                WriteAtomically(Path.Combine(runDir, "config.json"), RunConfigJson.Serialize(cfg));
                compute.Write(runDir);
            }
            catch
            {
                t.Dispose();
                throw;
            }
            return t;
        }
        catch
        {
            model?.Dispose();
            train.Dispose();
            test?.Dispose();
            throw;
        }
    }

    /// <summary>The run config of <paramref name="runDir"/> (its warnings to <paramref name="warnings"/>), with the
    /// thread count and micro-batch size replaced where given.</summary>
    private static RunConfig ResumeConfig(string runDir, int? threads, int? microBatch, TextWriter warnings,
        out string configPath)
    {
        configPath = Path.Combine(runDir, "config.json");
        if (!File.Exists(configPath))
            throw new HrmFormatException(runDir, "config.json", "not a run directory (no config.json); start one with hrm train");
        var found = new List<string>();
        string text = BoundedFile.ReadAllText(configPath, "run config", BoundedFile.MaxJsonBytes);
        RunConfig cfg = RunConfigJson.Parse(text, [], found, configPath);
        foreach (string w in found) warnings.WriteLine("hrm: warning: " + w);
        if (threads is { } n) cfg = cfg with { Threads = n };
        if (microBatch is { } mb)
        {
            cfg = cfg with { MicroBatchSize = mb };
            cfg.Validate();
        }
        return cfg;
    }

    /// <summary>The GEMM precision and residual stream a resumed run continues with: as asked, else as recorded in
    /// <paramref name="was"/> (fp32 GEMMs where nothing is). The stream goes with bf16 GEMMs only: a run recorded
    /// with bf16 GEMMs keeps its stream (runs recorded before the stream was: none), one that switches to bf16 GEMMs
    /// takes the default, the bf16 stream.</summary>
    private static (bool Bf16, bool Stream) ResumeArithmetic(bool? bf16Matmul, bool? bf16Stream, RunCompute? was)
    {
        bool bf16 = bf16Matmul ?? was?.Bf16Matmul ?? false;
        if (bf16Stream == true && !bf16)
        {
            throw new ArgumentException("--bf16-stream needs bf16 GEMMs, and the run continues with fp32 GEMMs " +
                "(its compute.json, or --fp32-matmul): add --bf16-matmul", nameof(bf16Stream));
        }
        bool stream = bf16Stream ?? (was is { Bf16Matmul: true } ? was.Bf16Stream : true);
        return (bf16, stream && bf16); // fp32 GEMMs: no bf16 stream to keep
    }

    /// <summary>Continues the run in <paramref name="runDir"/> from its latest checkpoint, bit for bit with the same
    /// arithmetic (device, GEMM precision, residual stream, CPU threads). <paramref name="bf16Matmul"/> null continues
    /// with the run's recorded choice (<c>compute.json</c>; runs without one date from before 2026-11-30, when fp32
    /// GEMMs were the default, and continue with fp32), and <paramref name="bf16Stream"/> null with the recorded
    /// residual stream (<see cref="ResumeArithmetic"/>; true with fp32 GEMMs is refused:
    /// <see cref="ArgumentException"/>);
    /// <paramref name="threads"/> replaces the run config's thread count. A change of arithmetic is said in one line;
    /// the next checkpoint records the new one. Warnings about the saved config go to <paramref name="warnings"/>
    /// (null: <paramref name="output"/>; the CLI passes standard error). The trainer holds the run directory's lock
    /// (<see cref="RunLock"/>) until disposed: another trainer there meets an <see cref="IOException"/>.</summary>
    public static Trainer Resume(string runDir, string device, TextWriter output, bool interactive, bool profile = false,
        bool? bf16Matmul = null, int? threads = null, int? microBatch = null, TextWriter? warnings = null,
        bool? bf16Stream = null) =>
        WithLock(runDir, create: false, () => ResumeCore(runDir, device, output, interactive, profile, bf16Matmul,
            threads, microBatch, warnings, bf16Stream));

    private static Trainer ResumeCore(string runDir, string device, TextWriter output, bool interactive, bool profile,
        bool? bf16Matmul, int? threads, int? microBatch, TextWriter? warnings, bool? bf16Stream)
    {
        RunConfig cfg = ResumeConfig(runDir, threads, microBatch, warnings ?? output, out string configPath);
        string ckpt = LatestCheckpoint(runDir) ?? throw new HrmFormatException(runDir, CheckpointsDir,
            "no checkpoint to resume from (checkpoints/step_N with model.safetensors and train_state.safetensors)");
        RunCompute? was = RunCompute.Read(runDir);
        (bool bf16, bool stream) = ResumeArithmetic(bf16Matmul, bf16Stream, was);
        (PuzzleDataset train, PuzzleDataset? test) = OpenData(cfg.DataPath);
        HrmModel? model = null;
        try
        {
            DatasetMetadata md = train.Metadata;
            if ((md.SeqLen, md.VocabSize, md.NumPuzzleIdentifiers) !=
                (cfg.Arch.SeqLen, cfg.Arch.VocabSize, cfg.Arch.NumPuzzleIdentifiers))
            {
                throw new HrmFormatException(configPath, "data_path", $"{cfg.DataPath} has seq_len {md.SeqLen}, " +
                    $"vocab_size {md.VocabSize}, num_puzzle_identifiers {md.NumPuzzleIdentifiers}; the run's model " +
                    $"{cfg.Arch.SeqLen}, {cfg.Arch.VocabSize}, {cfg.Arch.NumPuzzleIdentifiers}: not the data it trained on");
            }
            IHrmBackend backend = CreateBackend(device, cfg.Threads, profile, bf16, stream, out string notice);
            string modelPath = Path.Combine(ckpt, "model.safetensors");
            model = HrmCheckpoint.Load(modelPath, backend, cfg.Arch);
            string statePath = Path.Combine(ckpt, "train_state.safetensors");
            TrainingState st = TrainingState.Load(statePath, cfg.GlobalBatchSize, cfg.Arch.SeqLen);
            CheckSteps(ckpt, modelPath, statePath, st.Step);
            int micro = MicroBatchChoice.Resolve(model, cfg.GlobalBatchSize, cfg.MicroBatchSize,
                was != null ? was.MicroBatch : 0, out string? why);
            if (why != null) output.WriteLine(why);
            RunCompute now = RunCompute.Of(backend, bf16, MicroBatchRecord(cfg, micro), stream);
            var t = new Trainer(cfg, runDir, model, train, test, output, interactive, st.Step, now, micro);
            try
            {
                t.Restore(st, statePath);
                t.LastCheckpoint = ckpt;
            }
            catch
            {
                t.Dispose(); // its log file too; the model and the data are disposed again below (harmless)
                throw;
            }
            output.WriteLine($"{notice}; resumed {runDir} at step {st.Step} from {ckpt}");
            t.WarnDroppedMetrics(warnings ?? output);
            if (was?.ChangeTo(now) is { } change) output.WriteLine(change);
            if (was == null && bf16Matmul == null && now.Device == "cuda")
            {
                output.WriteLine($"note: {runDir} has no {RunCompute.FileName} (a run from before 2026-11-30, when fp32 " +
                                 "GEMMs were the default): it continues with fp32 GEMMs (--bf16-matmul for bf16)");
            }
            return t;
        }
        catch
        {
            model?.Dispose();
            train.Dispose();
            test?.Dispose();
            throw;
        }
    }

    /// <summary>compute.json's micro_batch: 0 for the whole batch.</summary>
    private static int MicroBatchRecord(RunConfig cfg, int micro) => micro == cfg.GlobalBatchSize ? 0 : micro;

    /// <summary>The checkpoint directory with the highest step in <paramref name="runDir"/>, or null.</summary>
    public static string? LatestCheckpoint(string runDir)
    {
        string dir = Path.Combine(runDir, CheckpointsDir);
        if (!Directory.Exists(dir)) return null;
        return Directory.GetDirectories(dir, "step_*")
            .Select(d => (Dir: d, Ok: long.TryParse(Path.GetFileName(d).AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out long n), N: n))
            .Where(x => x.Ok && File.Exists(Path.Combine(x.Dir, "train_state.safetensors")) &&
                        File.Exists(Path.Combine(x.Dir, "model.safetensors")))
            .OrderByDescending(x => x.N)
            .Select(x => x.Dir)
            .FirstOrDefault();
    }

    /// <summary>A checkpoint's three records of its step agree: the folder's name, train_state's and the model's.</summary>
    private static void CheckSteps(string ckpt, string modelPath, string statePath, long step)
    {
        long folder = long.Parse(Path.GetFileName(ckpt).AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture);
        if (step != folder)
            throw new HrmFormatException(statePath, "__metadata__.step", $"is {step}, but the folder is {Path.GetFileName(ckpt)}");
        if (HrmCheckpoint.Inspect(modelPath).Metadata.TryGetValue("step", out string? saved) &&
            saved != step.ToString(CultureInfo.InvariantCulture))
        {
            throw new HrmFormatException(modelPath, "__metadata__.step", $"is {saved}, but the checkpoint is of step {step} " +
                "(a model from another checkpoint?)");
        }
    }

    private void Restore(TrainingState st, string statePath)
    {
        long passes = Config.Epochs / Config.EvalInterval;
        if (st.Step > TotalSteps)
            throw new HrmFormatException(statePath, "__metadata__.step", $"step {st.Step} is past this run's {TotalSteps} steps");
        if (st.Sampler.Pass >= passes)
            throw new HrmFormatException(statePath, "__metadata__.sampler.pass", $"pass {st.Sampler.Pass} is past this run's {passes} passes");
        if (st.Sampler.Position > _sampler.PassLength || (st.Sampler.Pass < 0 && st.Sampler.Position != 0))
        {
            throw new HrmFormatException(statePath, "__metadata__.sampler.position", $"position {st.Sampler.Position} is " +
                $"outside pass {st.Sampler.Pass} (0 to {_sampler.PassLength}; 0 before the first pass)");
        }
        int max = _model.Config.HaltMaxSteps;
        int badSteps = Array.FindIndex(st.Act.Steps, s => s < 0 || s > max);
        if (badSteps >= 0)
        {
            throw new HrmFormatException(statePath, $"carry.steps[{badSteps}]", $"is {st.Act.Steps[badSteps]}; a row has " +
                $"run 0 to halt_max_steps = {max} segments");
        }
        CheckSizes(st, statePath);
        Step = st.Step;
        IHrmBackend b = _model.Backend;
        // A value the state cannot take (ArgumentException) is reported under the field it came from.
        void Field(string name, Action restore)
        {
            try
            {
                restore();
            }
            catch (ArgumentException e)
            {
                throw new HrmFormatException(statePath, name, e.Message, e);
            }
        }
        Field("adam.m", () => b.Upload(st.AdamM, _step.AdamM));
        Field("adam.v", () => b.Upload(st.AdamV, _step.AdamV));
        Field("carry", () =>
        {
            st.Act.Steps.CopyTo(_act.Steps, 0);
            st.Act.Halted.CopyTo(_act.Halted, 0);
            st.Act.Tokens.CopyTo(_act.Tokens, 0);
            st.Act.Labels.CopyTo(_act.Labels, 0);
            st.Act.PuzzleIds.CopyTo(_act.PuzzleIds, 0);
            _step.LoadCarry(_act, st.CarryZH, st.CarryZL);
        });
        Field("__metadata__.sampler", () => _sampler.SetState(st.Sampler.Pass, st.Sampler.Position, st.Sampler.Rng));
        Field("__metadata__.exploration.rng", () => _explore.SetState(st.ExplorationRng));
    }

    private string SaveCheckpoint(string name)
    {
        _unsaved = false;
        string dir = Path.Combine(RunDir, CheckpointsDir, name);
        Directory.CreateDirectory(dir);
        CopyIdentifiers(dir);
        HrmCheckpoint.Save(_model, Path.Combine(dir, "model.safetensors"),
            new Dictionary<string, string> { ["step"] = Step.ToString(CultureInfo.InvariantCulture) });
        IHrmBackend b = _model.Backend;
        var m = new float[_step.AdamM.Length];
        var v = new float[_step.AdamV.Length];
        long carry = (long)Config.GlobalBatchSize * _model.Config.TotalSeqLen * _model.Config.HiddenSize;
        var zh = new float[carry];
        var zl = new float[carry];
        b.Download(_step.AdamM, m);
        b.Download(_step.AdamV, v);
        _step.SaveCarry(_act, zh, zl);
        new TrainingState
        {
            Step = Step, AdamM = m, AdamV = v, CarryZH = zh, CarryZL = zl, Act = _act,
            Sampler = _sampler.GetState(), ExplorationRng = _explore.GetState(),
            RunConfigJson = RunConfigJson.Serialize(Config),
        }.Save(Path.Combine(dir, "train_state.safetensors"));
        Compute.Write(RunDir); // what this checkpoint was computed with: --resume continues with it
        return dir;
    }

    private static (PuzzleDataset Train, PuzzleDataset? Test) OpenData(string root)
    {
        if (string.IsNullOrEmpty(root)) throw new HrmConfigException("data_path", "is empty; point it at a dataset directory (hrm data sudoku ...)");
        PuzzleDataset train = PuzzleDataset.Open(root, "train");
        PuzzleDataset? test = null;
        try
        {
            if (train.ExampleCount == 0)
                throw new HrmFormatException(DatasetLayout.SplitDir(root, "train"), "examples", "the train split has no examples");
            test = Directory.Exists(Path.Combine(root, "test")) ? PuzzleDataset.Open(root, "test") : null;
            if (test is { ExampleCount: 0 })
            {
                // What `hrm data sudoku --generate N` writes without --test: nothing to evaluate on ("no test split").
                test.Dispose();
                test = null;
            }
            if (test != null) CheckSplitsAgree(root, train.Metadata, test);
            // Read now, as eval and ARC solving read it: every checkpoint of the run carries a copy.
            _ = DatasetIdentifiers.Read(root, train.Metadata.NumPuzzleIdentifiers);
            return (train, test);
        }
        catch
        {
            test?.Dispose();
            train.Dispose();
            throw;
        }
    }

    /// <summary>The test split must be tokens of the same model: its dims equal the train split's.</summary>
    private static void CheckSplitsAgree(string root, DatasetMetadata train, PuzzleDataset test)
    {
        string path = Path.Combine(DatasetLayout.SplitDir(root, "test"), DatasetMetadata.FileName);
        DatasetMetadata t = test.Metadata;
        foreach ((string field, long a, long b) in (ValueTuple<string, long, long>[])[
            ("seq_len", t.SeqLen, train.SeqLen), ("vocab_size", t.VocabSize, train.VocabSize),
            ("pad_id", t.PadId, train.PadId),
            ("ignore_label_id", t.IgnoreLabelId ?? -1, train.IgnoreLabelId ?? -1),
            ("blank_identifier_id", t.BlankIdentifierId, train.BlankIdentifierId)])
        {
            if (a != b)
                throw new HrmFormatException(path, field, $"is {a} but the train split's is {b}: not splits of one dataset");
        }
        // The test split's puzzle ids index the train split's table (the reference's builds give both the same count).
        if (t.NumPuzzleIdentifiers > train.NumPuzzleIdentifiers)
        {
            throw new HrmFormatException(path, "num_puzzle_identifiers", $"is {t.NumPuzzleIdentifiers}, more than the " +
                $"train split's {train.NumPuzzleIdentifiers} (the model's puzzle table): not splits of one dataset");
        }
    }

    /// <summary>
    /// Copies the dataset's identifiers.json into a checkpoint directory: the puzzle identifiers (ARC views) the
    /// weights were trained with, which ARC solving needs (<see cref="Hrm.Runtime.Arc.ArcIdentifiers.FindFor"/>); and
    /// its alphabet.json (<c>hrm data pairs</c>), which text solving needs
    /// (<see cref="Hrm.Runtime.Solver.TextAlphabet.FindFor"/>).
    /// </summary>
    private void CopyIdentifiers(string dir)
    {
        foreach (string name in (string[])[DatasetLayout.IdentifiersFile, Hrm.Runtime.Solver.TextAlphabet.FileName])
        {
            string src = Path.Combine(Config.DataPath, name);
            if (!File.Exists(src)) continue;
            string dst = Path.Combine(dir, name);
            string tmp = dst + ".tmp-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
            File.Copy(src, tmp, overwrite: true);
            File.Move(tmp, dst, overwrite: true);
        }
    }

    internal static void WriteAtomically(string path, string text)
    {
        string tmp = path + ".tmp-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        File.WriteAllText(tmp, text);
        File.Move(tmp, path, overwrite: true);
    }

    private static IHrmBackend CreateBackend(string device, int threads, bool profile, bool bf16Matmul,
        bool bf16Stream, out string notice)
    {
        // Profiling times ops with the wall clock: a GPU backend then waits for each op to finish.
        var cudaOptions = new Hrm.Runtime.Backends.Cuda.CudaBackendOptions
        {
            SynchronizeEachOp = profile,
            Bf16Matmul = bf16Matmul,
            Bf16Stream = bf16Stream,
        };
        IHrmBackend backend = BackendFactory.Create(device, threads, cudaOptions, out notice);
        return profile ? new ProfilingBackend(backend) : backend;
    }

    /// <summary>Time per op so far when the run was started with profiling, else null.</summary>
    public string? ProfileReport() => (_model.Backend as ProfilingBackend)?.Report();
}
