using Hrm.Runtime.Formats;
using Hrm.Runtime.Puzzles;
using Hrm.Train.Cli;
using Hrm.Train.Data;

namespace Hrm.Train.Tests.Cli;

/// <summary>
/// Inputs an audit of the command line found mishandled (session 28): sizes that overflowed or exhausted memory,
/// thread counts that aborted the runtime, paths that name a directory, output paths found bad only after the work.
/// Each now fails at once with the option, field or file named.
/// </summary>
public sealed class CliRobustnessTests : CliHarness
{
    [Theory]
    [InlineData("\"H_layers\": 1025", "config field 'H_layers': must be at most 1,024, got 1,025")]
    [InlineData("\"L_cycles\": 1025", "config field 'L_cycles': must be at most 1,024")]
    [InlineData("\"halt_max_steps\": 1025", "config field 'halt_max_steps': must be at most 1,024")]
    [InlineData("\"seq_len\": 2147483647", "config field 'seq_len': must be at most 65,536")]
    [InlineData("\"expansion\": 1e308", "config field 'expansion': 1E+308 gives a SwiGLU width of 2^30 or more")]
    [InlineData("\"expansion\": 400000",
        "config field 'expansion': must be at most 2,147,483,647 elements in one tensor (gate_up_proj")]
    [InlineData("\"expansion\": 0.001", "config field 'expansion': gives a SwiGLU width of 0")]
    [InlineData("\"num_heads\": 1, \"seq_len\": 9, \"vocab_size\": 5, \"hidden_size\": 30000",
        "config field 'hidden_size': must be at most 2,147,483,647 elements in one tensor (the attention's qkv_proj")]
    [InlineData("\"puzzle_emb_ndim\": 10000000", "config field 'puzzle_emb_ndim': must be at most 65,536 positions")]
    public void Sizes_beyond_bounds_are_config_errors_not_overflows_or_hangs(string field, string expected)
    {
        string size = field.Contains("hidden_size", StringComparison.Ordinal)
            ? "" : "\"hidden_size\": 64, \"num_heads\": 4, ";
        File.WriteAllText(P("c.json"), $$"""{{{size}}{{field}}}""");
        foreach (string[] args in (string[][])[["info"], ["init", "--out", P("m.safetensors")]])
        {
            (int code, string output, string err) = Hrm([.. args, "--config", P("c.json")]);
            Assert.True(code == 1, $"{args[0]}: exit {code}; {output}");
            Assert.Contains(expected, err, StringComparison.Ordinal);
        }
        Assert.False(File.Exists(P("m.safetensors")));
    }

    [Fact]
    public void Thread_counts_beyond_the_pool_limit_are_usage_errors()
    {
        Assert.Equal(0, Hrm("init", "--preset", "tiny", "--out", P("m.safetensors")).Code);
        (int code, _, string err) = Hrm("solve", "--checkpoint", P("m.safetensors"), "--puzzle", new string('.', 81),
            "--threads", "1025");
        Assert.Equal(2, code);
        Assert.Contains("--threads expects an integer from 0 to 1024, got '1025'", err, StringComparison.Ordinal);
        (code, _, err) = Hrm("solve", "--checkpoint", P("m.safetensors"), "--puzzle", new string('.', 81),
            "--max-steps", "1025");
        Assert.Equal(2, code);
        Assert.Contains("--max-steps expects an integer from 1 to 1024", err, StringComparison.Ordinal);
        (code, _, err) = Hrm("data", "sudoku", "--generate", "4", "--threads", "1025", "--out", P("d"));
        Assert.Equal(2, code);
        Assert.Contains("--threads expects an integer from 1 to 1024", err, StringComparison.Ordinal);
        (code, _, err) = Hrm("train", "--preset", "sudoku-tiny", "--set", "threads=1025", "--data", P("none"));
        Assert.Equal(1, code);
        Assert.Contains("config field 'threads': must lie in 0..1024", err, StringComparison.Ordinal);
    }

    [Fact]
    public void A_directory_where_a_file_is_expected_is_named_as_such()
    {
        Directory.CreateDirectory(P("dir.safetensors"));
        (int code, _, string err) = Hrm("info", "--checkpoint", P("dir.safetensors"));
        Assert.Equal(1, code);
        Assert.Contains($"{P("dir.safetensors")}: file: is a directory; expected a checkpoint file", err,
            StringComparison.Ordinal);
        Assert.DoesNotContain("denied", err, StringComparison.Ordinal);
        (code, _, err) = Hrm("init", "--preset", "tiny", "--out", P("dir.safetensors"));
        Assert.Equal(2, code);
        Assert.Contains("--out " + P("dir.safetensors") + ": is a directory; expected a file", err,
            StringComparison.Ordinal);
    }

    [Fact]
    public void Output_paths_are_checked_before_the_work()
    {
        // Missing folders of an output file are made (as convert, solve and render do); a file in their place is an
        // error before anything is computed.
        Assert.Equal(0, Hrm("init", "--preset", "tiny", "--out", P("missing/sub/m.safetensors")).Code);
        Assert.True(File.Exists(P("missing/sub/m.safetensors")));
        File.WriteAllText(P("afile"), "keep");
        (int code, _, string err) = Hrm("init", "--preset", "tiny", "--out", Path.Combine(P("afile"), "m.safetensors"));
        Assert.Equal(2, code);
        Assert.Contains($"{P("afile")} is a file, not a directory", err, StringComparison.Ordinal);
        Assert.Equal(0, Hrm("init", "--preset", "tiny", "--out", P("m.safetensors")).Code);
        Npy.WriteInt32(P("in.npy"), new int[81], [1, 81]);
        (code, _, err) = Hrm("predict", "--checkpoint", P("m.safetensors"), "--inputs", P("in.npy"),
            "--out", P("afile"));
        Assert.Equal(2, code);
        Assert.Contains("--out " + P("afile") + ": is a file; expected a directory", err, StringComparison.Ordinal);
        Assert.Equal("keep", File.ReadAllText(P("afile")));
        (code, _, err) = Hrm("data", "sudoku", "--generate", "4", "--out", P("afile"));
        Assert.Equal(2, code);
        Assert.Contains("is a file; expected a directory", err, StringComparison.Ordinal);
        (code, _, err) = Hrm("predict", "--checkpoint", P("m.safetensors"), "--inputs", P("in.npy"),
            "--out", Path.Combine(P("afile"), "x", "y"));
        Assert.Equal(2, code);
        Assert.Contains($"{P("afile")} is a file, not a directory", err, StringComparison.Ordinal);
        (code, _, err) = Hrm("init", "--preset", "tiny", "--out", "");
        Assert.Equal(2, code);
        Assert.Contains("--out needs a value, got an empty string", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Directories_given_as_config_or_maze_files_are_named()
    {
        Directory.CreateDirectory(P("dir"));
        (int code, _, string err) = Hrm("info", "--config", P("dir"));
        Assert.Equal(1, code);
        Assert.Contains($"{P("dir")}: is a directory; expected a config file", err, StringComparison.Ordinal);
        Assert.Equal(0, Hrm("init", "--preset", "tiny", "--out", P("m.safetensors")).Code);
        (code, _, err) = Hrm("solve", "--checkpoint", P("m.safetensors"), "--maze", P("dir"));
        Assert.Equal(1, code);
        Assert.Contains($"{P("dir")}: is a directory; expected a maze file", err, StringComparison.Ordinal);
    }

    /// <summary>An output that names the command's own input would replace it (a solve's answers over its puzzles,
    /// an ARC submission over the checkpoint): refused, through a link too.</summary>
    [Fact]
    public void An_output_that_is_an_input_is_refused()
    {
        Assert.Equal(0, Hrm("init", "--preset", "tiny", "--out", P("m.safetensors")).Code);
        File.WriteAllText(P("pz.txt"), new string('.', 81) + "\n");
        File.CreateSymbolicLink(P("link.txt"), P("pz.txt"));
        foreach (string output in (string[])[P("pz.txt"), P("link.txt")])
        {
            (int code, _, string err) = Hrm("solve", "--checkpoint", P("m.safetensors"), "--puzzles", P("pz.txt"),
                "--out", output);
            Assert.Equal(2, code);
            Assert.Contains("is the --puzzles file; writing it would replace it", err, StringComparison.Ordinal);
        }
        Assert.Equal(new string('.', 81) + "\n", File.ReadAllText(P("pz.txt")));
        (int c2, _, string e2) = Hrm("render", "curves", "--metrics", P("pz.png"), "--out", P("pz.png"));
        Assert.Equal(2, c2);
        Assert.Contains("is the --metrics file", e2, StringComparison.Ordinal);
        File.CreateSymbolicLink(P("m-link.safetensors"), P("m.safetensors"));
        (c2, _, e2) = Hrm("convert", "--checkpoint", P("m.safetensors"), "--out", P("m-link.safetensors"));
        Assert.Equal(2, c2);
        Assert.Contains("is the --checkpoint file", e2, StringComparison.Ordinal);
    }

    [Fact]
    public void Dataset_sizes_past_their_bounds_are_usage_errors()
    {
        foreach ((string[] args, string expected) in ((string[], string)[])[
            (["sudoku", "--generate", "4", "--num-aug", "100001"], "--num-aug expects an integer from 0 to 100000"),
            (["sudoku", "--generate", "10000001"], "--generate expects an integer from 1 to 10000000"),
            (["sudoku", "--generate", "4", "--test", "10000001"], "--test expects an integer from 0 to 10000000"),
            (["maze", "--generate", "1000001"], "--generate expects an integer from 1 to 1000000")])
        {
            (int code, _, string err) = Hrm(["data", .. args, "--out", P("d")]);
            Assert.Equal(2, code);
            Assert.Contains(expected, err, StringComparison.Ordinal);
        }
        Assert.False(Directory.Exists(P("d")));
    }

    /// <summary>No failure escapes as the runtime's crash: ours are said plainly, a bug is said as one, and output
    /// that cannot be written (a full disk under --help) is an error like any other.</summary>
    [Fact]
    public void Every_failure_is_a_message_and_an_exit_code()
    {
        Assert.Equal("hrm: error: disk", CommandLine.Report(new AggregateException(new IOException("disk"))));
        // Nested and several: the first of the flattened list (which lists the directly held ones first).
        Assert.Equal("hrm: error: d", CommandLine.Report(new AggregateException(new AggregateException(
            new IOException("b"), new FormatException("c")), new IOException("d"))));
        Assert.Equal("hrm: error: b", CommandLine.Report(new AggregateException(new AggregateException(
            new IOException("b"), new FormatException("c")))));
        Assert.StartsWith("hrm: internal error, please report it: KeyNotFoundException: x",
            CommandLine.Report(new KeyNotFoundException("x")), StringComparison.Ordinal);
        Assert.StartsWith("hrm: internal error, please report it: OverflowException",
            CommandLine.Report(new OverflowException()), StringComparison.Ordinal);
        var err = new StringWriter();
        Assert.Equal(1, CommandLine.Run(["--help"], new FullWriter(), err));
        Assert.Contains("hrm: error: No space left on device", err.ToString(), StringComparison.Ordinal);
        Assert.Equal(1, CommandLine.Run(["--help"], new FullWriter(), new FullWriter())); // stderr full too
        Assert.Equal(2, CommandLine.Run(["frobnicate"], TextWriter.Null, new FullWriter()));
    }

    /// <summary>A writer whose every write fails as a full disk does.</summary>
    private sealed class FullWriter : StringWriter
    {
        public override void Write(char value) => throw new IOException("No space left on device");

        public override void Write(string? value) => throw new IOException("No space left on device");

        public override void WriteLine(string? value) => throw new IOException("No space left on device");
    }

    [Fact]
    public void Library_parameter_names_stay_out_of_command_line_errors()
    {
        (int code, _, string err) = Hrm("data", "sudoku", "--generate", "4", "--size", "5", "--out", P("d"));
        Assert.Equal(1, code);
        Assert.Contains("Size must be 4, 6 or 9, got 5", err, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter", err, StringComparison.Ordinal);
    }

    [Fact]
    public void A_checkpoints_bad_config_metadata_is_named_once()
    {
        var w = new SafeTensorsWriter();
        w.Add("a", TensorDType.F32, [1], [1f]);
        w.SetMetadata("config", "[1]");
        w.Save(P("m.safetensors"));
        (int code, _, string err) = Hrm("info", "--checkpoint", P("m.safetensors"));
        Assert.Equal(1, code);
        string named = $"{P("m.safetensors")}: __metadata__.config: ";
        Assert.Contains(named + "expected a JSON object", err, StringComparison.Ordinal);
        Assert.Equal(err.IndexOf(named, StringComparison.Ordinal), err.LastIndexOf(named, StringComparison.Ordinal));
    }

    /// <summary>The reference's CSVs have a header that the builders skip unread; a puzzle or maze row there would be
    /// lost without a word, so it is an error.</summary>
    [Fact]
    public void A_csv_whose_first_line_is_a_row_is_refused()
    {
        var options = new SudokuGeneratorOptions { Size = 9, MinGivens = 30, MaxGivens = 30, Seed = 1 };
        SudokuRecord r = SudokuGenerator.Generate(1, options, TestContext.Current.CancellationToken)[0];
        SudokuCsv.Write(P("h.csv"), [r]);
        string row = File.ReadAllLines(P("h.csv"))[1];
        File.WriteAllText(P("noheader.csv"), row + "\n" + row + "\n");
        var e = Assert.Throws<HrmFormatException>(() => SudokuCsv.Read(P("noheader.csv")));
        Assert.Contains("line 1, header: is a puzzle row", e.Message, StringComparison.Ordinal);
        Assert.Single(SudokuCsv.Read(P("h.csv")));
        string maze = "S" + new string(' ', 8) + "G" + new string('#', 90); // 10 x 10 cells
        File.WriteAllText(P("maze.csv"), $"x,{maze},{maze},0\n");
        Assert.Contains("is a maze row", Assert.Throws<HrmFormatException>(() => MazeCsv.Read(P("maze.csv"))).Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public void Control_characters_in_a_puzzle_are_shown_as_codes()
    {
        var e = Assert.ThrowsAny<Exception>(() => SudokuText.Parse("\0" + new string('.', 80)));
        Assert.Contains("character U+0000 at index 0", e.Message, StringComparison.Ordinal);
        e = Assert.ThrowsAny<Exception>(() => SudokuText.Parse("\u202E" + new string('.', 80)));
        Assert.Contains("character U+202E at index 0", e.Message, StringComparison.Ordinal);
        e = Assert.ThrowsAny<Exception>(() => SudokuText.Parse("x" + new string('.', 80)));
        Assert.Contains("character 'x' at index 0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_line_of_a_megabyte_is_an_error_naming_the_file_and_line_not_a_memory_exhaustion()
    {
        string row = new('1', TextLines.DefaultMaxChars + 1);
        File.WriteAllText(P("p.txt"), new string('.', 81) + "\n" + row + "\n");
        Directory.CreateDirectory(P("csv"));
        File.WriteAllText(P("csv/train.csv"), "source,question,answer,rating\n" + row + "\n");
        File.WriteAllText(P("csv/test.csv"), "source,question,answer,rating\n");
        File.WriteAllText(P("m.jsonl"), "{\"step\": 1, \"loss\": 2}\n" + row);
        Assert.Equal(0, Hrm("init", "--preset", "tiny", "--out", P("m.safetensors")).Code);
        string[][] commands =
        [
            ["solve", "--checkpoint", P("m.safetensors"), "--puzzles", P("p.txt")],
            ["data", "sudoku", "--from-csv", P("csv"), "--out", P("d")],
            ["render", "curves", "--metrics", P("m.jsonl"), "--out", P("c.png")],
        ];
        string[] files = [P("p.txt"), Path.Combine(P("csv"), "train.csv"), P("m.jsonl")];
        int[] lines = [2, 2, 2];
        for (int i = 0; i < commands.Length; i++)
        {
            (int code, _, string err) = Hrm(commands[i]);
            Assert.True(code == 1, $"{commands[i][0]}: exit {code}: {err}");
            Assert.Contains($"{files[i]}: line {lines[i]}: longer than 1,048,576 characters", err, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Dataset_keys_set_on_the_command_line_are_refused_not_replaced()
    {
        foreach (string key in (string[])["seq_len", "arch.vocab_size", "num_puzzle_identifiers"])
        {
            (int code, _, string err) = Hrm("train", "--preset", "sudoku-tiny", "--set", key + "=100", "--data", P("none"));
            Assert.Equal(2, code);
            Assert.Contains($"--set {key}: a run takes {key.Replace("arch.", "", StringComparison.Ordinal)} from its " +
                "dataset (dataset.json); it cannot be set", err, StringComparison.Ordinal);
        }
        (int c, _, string e) = Hrm("quickstart", "--set", "seq_len=100", "--out", P("q"));
        Assert.Equal(2, c);
        Assert.Contains("--set seq_len: a run takes seq_len from its dataset", e, StringComparison.Ordinal);
        Assert.False(Directory.Exists(P("q")));
    }

    [Fact]
    public void Train_refuses_the_identifiers_that_eval_would_refuse()
    {
        Assert.Equal(0, Hrm("data", "sudoku", "--generate", "8", "--test", "2", "--out", P("d")).Code);
        File.WriteAllText(Path.Combine(P("d"), "identifiers.json"), "[\"<blank>\", \"extra\"]");
        (int code, _, string err) = Hrm("train", "--preset", "sudoku-tiny", "--data", P("d"), "--run-dir", P("run"));
        Assert.Equal(1, code);
        Assert.Contains("identifiers.json: identifiers: lists 2 names, but dataset.json says num_puzzle_identifiers = 1",
            err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(P("run")));
    }

    [Fact]
    public void An_arc_source_given_twice_is_refused()
    {
        string task = "{\"train\": [{\"input\": [[1]], \"output\": [[2]]}], \"test\": [{\"input\": [[1]], \"output\": [[2]]}]}";
        Directory.CreateDirectory(P("arc/training"));
        File.WriteAllText(P("arc/training/t1.json"), task);
        File.CreateSymbolicLink(P("link"), P("arc"));
        Directory.CreateDirectory(P("up"));
        File.CreateSymbolicLink(P("up/rel"), "../arc/"); // relative, with a trailing separator
        // Links along the path, not only at its end: up2 -> up, so up2/rel -> ../arc.
        File.CreateSymbolicLink(P("up2"), P("up"));
        foreach (string again in (string[])[P("arc") + "/", P("link"), P("up/rel"), P("up2/rel/")])
        {
            (int code, _, string err) = Hrm("data", "arc", "--source", P("arc"), "--source", again, "--num-aug", "0",
                "--out", P("out"));
            Assert.Equal(1, code);
            Assert.Contains($"ARC source folder '{again}' is '{P("arc")}' again: its tasks would be read twice", err,
                StringComparison.Ordinal);
        }
        Assert.Equal(0, Hrm("data", "arc", "--source", P("arc"), "--num-aug", "0", "--out", P("out")).Code);
    }

    [Fact]
    public void A_second_quickstart_into_the_same_folder_is_refused()
    {
        using (global::Hrm.Train.Training.RunLock.Acquire(P("q"), create: true, holder: "test"))
        {
            (int code, _, string err) = Hrm("quickstart", "--out", P("q"));
            Assert.Equal(1, code);
            Assert.Contains($"{P("q")}: another hrm quickstart is running in it", err, StringComparison.Ordinal);
        }
        Assert.Equal([".hrm-train.lock"], Directory.GetFileSystemEntries(P("q")).Select(Path.GetFileName));
    }

    [Fact]
    public void An_out_of_range_value_says_got_on_its_line()
    {
        Assert.Equal(0, Hrm("init", "--preset", "tiny", "--out", P("m.safetensors")).Code);
        (int code, _, string err) = Hrm("solve", "--checkpoint", P("m.safetensors"), "--puzzle", new string('.', 81),
            "--halting", "adaptive", "--min-steps", "5000");
        Assert.Equal(1, code);
        Assert.Contains("min steps: expected 1..", err, StringComparison.Ordinal);
        Assert.Contains("(the max steps), got 5000", err, StringComparison.Ordinal);
        Assert.DoesNotContain("Actual value", err, StringComparison.Ordinal);
    }
}
