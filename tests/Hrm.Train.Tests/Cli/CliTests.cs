using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Config;
using Hrm.Runtime.Formats;
using Hrm.Runtime.Model;
using Hrm.Runtime.Solver;
using Hrm.Train.Cli;
using Hrm.Train.Data;

namespace Hrm.Train.Tests.Cli;

public sealed class CliTests : CliHarness
{
    [Fact]
    public void Info_prints_the_reference_parameter_count_and_a_memory_plan()
    {
        (int code, string output, _) = Hrm("info", "--preset", "sudoku-extreme-1k", "--batch", "64");
        Assert.Equal(0, code);
        Assert.Contains("27,275,266", output);
        Assert.Contains("model.inner.H_level.layers.3.mlp.down_proj.weight", output);
        Assert.Contains("MiB", output);
        Assert.Contains("optimiser moments (AdamATan2 m, v)        208.1 MiB", output); // 2 x 27.3M floats
        // 2081.4 MiB before session 26: the block backward's residual sums now need one (B, T, C) scratch fewer.
        Assert.Contains("total, training (with the moments)       2071.2 MiB", output);
    }

    [Fact]
    public void Info_reads_a_reference_style_run_config_with_an_arch_section()
    {
        File.WriteAllText(P("all_config.json"),
            """{"arch": {"name": "hrm.hrm_act_v1@HierarchicalReasoningModel_ACTV1", "loss": {}, "hidden_size": 256, "num_heads": 4, "seq_len": 900, "vocab_size": 6}}""");
        (int code, string output, string err) = Hrm("info", "--config", P("all_config.json"));
        Assert.Equal(0, code);
        Assert.Contains("\"hidden_size\":256", output);
        Assert.DoesNotContain("warning", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_configs_and_usage_are_reported_with_the_field()
    {
        File.WriteAllText(P("bad.json"), """{"hidden_size": 100, "num_heads": 8}""");
        (int code, _, string err) = Hrm("info", "--config", P("bad.json"));
        Assert.Equal(1, code);
        Assert.Contains("num_heads", err);
        File.WriteAllText(P("unknown.json"), """{"hiden_size": 128}""");
        Assert.Contains("hiden_size", Hrm("info", "--config", P("unknown.json")).Err);
        Assert.Equal(2, Hrm("info", "--preset", "tiny", "--bogus", "1").Code);
        Assert.Equal(2, Hrm("frobnicate").Code);
    }

    /// <summary>`hrm COMMAND --help` (or -h, anywhere among its options) prints that command's usage on stdout and
    /// succeeds, without reading any option; `hrm --version` names the library version, the runtime and the SIMD path.</summary>
    [Fact]
    public void Every_command_prints_its_usage_on_help_and_the_version_is_printed()
    {
        foreach (string command in (string[])["info", "init", "convert", "predict", "train", "eval", "solve", "data",
            "quickstart", "render", "analyze"])
        {
            (int code, string output, string err) = Hrm(command, "--help");
            Assert.True(code == 0, command + ": " + err);
            Assert.StartsWith("usage: hrm " + command + " ", output, StringComparison.Ordinal);
            Assert.Equal("", err);
        }
        (int c, string o, _) = Hrm("eval", "--checkpoint", P("missing"), "-h"); // nothing is opened
        Assert.Equal(0, c);
        Assert.Contains("--preset NAME", o, StringComparison.Ordinal);
        Assert.Equal(2, Hrm("frobnicate", "--help").Code); // an unknown command stays an error

        (c, o, _) = Hrm("--version");
        Assert.Equal(0, c);
        string version = typeof(HrmModel).Assembly.GetName().Version!.ToString(3);
        Assert.StartsWith("hrm " + version, o, StringComparison.Ordinal);
        Assert.Contains(System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription, o, StringComparison.Ordinal);
        Assert.Contains("cpu: ", o, StringComparison.Ordinal);
        Assert.Contains("hrm COMMAND --help", Hrm("help").Out, StringComparison.Ordinal);
    }

    /// <summary>
    /// `hrm solve --puzzles FILE`: a file of Sudokus (one a line, comments and blank lines skipped, or the reference's
    /// CSV with its answers compared) through one solver in batches; the answers, one a line in order, are the
    /// solver's own, to --out or standard output, and bad lines are named.
    /// </summary>
    [Fact]
    public void Solve_takes_a_file_of_puzzles_and_writes_one_answer_a_line()
    {
        Assert.Equal(0, Hrm("init", "--preset", "tiny", "--seed", "3", "--out", P("m.safetensors")).Code);
        string[] puzzles =
        [
            "8..........36......7..9.2...5...7.......457.....1...3...1....68..85...1..9....4..",
            ".8...9..39..42..5..5.3..6.23.58.24...7...3....2.76...9...6.793.1..98..2...6....7.",
            "000000010400000000020000000000050407008000300001090000300400200050100000000806000",
        ];
        File.WriteAllText(P("list.txt"), $"# three puzzles\n{puzzles[0]}\n\n{puzzles[1]}\r\n  {puzzles[2]}  \n");
        string[] common = ["solve", "--checkpoint", P("m.safetensors"), "--max-steps", "2", "--device", "cpu", "--threads", "2"];
        (int code, string output, string err) = Hrm([.. common, "--puzzles", P("list.txt"), "--out", P("answers.txt"), "--batch", "2"]);
        Assert.True(code is 0 or 3, err);
        Assert.Contains("3 puzzles from " + P("list.txt") + ", batch 2", output, StringComparison.Ordinal);
        Assert.Contains("of 3", output, StringComparison.Ordinal);
        Assert.Contains("answers in " + P("answers.txt"), output, StringComparison.Ordinal);
        using (HrmSolver solver = HrmSolver.Load(P("m.safetensors"), new SolverOptions { Device = SolverDevice.Cpu, Threads = 2, MaxSteps = 2 }))
        {
            IReadOnlyList<SudokuResult> expected = solver.Solve([.. puzzles.Select(p => SudokuGrid.Parse(p))]);
            string[] lines = File.ReadAllLines(P("answers.txt"));
            Assert.Equal(3, lines.Length);
            for (int i = 0; i < 3; i++)
            {
                Assert.Equal(string.Concat(expected[i].Answer.ToDigits().Select(d => d == 0 ? '.' : (char)('0' + d))), lines[i]);
            }
            Assert.Equal(expected.All(r => r.IsValid) ? 0 : 3, code);
        }

        // The reference's CSV: its answers are compared; without --out the answers go to standard output.
        string csv = Path.Combine(AppContext.BaseDirectory, "fixtures", "reference", "sudoku-csv", "test.csv");
        Assert.True(File.Exists(csv), csv);
        (code, output, err) = Hrm([.. common, "--puzzles", csv]);
        Assert.True(code is 0 or 3, err);
        Assert.Equal(3, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Matches(@"equal to the file's answers: \d of 3", err);

        File.WriteAllText(P("bad.txt"), $"{puzzles[0]}\n1234\n");
        (code, _, err) = Hrm([.. common, "--puzzles", P("bad.txt")]);
        Assert.Equal(1, code);
        Assert.Contains(P("bad.txt") + ": line 2: ", err, StringComparison.Ordinal);
        File.WriteAllText(P("mixed.txt"), $"{puzzles[0]}\n1.3..4....1.4.2.\n");
        Assert.Contains("a 4x4 grid among 9x9 ones", Hrm([.. common, "--puzzles", P("mixed.txt")]).Err, StringComparison.Ordinal);
        File.WriteAllText(P("four.txt"), "1.3..4....1.4.2.\n");
        Assert.Contains("4x4 puzzles for a 9x9 model", Hrm([.. common, "--puzzles", P("four.txt")]).Err, StringComparison.Ordinal);
        File.WriteAllText(P("none.txt"), "# nothing\n\n");
        Assert.Contains("no puzzles", Hrm([.. common, "--puzzles", P("none.txt")]).Err, StringComparison.Ordinal);
        Assert.Equal(2, Hrm([.. common, "--puzzles", P("list.txt"), "--puzzle", puzzles[0]]).Code);
        Assert.Equal(2, Hrm([.. common, "--puzzle", puzzles[0], "--out", P("x.txt")]).Code);
    }

    /// <summary>`hrm solve --mazes FILE`: mazes one a line (900 cells of "# SG") or the reference's maze CSV, the
    /// answers (the maze with the model's 'o' cells) one a line as the solver gives them.</summary>
    [Fact]
    public void Solve_takes_a_file_of_mazes_and_writes_one_answer_a_line()
    {
        File.WriteAllText(P("maze.json"), """
            {"hidden_size": 32, "num_heads": 2, "H_layers": 1, "L_layers": 1, "H_cycles": 1, "L_cycles": 1,
             "halt_max_steps": 2, "seq_len": 900, "vocab_size": 6, "puzzle_emb_ndim": 0}
            """);
        Assert.Equal(0, Hrm("init", "--config", P("maze.json"), "--seed", "4", "--out", P("m.safetensors")).Code);
        MazeRecord[] mazes = MazeGenerator.Generate(3, new MazeGeneratorOptions { Seed = 9, Threads = 1 },
            TestContext.Current.CancellationToken);
        static string Line(ReadOnlySpan<byte> cells) =>
            Runtime.Puzzles.MazeBoard.Format(cells).Replace("\n", "", StringComparison.Ordinal);
        File.WriteAllText(P("mazes.txt"), string.Join("\n   \n", mazes.Select(m => Line(m.Puzzle))) + "\n"); // blank lines of spaces too
        MazeCsv.Write(P("mazes.csv"), mazes);
        string[] common = ["solve", "--checkpoint", P("m.safetensors"), "--max-steps", "1", "--device", "cpu", "--threads", "2"];
        (int code, string output, string err) = Hrm([.. common, "--mazes", P("mazes.txt"), "--out", P("answers.txt")]);
        Assert.True(code is 0 or 3, err);
        Assert.Contains("3 mazes from " + P("mazes.txt"), output, StringComparison.Ordinal);
        Assert.Contains("shortest paths (connected, start to goal, open cells only, and shortest): ", output, StringComparison.Ordinal);
        using (HrmSolver solver = HrmSolver.Load(P("m.safetensors"), new SolverOptions { Device = SolverDevice.Cpu, Threads = 2, MaxSteps = 1 }))
        {
            IReadOnlyList<MazeResult> expected = solver.Solve([.. mazes.Select(m => Maze.Parse(Line(m.Puzzle)))]);
            Assert.Equal(expected.Select(r => Line(r.Answer.Cells)), File.ReadAllLines(P("answers.txt")));
            Assert.Equal(expected.All(r => r.IsShortest) ? 0 : 3, code);
        }
        (code, output, err) = Hrm([.. common, "--mazes", P("mazes.csv")]);
        Assert.True(code is 0 or 3, err);
        Assert.Equal(3, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Matches(@"equal to the file's answers: \d of 3", err);
        File.WriteAllText(P("short.txt"), "#S#G#\n"); // 5 cells: not n*n
        (code, _, err) = Hrm([.. common, "--mazes", P("short.txt")]);
        Assert.Equal(1, code);
        Assert.Contains(P("short.txt") + ": line 1: ", err, StringComparison.Ordinal);
        Assert.Contains("mazes for a model of seq_len 900", Hrm([.. common, "--mazes", Write16(P("small.txt"))]).Err,
            StringComparison.Ordinal);
        Assert.Equal(2, Hrm([.. common, "--mazes", P("mazes.txt"), "--puzzles", P("mazes.txt")]).Code);
    }

    /// <summary>A 4 x 4 maze on one line.</summary>
    private static string Write16(string path)
    {
        File.WriteAllText(path, "S  ##  # ##   G#\n");
        return path;
    }

    [Fact]
    public void Every_model_command_takes_one_gemm_precision_flag_and_refuses_both()
    {
        Assert.Equal(0, Hrm("init", "--preset", "tiny", "--seed", "5", "--out", P("m.safetensors")).Code);
        HrmConfig cfg = HrmPresets.Get("tiny");
        Npy.WriteUInt8(P("inputs.npy"), [.. Enumerable.Range(0, 2 * cfg.SeqLen).Select(i => (byte)(1 + i % 9))],
            [2, cfg.SeqLen]);
        string[] predict = ["predict", "--checkpoint", P("m.safetensors"), "--inputs", P("inputs.npy"), "--max-steps", "2",
            "--device", "cpu", "--threads", "2"];
        Assert.Equal(0, Hrm([.. predict, "--out", P("plain")]).Code);
        Assert.Equal(0, Hrm([.. predict, "--out", P("fp32"), "--fp32-matmul"]).Code);
        Assert.Equal(0, Hrm([.. predict, "--out", P("bf16"), "--bf16-matmul"]).Code);
        float[] plain = Npy.Read(P("plain/logits.npy")).ToFloat32();
        Assert.Equal(plain, Npy.Read(P("fp32/logits.npy")).ToFloat32()); // the CPU computes in fp32 either way
        Assert.Equal(plain, Npy.Read(P("bf16/logits.npy")).ToFloat32());
        string[][] both =
        [
            [.. predict, "--out", P("both")],
            ["solve", "--checkpoint", P("m.safetensors"), "--puzzle", new string('.', 81)],
            ["eval", "--checkpoint", P("m.safetensors"), "--data", P("no-such-dir")],
            ["render", "sudoku", "--checkpoint", P("m.safetensors"), "--puzzle", new string('.', 81), "--out", P("x.png")],
            ["analyze", "participation-ratio", "--checkpoint", P("m.safetensors"), "--data", P("no-such-dir")],
            ["train", "--preset", "sudoku-tiny", "--data", P("no-such-dir")],
            ["quickstart", "--out", P("qs")],
        ];
        foreach (string[] command in both)
        {
            (int code, _, string err) = Hrm([.. command, "--fp32-matmul", "--bf16-matmul"]);
            Assert.True(code == 2, $"{command[0]}: exit {code}: {err}");
            Assert.Contains("at most one of --fp32-matmul and --bf16-matmul", err, StringComparison.Ordinal);
            (code, _, err) = Hrm([.. command, "--fp32-matmul", "--bf16-stream"]);
            Assert.True(code == 2, $"{command[0]}: exit {code}: {err}");
            Assert.Contains(command[0] == "quickstart" ? "unknown option --bf16-stream" // not its flag at all
                : "--bf16-stream keeps a stream between bf16 GEMMs: it does not go with --fp32-matmul", err,
                StringComparison.Ordinal);
        }
        foreach (string[] command in both[1..6]) // taken (predict's run is below): any exit but a usage error's
        {
            (int code, _, string err) = Hrm([.. command, "--bf16-stream", "--device", "cpu"]);
            Assert.True(code != 2, $"{command[0]}: exit {code}: {err}");
            (code, _, err) = Hrm([.. command, "--no-bf16-stream", "--device", "cpu"]);
            Assert.True(code != 2, $"{command[0]}: exit {code}: {err}");
            (code, _, err) = Hrm([.. command, "--bf16-stream", "--no-bf16-stream"]);
            Assert.True(code == 2, $"{command[0]}: exit {code}: {err}");
            Assert.Contains("at most one of --bf16-stream and --no-bf16-stream", err, StringComparison.Ordinal);
        }
        Assert.Equal(0, Hrm([.. predict, "--out", P("stream"), "--bf16-stream"]).Code); // the CPU ignores it
        Assert.Equal(plain, Npy.Read(P("stream/logits.npy")).ToFloat32());
        Assert.False(Directory.Exists(P("qs")), "quickstart refused its flags only after starting its work");
        Assert.Equal(0, Hrm([.. predict, "--out", P("fused"), "--fused-module"]).Code); // no GPU: the CPU ignores it
        Assert.Equal(plain, Npy.Read(P("fused/logits.npy")).ToFloat32());
        foreach (string[] command in both[..5]) // the commands that run the model without training it
        {
            (int code, _, string err) = Hrm([.. command, "--fused-module", "--fp32-matmul"]);
            Assert.True(code == 2, $"{command[0]}: exit {code}: {err}");
            Assert.Contains("--fused-module runs bf16 GEMMs", err, StringComparison.Ordinal);
        }
        foreach (string[] command in both[5..]) // train and quickstart do not take it
        {
            (int code, _, string err) = Hrm([.. command, "--fused-module"]);
            Assert.True(code == 2, $"{command[0]}: exit {code}: {err}");
            Assert.Contains("--fused-module", err, StringComparison.Ordinal);
        }
        Assert.False(Directory.Exists(P("qs")), "quickstart refused its flags only after starting its work");
    }

    [Fact]
    public void Init_then_predict_writes_the_reference_outputs_and_matches_the_runtime()
    {
        Assert.Equal(0, Hrm("init", "--preset", "tiny", "--seed", "5", "--out", P("m.safetensors")).Code);
        HrmConfig cfg = HrmPresets.Get("tiny");
        var rng = new Random(3);
        const int n = 3;
        var tokens = new byte[n * cfg.SeqLen];
        for (int i = 0; i < tokens.Length; i++) tokens[i] = (byte)rng.Next(1, cfg.VocabSize);
        Npy.WriteUInt8(P("inputs.npy"), tokens, [n, cfg.SeqLen]);
        (int code, _, string err) = Hrm("predict", "--checkpoint", P("m.safetensors"), "--inputs", P("inputs.npy"),
            "--batch-size", "2", "--max-steps", "2", "--threads", "2", "--device", "cpu", "--out", P("out"));
        Assert.True(code == 0, err);
        float[] logits = Npy.Read(P("out/logits.npy")).ToFloat32();
        Assert.Equal(new long[] { n, cfg.SeqLen, cfg.VocabSize }, Npy.Read(P("out/logits.npy")).Shape);
        int[] predictions = Npy.Read(P("out/predictions.npy")).ToInt32();
        float[] qHalt = Npy.Read(P("out/q_halt_logits.npy")).ToFloat32();
        Assert.Equal(n, Npy.Read(P("out/q_continue_logits.npy")).Count);

        // The same rows through the runtime directly, one batch of 3.
        using HrmModel model = HrmCheckpoint.Load(P("m.safetensors"), new CpuBackend(2));
        model.Reserve(n, training: false);
        ActState s = model.Evaluate(tokens.Select(b => (int)b).ToArray(), new int[n], maxSteps: 2);
        var direct = new float[logits.Length];
        model.ReadLogits(direct);
        for (int i = 0; i < direct.Length; i++) Assert.Equal(direct[i], logits[i], 5);
        Assert.Equal(s.QHalt, qHalt);
        for (int i = 0; i < predictions.Length; i++)
            Assert.Equal(PredictCommand.ArgMax(direct.AsSpan(i * cfg.VocabSize, cfg.VocabSize)), predictions[i]);
    }

    [Fact]
    public void Predict_rejects_inputs_of_the_wrong_shape_or_vocabulary()
    {
        Assert.Equal(0, Hrm("init", "--preset", "tiny", "--out", P("m.safetensors")).Code);
        Npy.WriteUInt8(P("short.npy"), new byte[2 * 80], [2, 80]);
        (int code, _, string err) = Hrm("predict", "--checkpoint", P("m.safetensors"), "--inputs", P("short.npy"), "--out", P("o"));
        Assert.Equal(1, code);
        Assert.Contains("[N, 81]", err);
        var big = new byte[81];
        big[7] = 200;
        Npy.WriteUInt8(P("vocab.npy"), big, [1, 81]);
        err = Hrm("predict", "--checkpoint", P("m.safetensors"), "--inputs", P("vocab.npy"), "--out", P("o")).Err;
        Assert.Contains("token 200", err);
        Assert.Contains("position 7", err);
    }
}
