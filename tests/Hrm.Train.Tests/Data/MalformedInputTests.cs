using System.Text;
using System.Text.RegularExpressions;
using Hrm.Runtime.Arc;
using Hrm.Runtime.Config;
using Hrm.Runtime.Formats;
using Hrm.Runtime.Solver;
using Hrm.Train.Data;
using Hrm.Train.Render;
using Hrm.Train.Tests.Training;
using Hrm.Train.Training;

namespace Hrm.Train.Tests.Data;

/// <summary>
/// The inputs a fuzzing run (2026-11-30: byte flips, extreme numbers, duplicated keys, lone surrogate escapes, over
/// every text reader) found getting past the readers' typed errors, each now refused with the file and the field.
/// </summary>
public sealed class MalformedInputTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("hrm-malformed-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string P(string name) => Path.Combine(_dir.FullName, name);

    private string Write(string name, string text)
    {
        File.WriteAllText(P(name), text);
        return P(name);
    }

    private string Write(string name, byte[] bytes)
    {
        File.WriteAllBytes(P(name), bytes);
        return P(name);
    }

    private const string NotText = "not text: a lone UTF-16 surrogate escape";

    /// <summary>identifiers.json names one identifier each: another count than dataset.json's is another build's file.
    /// </summary>
    [Fact]
    public void Identifier_names_must_count_the_datasets_identifiers()
    {
        Write("identifiers.json", """["<blank>", "a", "b"]""");
        Assert.Equal(["<blank>", "a", "b"], DatasetIdentifiers.Read(_dir.FullName, 3)!);
        var e = Assert.Throws<HrmFormatException>(() => DatasetIdentifiers.Read(_dir.FullName, 5));
        Assert.Equal(P("identifiers.json"), e.Path);
        Assert.Contains("lists 3 names, but dataset.json says num_puzzle_identifiers = 5", e.Message,
            StringComparison.Ordinal);
        File.Delete(P("identifiers.json"));
        Assert.Null(DatasetIdentifiers.Read(_dir.FullName, 5)); // absent: only ARC needs names
    }

    /// <summary>"\ud800" in JSON text, or a byte that is not UTF-8, parses but cannot be read as a string: every JSON
    /// reader names where it is.</summary>
    [Fact]
    public void Strings_that_are_not_text_are_named_in_every_json_reader()
    {
        string e = Assert.Throws<HrmConfigException>(() => HrmConfigFile.Load(Write("a.json", """{"\ud800": 1}"""), [])).Message;
        Assert.Contains("a key is " + NotText, e, StringComparison.Ordinal);
        e = Assert.Throws<HrmConfigException>(() => HrmConfigJson.Parse("""{"pos_encodings": "\udc00"}""")).Message;
        Assert.Contains("pos_encodings: " + NotText, e, StringComparison.Ordinal);
        e = Assert.Throws<HrmConfigException>(() => RunConfigJson.Parse("""{"data_path": "\ud800x"}""", [], [], "run.json")).Message;
        Assert.Contains("run.json: data_path: " + NotText, e, StringComparison.Ordinal);
        e = Assert.Throws<HrmConfigException>(() => RunConfigJson.Parse("{}", ["data_path=\"\\ud800\""], [], "run.json")).Message;
        Assert.Contains("'data_path': --set: the value is " + NotText, e, StringComparison.Ordinal);

        e = Assert.Throws<HrmFormatException>(() => ArcIdentifiers.ReadNames(Write("ids.json", """["<blank>", "\ud800"]"""))).Message;
        Assert.Contains("identifiers[1]", e, StringComparison.Ordinal);
        e = Assert.Throws<HrmFormatException>(() => ArcIdentifiers.ReadNames(Write("ff.json", [(byte)'[', (byte)'"', 0xFF,
            (byte)'"', (byte)']']))).Message;
        Assert.Contains("identifiers[0]: " + NotText, e, StringComparison.Ordinal);
        e = Assert.Throws<HrmFormatException>(() => ArcTaskReader.Parse("""{"name": "\ud800", "train": [], "test": []}"""u8,
            "t.json", "t", isEvaluation: false)).Message;
        Assert.Contains("t.json: name: " + NotText, e, StringComparison.Ordinal);
        e = Assert.Throws<HrmFormatException>(() => MetricsLogReader.Read(Write("metrics.jsonl", "{\"step\":1,\"\\ud800\":1}\n"))).Message;
        Assert.Contains("line 1: not valid JSON (a key is " + NotText, e, StringComparison.Ordinal);
        e = Assert.Throws<HrmFormatException>(() => DatasetMetadata.Parse("""
            {"pad_id": 0, "ignore_label_id": 0, "blank_identifier_id": 0, "vocab_size": 11, "seq_len": 81,
             "num_puzzle_identifiers": 1, "total_groups": 1, "mean_puzzle_examples": 1.0, "sets": ["\ud800"]}
            """, "dataset.json")).Message;
        Assert.Contains("sets[0]: " + NotText, e, StringComparison.Ordinal);
        Directory.CreateDirectory(P("run"));
        Write("run/compute.json", """{"device": "\ud800", "bf16_matmul": false, "threads": 1}""");
        e = Assert.Throws<HrmFormatException>(() => RunCompute.Read(P("run"))).Message;
        Assert.Contains("device: " + NotText, e, StringComparison.Ordinal);

        // A checkpoint's metadata (the architecture JSON in it, say), written by hand.
        byte[] header = Encoding.UTF8.GetBytes("""
            {"__metadata__": {"config": "\ud800"}, "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}
            """.Trim());
        byte[] file = [.. BitConverter.GetBytes((ulong)header.Length), .. header, 0, 0, 0, 0];
        e = Assert.Throws<HrmFormatException>(() => SafeTensorsFile.Open(Write("m.safetensors", file))).Message;
        Assert.Contains("header: __metadata__.config: " + NotText, e, StringComparison.Ordinal);
    }

    /// <summary>A key given twice is refused in JSON and in YAML alike (before, the last won in an arch, a run config
    /// threw a bare ArgumentException).</summary>
    [Fact]
    public void A_key_given_twice_is_refused()
    {
        string e = Assert.Throws<HrmConfigException>(() => RunConfigJson.Parse("""{"lr": 1, "lr": 2}""", [], [], "run.json")).Message;
        Assert.Contains("Duplicate property 'lr'", e, StringComparison.Ordinal);
        e = Assert.Throws<HrmConfigException>(() => HrmConfigFile.Load(Write("arch.json", """{"hidden_size": 64, "hidden_size": 128}"""), [])).Message;
        Assert.Contains("Duplicate property 'hidden_size'", e, StringComparison.Ordinal);
        e = Assert.Throws<HrmConfigException>(() => RunConfigJson.Parse("lr: 1\nseed: 0\nlr: 2\n", [], [], "all_config.yaml")).Message;
        Assert.Contains("all_config.yaml: line 3: 'lr: 2' gives the key 'lr' a second time", e, StringComparison.Ordinal);
        e = Assert.Throws<HrmConfigException>(() => HrmConfigFile.Load(Write("all_config.yaml",
            "arch:\n  hidden_size: 64\n  hidden_size: 64\n"), [])).Message;
        Assert.Contains("line 3", e, StringComparison.Ordinal);
        // The same key in two mappings is two keys.
        Assert.Equal(64, HrmConfigFile.Load(Write("ok.yaml", "arch:\n  hidden_size: 64\n  num_heads: 4\n  loss:\n    name: " +
            "losses@ACTLossHead\nname: x\n"), []).Config.HiddenSize);
    }

    [Fact]
    public void Numbers_past_doubles_range_empty_files_and_negative_seeds_are_refused()
    {
        // YAML reads 1.0e+400 as infinity (as PyYAML does), which no field takes.
        string e = Assert.Throws<HrmConfigException>(() => HrmConfigFile.Load(Write("big.yaml", "hidden_size: 1.0e+400\n"), [])).Message;
        Assert.Contains("hidden_size", e, StringComparison.Ordinal);
        e = Assert.Throws<HrmConfigException>(() => RunConfigJson.Parse("lr: -1.0e+400\n", [], [], "all_config.yaml")).Message;
        Assert.Contains("lr", e, StringComparison.Ordinal);
        e = Assert.Throws<HrmConfigException>(() => HrmConfigFile.Load(Write("empty.json", " \n"), [])).Message;
        Assert.Contains("empty.json: the file is empty", e, StringComparison.Ordinal);
        e = Assert.Throws<HrmConfigException>(() => RunConfigJson.Parse("", [], [], "run.json")).Message;
        Assert.Contains("run.json: the file is empty", e, StringComparison.Ordinal);
        e = Assert.Throws<HrmConfigException>(() => RunConfigJson.Parse("""{"seed": -1}""", [], [], "run.json")).Message;
        Assert.Contains("run.json: config field 'seed': must be >= 0, got -1", e, StringComparison.Ordinal); // the file too
    }

    [Fact]
    public void Oversized_mazes_and_halting_counts_are_refused_before_anything_is_allocated()
    {
        var maze = Assert.Throws<PuzzleFormatException>(() => Maze.Parse("S" + new string('\n', 46_341) + "G"));
        Assert.Contains("at most 256 x 256", maze.Message, StringComparison.Ordinal);
        Assert.Throws<PuzzleFormatException>(() => Maze.Parse(new string(' ', 70_000) + "SG"));
        Write("big.txt", new string('#', 2 << 20));
        maze = Assert.Throws<PuzzleFormatException>(() => Hrm.Train.Cli.SolveCommand.ReadMaze(P("big.txt")));
        Assert.Equal(P("big.txt") + ": file: 2,097,152 bytes; a maze file (n lines of n characters) is at most " +
            "1,048,576 bytes", maze.Message);

        Npy.WriteInt32(P("segments.npy"), [3, int.MaxValue], [2]);
        string e = Assert.Throws<HrmFormatException>(() => HaltingPicture.ReadSegments(P("segments.npy"))).Message;
        Assert.Contains("element 1", e, StringComparison.Ordinal);
        Assert.Contains("at most 4096", e, StringComparison.Ordinal);
    }

    [Fact]
    public void Puzzle_files_without_puzzles_blank_lines_before_a_header_and_bad_outputs()
    {
        Write("header.csv", "source,question,answer,rating\n");
        var e = Assert.Throws<PuzzleFormatException>(() => Hrm.Train.Cli.SolveMany.ReadSudokus(P("header.csv")));
        Assert.Contains("no puzzles (a header and no rows)", e.Message, StringComparison.Ordinal);
        string row = "g,.82.9...6..76.52.8.5..28....3.87..9.7..2.......456..723..1..8655...824134...5.9.7," +
            "182493756947615238653728149235874691761239584894561372329147865576982413418356927,1";
        // The reference's builders take line 1 as the header (csv.reader, next(reader)), even a blank one: a header
        // further down is an error rather than a row, and a blank line 1 is the header of a CSV that then has none.
        Write("blank.csv", "\n\nsource,question,answer,rating\n" + row + "\n");
        e = Assert.Throws<PuzzleFormatException>(() => Hrm.Train.Cli.SolveMany.ReadSudokus(P("blank.csv")));
        Assert.Contains("line 3: a CSV header below line 1", e.Message, StringComparison.Ordinal);
        Write("first.csv", "\n" + row + "\n" + row + "\n");
        Assert.Equal(2, SudokuCsv.Read(P("first.csv")).Count); // line 1 (blank) was the header; both rows kept
        e = Assert.Throws<PuzzleFormatException>(() => Hrm.Train.Cli.SolveMany.ReadSudokus(_dir.FullName));
        Assert.Contains("a folder; --puzzles and --mazes take a file", e.Message, StringComparison.Ordinal);
        var err = new StringWriter();
        string[] solve = ["solve", "--checkpoint", P("none.safetensors"), "--puzzles", P("blank.csv")];
        Assert.Equal(2, Hrm.Train.Cli.CommandLine.Run([.. solve, "--out", _dir.FullName], TextWriter.Null, err));
        Assert.Contains("must name a file", err.ToString(), StringComparison.Ordinal);
        Assert.Equal(2, Hrm.Train.Cli.CommandLine.Run([.. solve, "--out", ""], TextWriter.Null, TextWriter.Null));
        Assert.Equal(2, Hrm.Train.Cli.CommandLine.Run([.. solve, "--out", P("newdir") + "/"], TextWriter.Null, TextWriter.Null));
        Assert.False(Directory.Exists(P("newdir"))); // nothing made for a refused command
    }

    /// <summary>Shapes no model has (a zero-size table with a huge width, a layer index at int's end) read as unknown in
    /// `hrm info --checkpoint`, and are refused by the tensor's name when a preset takes its rows.</summary>
    [Fact]
    public void Checkpoint_dimensions_no_model_has_read_as_unknown_or_are_refused_by_name()
    {
        var w = new SafeTensorsWriter();
        w.AddRaw("model.inner.embed_tokens.embedding_weight", TensorDType.F32, [0, 3_000_000_000], []);
        w.AddRaw("model.inner.puzzle_emb.weights", TensorDType.F32, [3_000_000_000, 0], []);
        w.AddRaw("model.inner.H_level.layers.2147483647.self_attn.o_proj.weight", TensorDType.F32, [1], new byte[4]);
        w.Save(P("odd.safetensors"));
        var o = new StringWriter();
        Assert.Equal(0, Hrm.Train.Cli.CommandLine.Run(["info", "--checkpoint", P("odd.safetensors")], o, TextWriter.Null));
        Assert.Contains("the tensors give: hidden_size ?, vocab_size ?, H_layers 2147483648, L_layers 0, SwiGLU width ?, " +
            "puzzle table ? x ? (num_puzzle_identifiers ?, puzzle_emb_ndim ?)", o.ToString(), StringComparison.Ordinal);
        var e = new StringWriter();
        Assert.Equal(1, Hrm.Train.Cli.CommandLine.Run(["info", "--checkpoint", P("odd.safetensors"), "--preset", "tiny"],
            TextWriter.Null, e));
        Assert.Contains($"{P("odd.safetensors")}: model.inner.puzzle_emb.weights: shape [3000000000, 0] is not a table",
            e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Metrics_whose_range_no_plot_can_draw_are_refused_with_the_file()
    {
        string log = Write("m.jsonl", "{\"step\":1,\"train/lm_loss\":1e308}\n{\"step\":2,\"train/lm_loss\":-1e308}\n");
        var e = Assert.Throws<ArgumentException>(() => CurvesPicture.Save(P("c.png"), log, MetricsLogReader.Read(log)));
        Assert.Contains(log + ": the values of lm_loss run from -1E+308 to 1E+308", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(P("c.png")));
    }

    [Fact]
    public void Datasets_with_an_empty_group_a_wrong_group_count_or_splits_that_disagree_are_refused()
    {
        string data = TrainingFixtures.Build4x4(P("data"), train: 24, test: 8);
        string groups = Path.Combine(data, "train", "all__group_indices.npy");
        int[] g = Npy.Read(groups).ToInt32();
        Npy.WriteInt32(groups, [0, .. g], [g.Length + 1]);
        string e = Assert.Throws<HrmFormatException>(() => PuzzleDataset.Open(data, "train")).Message;
        Assert.Contains("all__group_indices.npy", e, StringComparison.Ordinal);
        Assert.Contains("group 0 has no puzzle", e, StringComparison.Ordinal);
        Npy.WriteInt32(groups, g, [g.Length]);

        string meta = Path.Combine(data, "train", "dataset.json"), text = File.ReadAllText(meta);
        File.WriteAllText(meta, Regex.Replace(text, "\"total_groups\": [0-9]+", "\"total_groups\": 999"));
        e = Assert.Throws<HrmFormatException>(() => PuzzleDataset.Open(data, "train")).Message;
        Assert.Contains($"total_groups: is 999 but {groups} holds {g.Length - 1} groups", e, StringComparison.Ordinal);
        File.WriteAllText(meta, text);

        string testMeta = Path.Combine(data, "test", "dataset.json"), testText = File.ReadAllText(testMeta);
        Assert.Contains("\"vocab_size\": 6", testText, StringComparison.Ordinal);
        File.WriteAllText(testMeta, testText.Replace("\"vocab_size\": 6", "\"vocab_size\": 7", StringComparison.Ordinal));
        e = Assert.Throws<HrmFormatException>(() =>
            Trainer.Create(TrainingFixtures.Tiny(data), P("run"), null, "cpu", TextWriter.Null, interactive: false)).Message;
        Assert.Contains($"{testMeta}: vocab_size: is 7 but the train split's is 6", e, StringComparison.Ordinal);
        File.WriteAllText(testMeta, testText);

        var c = Assert.Throws<HrmConfigException>(() => Trainer.Create(TrainingFixtures.Tiny(data) with
        {
            GlobalBatchSize = 4096, Epochs = 1, EvalInterval = 1,
        }, P("run"), null, "cpu", TextWriter.Null, interactive: false));
        Assert.Contains("make no step", c.Message, StringComparison.Ordinal);
        // The run's count alone gives a step (4 epochs x 24 groups x 1 example / 64 = 1.5), but a pass of
        // eval_interval = 1 epoch draws 24 examples, never a batch of 64: the run would only evaluate.
        c = Assert.Throws<HrmConfigException>(() => Trainer.Create(TrainingFixtures.Tiny(data) with
        {
            GlobalBatchSize = 64, Epochs = 4, EvalInterval = 1,
        }, P("run"), null, "cpu", TextWriter.Null, interactive: false));
        Assert.Contains("a pass of eval_interval epochs must fill a batch", c.Message, StringComparison.Ordinal);
    }

    /// <summary>`hrm data sudoku --generate N` without --test writes an empty test split: training runs without
    /// evaluations (as with no test split), and `hrm eval` on it says there is nothing to evaluate.</summary>
    [Fact]
    public void An_empty_test_split_is_no_test_split_for_training_and_an_error_for_eval()
    {
        string data = TrainingFixtures.Build4x4(P("data"), train: 24, test: 0);
        using (Trainer t = Trainer.Create(TrainingFixtures.Tiny(data), P("run"), null, "cpu", TextWriter.Null, interactive: false))
        {
            t.Run(TestContext.Current.CancellationToken);
            Assert.Equal(t.TotalSteps, t.Step);
            Assert.Null(t.LastEval);
        }
        var o = new StringWriter();
        var e = new StringWriter();
        string model = Path.Combine(Trainer.LatestCheckpoint(P("run"))!, "model.safetensors");
        Assert.Equal(1, Hrm.Train.Cli.CommandLine.Run(["eval", "--checkpoint", model, "--data", data], o, e));
        Assert.Contains("the split has no examples to evaluate", e.ToString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// A run directory whose parts disagree: the newest folder holding only half a checkpoint is passed over; a model
    /// file from another checkpoint, a folder renamed, and a config.json pointing at other data are refused by name.
    /// </summary>
    [Fact]
    public void Resume_passes_over_half_a_checkpoint_and_refuses_parts_that_disagree()
    {
        string data = TrainingFixtures.Build4x4(P("data"), train: 24, test: 8);
        using (Trainer t = Trainer.Create(TrainingFixtures.Tiny(data), P("run"), null, "cpu", TextWriter.Null, interactive: false))
            t.Run(TestContext.Current.CancellationToken);
        string[] steps = [.. Directory.GetDirectories(P("run/checkpoints")).OrderBy(d => long.Parse(Path.GetFileName(d)[5..],
            System.Globalization.CultureInfo.InvariantCulture))];
        Assert.Equal(2, steps.Length);
        string first = steps[0], last = steps[1];
        Directory.CreateDirectory(P("run/checkpoints/step_999"));
        File.Copy(Path.Combine(last, "train_state.safetensors"), P("run/checkpoints/step_999/train_state.safetensors"));
        Assert.Equal(last, Trainer.LatestCheckpoint(P("run")));
        Directory.Delete(P("run/checkpoints/step_999"), recursive: true);

        string model = Path.Combine(last, "model.safetensors");
        File.Move(model, P("last-model"));
        File.Copy(Path.Combine(first, "model.safetensors"), model);
        string e = Assert.Throws<HrmFormatException>(() => Trainer.Resume(P("run"), "cpu", TextWriter.Null, interactive: false)).Message;
        Assert.Contains($"{model}: __metadata__.step: is {Path.GetFileName(first)[5..]}, but the checkpoint is of step " +
            Path.GetFileName(last)[5..], e, StringComparison.Ordinal);
        File.Move(P("last-model"), model, overwrite: true);

        Directory.Move(last, P("run/checkpoints/step_1000"));
        e = Assert.Throws<HrmFormatException>(() => Trainer.Resume(P("run"), "cpu", TextWriter.Null, interactive: false)).Message;
        Assert.Contains($"__metadata__.step: is {Path.GetFileName(last)[5..]}, but the folder is step_1000", e, StringComparison.Ordinal);
        Directory.Move(P("run/checkpoints/step_1000"), last);

        string config = P("run/config.json"), text = File.ReadAllText(config);
        string sixBySix = P("six");
        Assert.Equal(0, Hrm.Train.Cli.CommandLine.Run(["data", "sudoku", "--generate", "8", "--test", "4", "--size", "6",
            "--out", sixBySix], TextWriter.Null, TextWriter.Null));
        File.WriteAllText(config, text.Replace(data, sixBySix, StringComparison.Ordinal));
        e = Assert.Throws<HrmFormatException>(() => Trainer.Resume(P("run"), "cpu", TextWriter.Null, interactive: false)).Message;
        Assert.Contains($"{config}: data_path: {sixBySix} has seq_len 36", e, StringComparison.Ordinal);
        Assert.Contains("not the data it trained on", e, StringComparison.Ordinal);
    }

    /// <summary>A checkpoint consistent in itself (folder, train_state and model all say step 1000000) but past the
    /// run's steps is refused by the run.</summary>
    [Fact]
    public void A_checkpoint_past_the_runs_steps_is_refused()
    {
        string last = TrainTinyRun(), far = P("run/checkpoints/step_1000000");
        Directory.CreateDirectory(far);
        foreach (string name in (string[])["model.safetensors", "train_state.safetensors"])
        {
            Rewrite(Path.Combine(last, name), Path.Combine(far, name), (_, raw) => raw,
                (k, v) => k == "step" ? "1000000" : v);
        }
        string e = Assert.Throws<HrmFormatException>(() => Trainer.Resume(P("run"), "cpu", TextWriter.Null, interactive: false)).Message;
        Assert.Contains("__metadata__.step: step 1000000 is past this run's", e, StringComparison.Ordinal);
    }

    /// <summary>train_state's tensors hold what the optimiser and the ACT carry can: finite moments (second ones not
    /// negative), 0/1 halted flags, segment counts up to halt_max_steps.</summary>
    [Theory]
    [InlineData("carry.halted", 0, 7f, "carry.halted[0]: is 7; expected 0 or 1")]
    [InlineData("carry.steps", 1, 99f, "carry.steps[1]: is 99; a row has run 0 to halt_max_steps")]
    [InlineData("adam.v", 3, -1f, "adam.v[3]: is -1; expected a finite value >= 0")]
    [InlineData("adam.m", 0, float.NaN, "adam.m[0]: is NaN; expected a finite value")]
    [InlineData("carry.z_H", 5, float.PositiveInfinity, "carry.z_H[5]: is Infinity; expected a finite value")]
    public void A_train_state_whose_tensors_no_run_leaves_is_refused(string tensor, int index, float value, string expected)
    {
        string state = Path.Combine(TrainTinyRun(), "train_state.safetensors");
        Rewrite(state, state, (t, raw) =>
        {
            if (t.Name == tensor)
                (t.DType == TensorDType.I32 ? BitConverter.GetBytes((int)value) : BitConverter.GetBytes(value)).CopyTo(raw, index * 4);
            return raw;
        }, (_, v) => v);
        string e = Assert.Throws<HrmFormatException>(() => Trainer.Resume(P("run"), "cpu", TextWriter.Null, interactive: false)).Message;
        Assert.Contains(state, e, StringComparison.Ordinal);
        Assert.Contains(expected, e, StringComparison.Ordinal);
    }

    /// <summary>train_state.safetensors' step and sampler position are numbers the run checks against itself on
    /// --resume (before: an unhandled OverflowException, a bare FormatException, or a "finished" run at step 1000000).</summary>
    [Theory]
    [InlineData("step", "99999999999999999999", "__metadata__.step: expected a whole number from 0")]
    [InlineData("step", "abc", "__metadata__.step: expected a whole number from 0")]
    [InlineData("step", "-5", "__metadata__.step: expected a whole number from 0")]
    [InlineData("step", "1000000", "__metadata__.step: is 1000000, but the folder is step_")]
    [InlineData("sampler.position", "3000000000", "__metadata__.sampler.position: expected a whole number")]
    [InlineData("sampler.position", "100000", "__metadata__.sampler.position: position 100000 is outside pass 0")]
    [InlineData("sampler.pass", "-7", "__metadata__.sampler.pass: expected a whole number from -1")]
    [InlineData("sampler.pass", "9223372036854775807", "__metadata__.sampler.pass: pass 9223372036854775807 is past")]
    public void A_train_state_whose_numbers_do_not_fit_the_run_is_refused_naming_the_key(string key, string value,
        string expected)
    {
        string state = Path.Combine(TrainTinyRun(), "train_state.safetensors");
        bool seen = false;
        Rewrite(state, state, (_, raw) => raw, (k, v) =>
        {
            seen |= k == key;
            return k == key ? value : v;
        });
        Assert.True(seen, key);
        string e = Assert.Throws<HrmFormatException>(() => Trainer.Resume(P("run"), "cpu", TextWriter.Null, interactive: false)).Message;
        Assert.Contains(state, e, StringComparison.Ordinal);
        Assert.Contains(expected, e, StringComparison.Ordinal);
    }

    /// <summary>A finished 2-epoch run of the tiny config on 4x4 Sudokus in P("run"); its last checkpoint folder.</summary>
    private string TrainTinyRun()
    {
        string data = TrainingFixtures.Build4x4(P("data"), train: 24, test: 8);
        RunConfig cfg = TrainingFixtures.Tiny(data) with { Epochs = 2, EvalInterval = 2 };
        using (Trainer t = Trainer.Create(cfg, P("run"), null, "cpu", TextWriter.Null, interactive: false))
            t.Run(TestContext.Current.CancellationToken);
        return Trainer.LatestCheckpoint(P("run"))!;
    }

    /// <summary>Copies a safetensors file with each tensor's bytes and each metadata value passed through a change.</summary>
    private static void Rewrite(string from, string to, Func<SafeTensorInfo, byte[], byte[]> tensor,
        Func<string, string, string> metadata)
    {
        var w = new SafeTensorsWriter();
        using (SafeTensorsFile f = SafeTensorsFile.Open(from))
        {
            foreach (SafeTensorInfo t in f.Tensors) w.AddRaw(t.Name, t.DType, t.Shape, tensor(t, f.ReadRaw(t.Name)));
            foreach ((string k, string v) in f.Metadata) w.SetMetadata(k, metadata(k, v));
        }
        w.Save(to);
    }
}
