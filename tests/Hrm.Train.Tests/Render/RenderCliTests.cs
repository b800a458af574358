using Hrm.Runtime.Puzzles;
using Hrm.Runtime.Formats;
using Hrm.Train.Data;
using Hrm.Train.Tests.Cli;
using Hrm.Train.Tests.Data;
using SkiaSharp;

namespace Hrm.Train.Tests.Render;

[Collection(SerialRendering.Name)]
public sealed class RenderCliTests : CliHarness
{
    private const string Tiny = "\"hidden_size\": 32, \"num_heads\": 2, \"H_layers\": 1, \"L_layers\": 1, \"H_cycles\": 1, " +
        "\"L_cycles\": 1, \"halt_max_steps\": 3";

    [Fact]
    public void Sudoku_render_writes_a_png_with_the_answer_and_every_segment()
    {
        string ckpt = Checkpoint("s4", "\"seq_len\": 16, \"vocab_size\": 6, \"puzzle_emb_ndim\": 0");
        SudokuRecord r = SudokuGenerator.Generate(1, new SudokuGeneratorOptions { Size = 4, MinGivens = 6, MaxGivens = 8, Seed = 11, Threads = 1 },
            TestContext.Current.CancellationToken)[0];
        (int code, string output, string err) = Hrm("render", "sudoku", "--checkpoint", ckpt, "--puzzle", SudokuText.Format(r.Puzzle),
            "--out", P("out/s.png"));
        Assert.True(code == 0, err);
        Assert.Contains("wrote " + P("out/s.png"), output);
        Assert.Contains("the model's answer is", output);
        using SKBitmap a = PngFile.Decode(P("out/s.png"));
        Assert.Equal(0, Hrm("render", "sudoku", "--checkpoint", ckpt, "--puzzle", SudokuText.Format(r.Puzzle), "--max-steps", "12",
            "--out", P("s12.png")).Code);
        using SKBitmap b = PngFile.Decode(P("s12.png"));
        Assert.True(b.Height > a.Height, "12 segments need a second row of boards");

        (code, _, err) = Hrm("render", "sudoku", "--checkpoint", ckpt, "--puzzle", "1123............", "--out", P("bad.png"));
        Assert.Equal(1, code);
        Assert.Contains("duplicate given", err);
        Assert.False(File.Exists(P("bad.png")));
        Assert.Equal(2, Hrm("render", "sudoku", "--checkpoint", ckpt, "--puzzle", "1...............", "--out", P("s.jpg")).Code);
        (code, _, err) = Hrm("render", "sudoku", "--checkpoint", ckpt, "--puzzle", "1...............", "--max-steps", "65", "--out", P("s.png"));
        Assert.Equal(2, code);
        Assert.Contains("at most 64", err);
    }

    [Fact]
    public void Maze_render_writes_a_png()
    {
        string ckpt = Checkpoint("m", "\"seq_len\": 100, \"vocab_size\": 6, \"puzzle_emb_ndim\": 0");
        MazeRecord m = MazeGenerator.Generate(1, new MazeGeneratorOptions { Size = 10, Seed = 5, Threads = 1 },
            TestContext.Current.CancellationToken)[0];
        File.WriteAllText(P("m.txt"), MazeBoard.Format(m.Puzzle) + "\n");
        (int code, string output, string err) = Hrm("render", "maze", "--checkpoint", ckpt, "--maze", P("m.txt"), "--out", P("m.png"));
        Assert.True(code == 0, err);
        Assert.Contains("the model's path is", output);
        PngFile.Decode(P("m.png")).Dispose();
        File.WriteAllText(P("bad.txt"), "S #\n x#\n  G\n");
        (code, _, err) = Hrm("render", "maze", "--checkpoint", ckpt, "--maze", P("bad.txt"), "--out", P("bad.png"));
        Assert.Equal(1, code);
        Assert.Contains("row 2, column 2", err);
    }

    [Fact]
    public void Arc_render_writes_a_png_of_one_test_example()
    {
        ArcTestData.WriteCrafted(P("src"));
        Assert.Equal(0, Hrm("data", "arc", "--source", P("src"), "--num-aug", "1", "--out", P("arc")).Code);
        int ids = DatasetIdentifiers.Read(P("arc"))!.Length;
        string ckpt = Checkpoint("arc", $"\"seq_len\": 900, \"vocab_size\": 12, \"puzzle_emb_ndim\": 32, \"num_puzzle_identifiers\": {ids}");
        (int code, string output, string err) = Hrm("render", "arc", "--checkpoint", ckpt, "--data", P("arc"), "--index", "1",
            "--max-steps", "1", "--out", P("arc.png"));
        Assert.True(code == 0, err);
        Assert.Contains("the prediction", output);
        PngFile.Decode(P("arc.png")).Dispose();
        (code, _, err) = Hrm("render", "arc", "--checkpoint", ckpt, "--data", P("arc"), "--index", "99", "--out", P("x.png"));
        Assert.Equal(2, code);
        Assert.Contains("--index 99 is past the test split's", err);
    }

    [Fact]
    public void Curves_render_writes_a_png_and_names_the_bad_line()
    {
        File.WriteAllLines(P("metrics.jsonl"),
        [
            """{"step":10,"train/accuracy":0.5,"train/exact_accuracy":0,"train/lm_loss":2.1,"train/steps":4,"train/lr":0.001}""",
            """{"step":20,"train/accuracy":0.7,"train/exact_accuracy":0.1,"train/lm_loss":"NaN","train/steps":3.5}""",
            "",
            """{"step":20,"eval/accuracy":0.65,"eval/exact_accuracy":0.05,"eval/lm_loss":1.4,"eval/steps":4}""",
            """{"step":30,"train/accuracy":0.8,"train/exact_accuracy":0.2,"train/lm_loss":1.2,"train/steps":3}""",
        ]);
        (int code, string output, string err) = Hrm("render", "curves", "--metrics", P("metrics.jsonl"), "--out", P("c.png"));
        Assert.True(code == 0, err);
        Assert.Contains("4 entries from", output);   // the blank line is skipped
        PngFile.Decode(P("c.png")).Dispose();

        (string Line, string Expected)[] bad =
        [
            ("{\"step\":10,\"train/accuracy\":", "not valid JSON"),
            ("[1, 2]", "expected a JSON object"),
            ("{\"train/accuracy\":0.5}", "no \"step\" key"),
            ("{\"step\":-3}", "\"step\" must be a non-negative integer"),
            ("{\"step\":1,\"train/accuracy\":\"high\"}", "\"train/accuracy\" must be a number"),
        ];
        foreach ((string line, string expected) in bad)
        {
            string good = "{\"step\":1,\"train/lm_loss\":1}";
            File.WriteAllLines(P("bad.jsonl"), [good, "", line, "", good]);
            (code, _, err) = Hrm("render", "curves", "--metrics", P("bad.jsonl"), "--out", P("bad.png"));
            Assert.Equal(1, code);
            Assert.Contains("bad.jsonl: line 3: " + expected, err);
            // The last line (a trainer may be writing it) is left out with a warning.
            File.WriteAllLines(P("bad.jsonl"), [good, "", line, ""]);
            (code, _, err) = Hrm("render", "curves", "--metrics", P("bad.jsonl"), "--out", P("bad.png"));
            Assert.True(code == 0, err);
            Assert.Contains("hrm: warning: " + P("bad.jsonl") + ": line 3: " + expected, err);
            Assert.Contains("; the last line, left out (a run still writing it?)", err);
        }
        File.WriteAllLines(P("none.jsonl"), ["{\"step\":1,\"train/lr\":0.1}"]);
        (code, _, err) = Hrm("render", "curves", "--metrics", P("none.jsonl"), "--out", P("none.png"));
        Assert.Equal(1, code);
        Assert.Contains("none of train/lm_loss", err);
    }

    [Fact]
    public void Halting_render_writes_a_histogram_and_checks_the_npy()
    {
        var rng = new Random(4);
        Npy.WriteInt32(P("segments.npy"), [.. Enumerable.Range(0, 200).Select(_ => rng.Next(1, 17))], [200]);
        (int code, string output, string err) = Hrm("render", "halting", "--segments", P("segments.npy"), "--out", P("h.png"));
        Assert.True(code == 0, err);
        Assert.Contains("200 examples, mean", output);
        PngFile.Decode(P("h.png")).Dispose();

        Npy.WriteFloat32(P("f.npy"), [1f, 2f], [2]);
        Npy.WriteInt32(P("2d.npy"), [1, 2, 3, 4], [2, 2]);
        Npy.WriteInt32(P("zero.npy"), [3, 0, 2], [3]);
        Npy.WriteInt32(P("empty.npy"), [], [0]);
        (string File, string Expected)[] bad =
        [
            ("f.npy", "descr: is '<f4'; segments used per example are int32 ('<i4')"),
            ("2d.npy", "shape: expected [N] with N >= 1"),
            ("zero.npy", "element 1: is 0"),
            ("empty.npy", "shape: expected [N] with N >= 1"),
        ];
        foreach ((string file, string expected) in bad)
        {
            (code, _, err) = Hrm("render", "halting", "--segments", P(file), "--out", P("bad.png"));
            Assert.Equal(1, code);
            Assert.Contains(expected, err);
        }
        Assert.Equal(2, Hrm("render", "histogram", "--out", P("x.png")).Code);
        Assert.Equal(2, Hrm("render").Code);
    }

    [Fact]
    public void Participation_ratio_runs_on_a_tiny_checkpoint_and_plots()
    {
        string data = Training.TrainingFixtures.Build4x4(P("data"), train: 16, test: 12);
        string ckpt = Checkpoint("pr", "\"seq_len\": 16, \"vocab_size\": 6, \"puzzle_emb_ndim\": 0");
        (int code, string output, string err) = Hrm("analyze", "participation-ratio", "--checkpoint", ckpt, "--data", data,
            "--examples", "10", "--max-steps", "2", "--batch-size", "4", "--seed", "3", "--out", P("pr.png"));
        Assert.True(code == 0, err);
        Assert.Contains("20 samples of 512 values", output);   // 10 examples x 2 segments; T x C = 16 x 32
        string[] rows = [.. output.Split('\n')
            .Where(l => l.StartsWith("trained", StringComparison.Ordinal) || l.StartsWith("untrained (seed 3)", StringComparison.Ordinal))];
        Assert.Equal(2, rows.Length);
        foreach (string row in rows)
        {
            string[] f = row.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            double zh = double.Parse(f[^3], System.Globalization.CultureInfo.InvariantCulture);
            double zl = double.Parse(f[^2], System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(zh, 1, 19);   // at most rank n - 1
            Assert.InRange(zl, 1, 19);
        }
        PngFile.Decode(P("pr.png")).Dispose();
        (code, output, err) = Hrm("analyze", "participation-ratio", "--checkpoint", ckpt, "--data", data, "--examples", "3",
            "--max-steps", "2", "--sample", "position");
        Assert.True(code == 0, err);
        Assert.Contains("96 samples of 32 values", output);
        Assert.Equal(2, Hrm("analyze", "participation-ratio", "--checkpoint", ckpt, "--data", data, "--sample", "token").Code);
        Assert.Equal(2, Hrm("analyze", "dimension").Code);
        (code, _, err) = Hrm("analyze", "participation-ratio", "--checkpoint", ckpt, "--data", data, "--examples", "1", "--max-steps", "1");
        Assert.Equal(2, code);
        Assert.Contains("a covariance needs at least 2", err);
    }

    private string Checkpoint(string name, string shape)
    {
        File.WriteAllText(P(name + ".json"), "{" + Tiny + ", " + shape + "}");
        (int code, _, string err) = Hrm("init", "--config", P(name + ".json"), "--out", P(name + ".safetensors"));
        Assert.True(code == 0, err);
        return P(name + ".safetensors");
    }
}
