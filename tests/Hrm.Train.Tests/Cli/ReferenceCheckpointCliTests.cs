using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Formats;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;
using Hrm.Runtime.Puzzles;
using Hrm.Runtime.Tests.Formats;
using Hrm.Runtime.Tests.TestUtil;
using Hrm.Train.Data;

namespace Hrm.Train.Tests.Cli;

/// <summary>
/// A checkpoint as the reference leaves it, used the way its users have it: the <c>step_N</c> file
/// (<c>torch.save</c> of the state dict, <c>_orig_mod.</c> names) and the run's <c>all_config.yaml</c>, whose arch
/// section leaves seq_len, vocab_size and num_puzzle_identifiers to the data. <c>hrm eval</c> takes them from the
/// dataset and <c>hrm solve</c> from the puzzle, and both answer exactly what our safetensors copy of the same weights
/// answers; with all_config.yaml beside the checkpoint (the reference's layout) no --config is needed.
/// </summary>
public sealed class ReferenceCheckpointCliTests : CliHarness
{
    private const string AllConfig = """
        arch:
          H_cycles: 1
          H_layers: 1
          L_cycles: 1
          L_layers: 1
          expansion: 4
          halt_exploration_prob: 0.1
          halt_max_steps: 2
          hidden_size: 32
          loss:
            loss_type: stablemax_cross_entropy
            name: losses@ACTLossHead
          name: hrm.hrm_act_v1@HierarchicalReasoningModel_ACTV1
          num_heads: 2
          pos_encodings: rope
          puzzle_emb_ndim: 32
        beta1: 0.9
        beta2: 0.95
        checkpoint_every_eval: true
        checkpoint_path: checkpoints/Maze-30x30-hard-1k ACT-torch/HierarchicalReasoningModel_ACTV1
          loose-caracara
        data_path: data/maze-30x30-hard-1k
        epochs: 20000
        eval_interval: 2000
        eval_save_outputs: []
        global_batch_size: 768
        lr: 0.0001
        lr_min_ratio: 1.0
        lr_warmup_steps: 2000
        project_name: Maze-30x30-hard-1k ACT-torch
        puzzle_emb_lr: 0.0001
        puzzle_emb_weight_decay: 1.0
        run_name: HierarchicalReasoningModel_ACTV1 loose-caracara
        seed: 0
        weight_decay: 1.0

        """;

    /// <summary>
    /// The reference's own files (tests/fixtures/reference: PyTorch's torch.save, PyYAML's all_config.yaml, nothing
    /// else in the folder), used exactly as a user would: `hrm predict --checkpoint step_N` finds all_config.yaml
    /// beside it, takes seq_len from the inputs and the vocabulary and puzzle count from the checkpoint's tensors,
    /// says nothing about the reference's name and loss keys (one line on forward_dtype), and writes what the
    /// reference's evaluation computed.
    /// </summary>
    [Theory]
    [InlineData("rope-fp32", "eval", 1e-5)]
    [InlineData("learned-bf16", "eval_fp32", 1e-5)]
    public void Predict_on_the_references_own_checkpoint_gives_its_outputs(string fixture, string key, double tol)
    {
        using ReferenceFixture f = ReferenceFixture.Open(fixture);
        int[] tokens = f.Ints("eval/inputs"), ids = f.Ints("eval/puzzle_identifiers");
        Npy.WriteInt32(P("inputs.npy"), tokens, [ids.Length, tokens.Length / ids.Length]);
        Npy.WriteInt32(P("ids.npy"), ids, [ids.Length]);
        (int code, string output, string err) = Hrm("predict", "--checkpoint", f.CheckpointPath, "--inputs",
            P("inputs.npy"), "--puzzle-identifiers", P("ids.npy"), "--device", "cpu", "--threads", "2", "--out", P("out"));
        Assert.True(code == 0, err);
        Assert.Contains("all_config.yaml", output + err, StringComparison.Ordinal); // says which file it read
        string warning = Assert.Single(err.Split('\n'), l => l.Contains("warning", StringComparison.Ordinal));
        Assert.Contains("forward_dtype", warning, StringComparison.Ordinal); // both fixtures set it; name, loss: silent
        foreach (string name in new[] { "logits", "q_halt_logits", "q_continue_logits" })
        {
            double rel = ReferenceFixture.RelNorm(Npy.Read(Path.Combine(P("out"), name + ".npy")).ToFloat32(),
                f.Floats($"{key}/{name}"));
            Assert.True(rel < tol, $"{name}: {rel:G3} from the reference's");
        }
    }

    /// <summary>
    /// `hrm convert` turns the reference's folder into one safetensors file carrying the architecture: it loads
    /// alone, predicts to the last bit what the reference's file predicts, and keeps H_init/L_init as the run had
    /// them (float32 for a float32-forward run: never rounded; bf16 for the reference's default).
    /// </summary>
    [Theory]
    [InlineData("rope-fp32", TensorDType.F32)]
    [InlineData("learned-bf16", TensorDType.BF16)]
    public void Convert_makes_one_self_contained_file_that_predicts_the_same(string fixture, TensorDType initDType)
    {
        using ReferenceFixture f = ReferenceFixture.Open(fixture);
        int[] tokens = f.Ints("eval/inputs"), ids = f.Ints("eval/puzzle_identifiers");
        Npy.WriteInt32(P("inputs.npy"), tokens, [ids.Length, tokens.Length / ids.Length]);
        Npy.WriteInt32(P("ids.npy"), ids, [ids.Length]);

        (int code, _, string err) = Hrm("convert", "--checkpoint", f.CheckpointPath, "--out", P("model.safetensors"));
        Assert.Equal(2, code); // the run config leaves seq_len to the dataset
        Assert.Contains("--seq-len", err, StringComparison.Ordinal);
        string seqLen = (tokens.Length / ids.Length).ToString(System.Globalization.CultureInfo.InvariantCulture);
        string model = P("new/folder/model.safetensors"); // folders made as needed
        (code, string output, err) = Hrm("convert", "--checkpoint", f.CheckpointPath, "--seq-len", seqLen, "--out",
            model);
        Assert.True(code == 0, err);
        Assert.Contains("wrote " + model, output, StringComparison.Ordinal);
        Assert.Equal(f.Config, HrmCheckpoint.ReadConfig(model));
        using (SafeTensorsFile st = SafeTensorsFile.Open(model))
        {
            Assert.Equal(initDType, st.Get(ParameterLayout.Names.HInit).DType);
            Assert.Equal(initDType, st.Get(ParameterLayout.Names.LInit).DType);
        }

        string[] predict = ["predict", "--inputs", P("inputs.npy"), "--puzzle-identifiers", P("ids.npy"), "--device",
            "cpu", "--threads", "2"];
        (code, _, err) = Hrm([.. predict, "--checkpoint", f.CheckpointPath, "--out", P("theirs")]);
        Assert.True(code == 0, err);
        (code, _, err) = Hrm([.. predict, "--checkpoint", model, "--out", P("ours")]);
        Assert.True(code == 0, err);
        Assert.DoesNotContain("warning", err, StringComparison.Ordinal); // no all_config.yaml read: the file says all
        foreach (string name in new[] { "logits.npy", "q_halt_logits.npy", "q_continue_logits.npy" })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(P("theirs"), name)),
                File.ReadAllBytes(Path.Combine(P("ours"), name)));
        }

        // Refused: writing over a PyTorch checkpoint; --seq-len for an architecture that gives it.
        File.Copy(f.CheckpointPath, P("step_1"));
        (code, _, err) = Hrm("convert", "--checkpoint", model, "--out", P("step_1"));
        Assert.Equal(2, code);
        Assert.Contains("PyTorch checkpoint", err, StringComparison.Ordinal);
        (code, _, err) = Hrm("convert", "--checkpoint", model, "--seq-len", seqLen, "--out", P("again.safetensors"));
        Assert.Equal(2, code);
        Assert.Contains("--seq-len is not used", err, StringComparison.Ordinal);
    }

    [Fact]
    public void A_reference_maze_checkpoint_with_its_all_config_yaml_evaluates_and_solves_as_our_copy()
    {
        (int code, _, string err) = Hrm("data", "maze", "--generate", "4", "--test", "2", "--min-path-length", "20",
            "--seed", "3", "--out", P("maze"));
        Assert.True(code == 0, err);
        File.WriteAllText(P("maze.json"), """
            {"hidden_size": 32, "num_heads": 2, "H_layers": 1, "L_layers": 1, "H_cycles": 1, "L_cycles": 1,
             "halt_max_steps": 2, "seq_len": 900, "vocab_size": 6, "puzzle_emb_ndim": 32}
            """);
        Assert.Equal(0, Hrm("init", "--config", P("maze.json"), "--seed", "4", "--out", P("ours.safetensors")).Code);
        using (HrmModel m = HrmCheckpoint.Load(P("ours.safetensors"), new CpuBackend(1)))
            TorchSaveWriter.Of(m).Save(P("step_26041"));
        File.WriteAllText(P("all_config.yaml"), AllConfig);

        string[] eval = ["eval", "--data", P("maze"), "--max-steps", "2", "--device", "cpu", "--threads", "2"];
        (code, string ours, err) = Hrm([.. eval, "--checkpoint", P("ours.safetensors")]);
        Assert.True(code == 0, err);
        (code, string reference, err) = Hrm([.. eval, "--checkpoint", P("step_26041"), "--config", P("all_config.yaml")]);
        Assert.True(code == 0, err);
        Assert.DoesNotContain("warning", err, StringComparison.Ordinal); // the reference's name and loss: no noise
        Assert.Equal(Metrics(ours), Metrics(reference));
        Assert.Contains("eval/exact_accuracy", Metrics(ours), StringComparison.Ordinal);

        MazeRecord maze = MazeGenerator.Generate(1, new MazeGeneratorOptions { Seed = 9, Threads = 1 },
            TestContext.Current.CancellationToken)[0];
        File.WriteAllText(P("m.txt"), MazeBoard.Format(maze.Puzzle) + "\n");
        string[] solve = ["solve", "--maze", P("m.txt"), "--device", "cpu", "--threads", "2"];
        (int c1, string a, _) = Hrm([.. solve, "--checkpoint", P("ours.safetensors")]);
        (int c2, string b, err) = Hrm([.. solve, "--checkpoint", P("step_26041"), "--config", P("all_config.yaml")]);
        Assert.True(c2 is 0 or 3, err);
        Assert.Equal(c1, c2);
        Assert.Equal(WithoutTimes(a), WithoutTimes(b));

        // The reference's layout, step_N beside the run's all_config.yaml: no --config needed.
        Directory.CreateDirectory(P("run"));
        File.Copy(P("step_26041"), P("run/step_26041"));
        File.Copy(P("all_config.yaml"), P("run/all_config.yaml"));
        (code, string beside, err) = Hrm([.. eval, "--checkpoint", P("run/step_26041")]);
        Assert.True(code == 0, err);
        Assert.Contains("the checkpoint carries no architecture: using " + P("run/all_config.yaml"), err,
            StringComparison.Ordinal);
        Assert.Equal(Metrics(ours), Metrics(beside));
        (c2, b, err) = Hrm([.. solve, "--checkpoint", P("run/step_26041")]);
        Assert.True(c2 == c1, err);
        Assert.Equal(WithoutTimes(a), WithoutTimes(b));

        // `hrm convert --data`: the dims from the dataset, its identifiers.json beside the model; the file evaluates
        // as our own copy does, with no config file around.
        (code, _, err) = Hrm("convert", "--checkpoint", P("run/step_26041"), "--data", P("maze"), "--out",
            P("converted/model.safetensors"));
        Assert.True(code == 0, err);
        Assert.Equal(File.ReadAllBytes(P("maze/identifiers.json")), File.ReadAllBytes(P("converted/identifiers.json")));
        (code, string converted, err) = Hrm([.. eval, "--checkpoint", P("converted/model.safetensors")]);
        Assert.True(code == 0, err);
        Assert.Equal(Metrics(ours), Metrics(converted));
        File.WriteAllText(P("converted/identifiers.json"), """["<blank>", "another"]""");
        (code, _, err) = Hrm("convert", "--checkpoint", P("run/step_26041"), "--data", P("maze"), "--out",
            P("converted/again.safetensors"));
        Assert.Equal(1, code); // a folder holds one dataset's identifiers
        Assert.Contains("differs", err, StringComparison.Ordinal);
        // A model that carries its dims, with another dataset (4x4 Sudoku: seq_len 16 against the maze's 900).
        Assert.Equal(0, Hrm("data", "sudoku", "--generate", "4", "--test", "2", "--size", "4", "--seed", "1", "--out",
            P("sudoku4")).Code);
        (code, _, err) = Hrm("convert", "--checkpoint", P("converted/model.safetensors"), "--data", P("sudoku4"),
            "--out", P("wrong.safetensors"));
        Assert.Equal(1, code);
        Assert.Contains("not the dataset this model was trained on", err, StringComparison.Ordinal);

        // A run that trained with the softmax loss (arch.loss.loss_type): its lm_loss is evaluated with that loss, as
        // `--loss softmax_cross_entropy` asks of our copy; --loss still wins.
        Directory.CreateDirectory(P("softmax"));
        File.WriteAllText(P("softmax/all_config.yaml"), AllConfig.Replace("loss_type: stablemax_cross_entropy",
            "loss_type: softmax_cross_entropy", StringComparison.Ordinal));
        File.Copy(P("step_26041"), P("softmax/step_26041"));
        (code, string softmax, err) = Hrm([.. eval, "--checkpoint", P("softmax/step_26041")]);
        Assert.True(code == 0, err);
        (code, string oursSoftmax, err) = Hrm([.. eval, "--checkpoint", P("ours.safetensors"), "--loss",
            "softmax_cross_entropy"]);
        Assert.True(code == 0, err);
        Assert.Equal(Metrics(oursSoftmax), Metrics(softmax));
        Assert.NotEqual(Metrics(ours), Metrics(softmax)); // lm_loss differs
        (code, string asked, err) = Hrm([.. eval, "--checkpoint", P("softmax/step_26041"), "--loss",
            "stablemax_cross_entropy"]);
        Assert.True(code == 0, err);
        Assert.Equal(Metrics(ours), Metrics(asked));

        // Beside a wrong all_config.yaml (hidden_size 64): --config wins, and a checkpoint that carries its own
        // architecture never looks at the file.
        Directory.CreateDirectory(P("wrong"));
        File.WriteAllText(P("wrong/all_config.yaml"), AllConfig.Replace("hidden_size: 32", "hidden_size: 64",
            StringComparison.Ordinal));
        File.Copy(P("step_26041"), P("wrong/step_26041"));
        File.Copy(P("ours.safetensors"), P("wrong/ours.safetensors"));
        (code, _, err) = Hrm([.. eval, "--checkpoint", P("wrong/step_26041")]);
        Assert.Equal(1, code);
        Assert.Contains("does not match", err, StringComparison.Ordinal); // the wrong file was read, and said so
        (code, string chosen, err) = Hrm([.. eval, "--checkpoint", P("wrong/step_26041"), "--config", P("all_config.yaml")]);
        Assert.True(code == 0, err);
        Assert.DoesNotContain("using", err, StringComparison.Ordinal);
        Assert.Equal(Metrics(ours), Metrics(chosen));
        (code, string own, err) = Hrm([.. eval, "--checkpoint", P("wrong/ours.safetensors")]);
        Assert.True(code == 0, err);
        Assert.DoesNotContain("all_config.yaml", err, StringComparison.Ordinal);
        Assert.Equal(Metrics(ours), Metrics(own));

        // Alone, the error says what to pass.
        File.Delete(P("all_config.yaml"));
        (code, _, err) = Hrm([.. solve, "--checkpoint", P("step_26041")]);
        Assert.Equal(1, code);
        Assert.Contains("a PyTorch checkpoint carries no architecture: pass --config FILE", err, StringComparison.Ordinal);
    }

    /// <summary>
    /// The reference's released checkpoints (`sapientinc/HRM-checkpoint-*`: one file called `checkpoint`; the ARC-2 one
    /// without its all_config.yaml, the reference's issue #9) were trained with its task configs: `--preset NAME` gives
    /// that architecture to every model command, num_puzzle_identifiers from the checkpoint's puzzle table, and the
    /// answers are our own copy's. `hrm info --checkpoint` says what such a file holds and whether it fits.
    /// </summary>
    [Fact]
    public void A_checkpoint_without_its_config_runs_with_a_preset_and_info_says_what_it_holds()
    {
        (int code, _, string err) = Hrm("data", "sudoku", "--generate", "4", "--test", "2", "--seed", "1", "--out", P("sudoku"));
        Assert.True(code == 0, err);
        Assert.Equal(0, Hrm("init", "--preset", "tiny", "--seed", "6", "--out", P("ours.safetensors")).Code);
        Directory.CreateDirectory(P("released"));
        string released = P("released/checkpoint");
        using (HrmModel m = HrmCheckpoint.Load(P("ours.safetensors"), new CpuBackend(1)))
            TorchSaveWriter.Of(m).Save(released);

        string[] eval = ["eval", "--data", P("sudoku"), "--max-steps", "2", "--device", "cpu", "--threads", "2"];
        (code, string ours, err) = Hrm([.. eval, "--checkpoint", P("ours.safetensors")]);
        Assert.True(code == 0, err);
        (code, string preset, err) = Hrm([.. eval, "--checkpoint", released, "--preset", "tiny"]);
        Assert.True(code == 0, err);
        Assert.Equal(Metrics(ours), Metrics(preset));
        Assert.Contains("eval/exact_accuracy", Metrics(ours), StringComparison.Ordinal);
        string[] solve = ["solve", "--puzzle", "8..........36......7..9.2...5...7.......457.....1...3...1....68..85...1..9....4..",
            "--max-steps", "2", "--device", "cpu", "--threads", "2"];
        (int c1, string a, _) = Hrm([.. solve, "--checkpoint", P("ours.safetensors")]);
        (int c2, string b, err) = Hrm([.. solve, "--checkpoint", released, "--preset", "tiny"]);
        Assert.True(c2 == c1, err);
        Assert.Equal(WithoutTimes(a), WithoutTimes(b));
        (code, _, err) = Hrm("convert", "--checkpoint", released, "--preset", "tiny", "--out", P("converted.safetensors"));
        Assert.True(code == 0, err); // the preset gives seq_len: no --data or --seq-len needed
        (code, string converted, err) = Hrm([.. eval, "--checkpoint", P("converted.safetensors")]);
        Assert.True(code == 0, err);
        Assert.Equal(Metrics(ours), Metrics(converted));

        (code, _, err) = Hrm([.. eval, "--checkpoint", released, "--preset", "tiny", "--config", P("x.json")]);
        Assert.Equal(2, code);
        Assert.Contains("give --config or --preset, not both", err, StringComparison.Ordinal);
        (code, _, err) = Hrm([.. eval, "--checkpoint", released, "--preset", "sudoku-extreme-1k"]);
        Assert.Equal(1, code); // the wrong task config: the first tensor that does not fit, named
        Assert.Contains("model.inner.embed_tokens.embedding_weight: shape [11, 64] does not match [11, 512]", err,
            StringComparison.Ordinal);
        (code, _, err) = Hrm([.. eval, "--checkpoint", released]);
        Assert.Equal(1, code);
        Assert.Contains("or --preset NAME", err, StringComparison.Ordinal);

        (code, string info, err) = Hrm("info", "--checkpoint", released);
        Assert.True(code == 0, err);
        Assert.Contains("a PyTorch checkpoint (torch.save), 23 tensors", info, StringComparison.Ordinal);
        Assert.Contains("model.inner.puzzle_emb.weights", info, StringComparison.Ordinal);
        Assert.Contains("the tensors give: hidden_size 64, vocab_size 11, H_layers 2, L_layers 2, SwiGLU width 256, " +
            "puzzle table 1 x 64 (num_puzzle_identifiers 1, puzzle_emb_ndim 64), no position table (RoPE)", info,
            StringComparison.Ordinal);
        Assert.Contains("architecture: none stored", info, StringComparison.Ordinal);
        (code, info, err) = Hrm("info", "--checkpoint", released, "--preset", "tiny");
        Assert.True(code == 0, err);
        long parameters = new ParameterLayout(Runtime.Config.HrmPresets.Get("tiny")).ParameterCount;
        Assert.Contains($"check: every tensor fits; num_params (dense, as the reference logs it) {parameters:N0}", info,
            StringComparison.Ordinal);
        (code, info, _) = Hrm("info", "--checkpoint", released, "--preset", "sudoku-extreme-1k");
        Assert.Equal(1, code);
        Assert.Contains("check: does not fit: " + released + ": model.inner.embed_tokens.embedding_weight", info,
            StringComparison.Ordinal);
        (code, info, err) = Hrm("info", "--checkpoint", P("ours.safetensors"));
        Assert.True(code == 0, err);
        Assert.Contains("safetensors, 23 tensors", info, StringComparison.Ordinal);
        Assert.Contains("metadata format: hrm-safetensors-1", info, StringComparison.Ordinal);
        Assert.Contains("architecture (the file's own)", info, StringComparison.Ordinal);
        Assert.Equal(2, Hrm("info", "--checkpoint", P("ours.safetensors"), "--seq-len", "81").Code);

        // The reference's own files: learned positions give seq_len; RoPE leaves it to the data unless given.
        using ReferenceFixture learned = ReferenceFixture.Open("learned-bf16");
        (code, info, err) = Hrm("info", "--checkpoint", learned.CheckpointPath);
        Assert.True(code == 0, err);
        Assert.Contains("learned positions (seq_len 30)", info, StringComparison.Ordinal);
        Assert.Contains("architecture (all_config.yaml beside it)", info, StringComparison.Ordinal);
        Assert.Contains("check: every tensor fits", info, StringComparison.Ordinal);
        using ReferenceFixture rope = ReferenceFixture.Open("rope-fp32");
        (code, info, err) = Hrm("info", "--checkpoint", rope.CheckpointPath);
        Assert.True(code == 0, err);
        Assert.Contains("seq_len: left to the dataset", info, StringComparison.Ordinal);
        Assert.DoesNotContain("\"seq_len\"", info, StringComparison.Ordinal);
        (code, info, err) = Hrm("info", "--checkpoint", rope.CheckpointPath, "--seq-len", "81");
        Assert.True(code == 0, err);
        Assert.Contains("\"seq_len\":81", info, StringComparison.Ordinal);
    }

    private static string Metrics(string output) =>
        string.Join('\n', output.Split('\n').Where(l => l.StartsWith("eval/", StringComparison.Ordinal) ||
            l.StartsWith("train/", StringComparison.Ordinal)));

    private static string WithoutTimes(string output) =>
        string.Join('\n', output.Split('\n').Select(l => l.Contains(" ms", StringComparison.Ordinal) ? l[..l.LastIndexOf(';')] : l)
            .Where(l => !l.StartsWith("device: ", StringComparison.Ordinal)));
}
