using System.Text.Json;
using Hrm.Runtime.Puzzles;
using Hrm.Train.Data;
using Hrm.Train.Tests.Data;

namespace Hrm.Train.Tests.Cli;

public sealed class MazeArcCliTests : CliHarness
{
    private const string Tiny = "\"hidden_size\": 32, \"num_heads\": 2, \"H_layers\": 1, \"L_layers\": 1, \"H_cycles\": 1, " +
        "\"L_cycles\": 1, \"halt_max_steps\": 2, \"seq_len\": 900";

    [Fact]
    public void Maze_data_solve_and_eval_work_from_the_command_line()
    {
        (int code, string output, string err) = Hrm("data", "maze", "--generate", "4", "--test", "2", "--min-path-length", "20",
            "--aug", "--seed", "3", "--out", P("maze"));
        Assert.True(code == 0, err);
        Assert.Contains("every label checked", output);
        Assert.Contains("x 8 views", output);
        File.WriteAllText(P("maze.json"), "{" + Tiny + ", \"vocab_size\": 6, \"puzzle_emb_ndim\": 0}");
        Assert.Equal(0, Hrm("init", "--config", P("maze.json"), "--out", P("maze.safetensors")).Code);
        MazeRecord m = MazeGenerator.Generate(1, new MazeGeneratorOptions { Seed = 9, Threads = 1 }, TestContext.Current.CancellationToken)[0];
        File.WriteAllText(P("m.txt"), MazeBoard.Format(m.Puzzle) + "\n");
        (code, output, err) = Hrm("solve", "--checkpoint", P("maze.safetensors"), "--maze", P("m.txt"), "--max-steps", "2");
        Assert.True(code is 0 or 3, err);
        Assert.Contains("maze with the model's path", output);
        Assert.Contains("path", output[output.IndexOf("segments:", StringComparison.Ordinal)..]);
        Assert.Contains($"shortest {m.Rating} moves", output);
        (code, output, err) = Hrm("eval", "--checkpoint", P("maze.safetensors"), "--data", P("maze"), "--max-steps", "1");
        Assert.True(code == 0, err);
        Assert.Contains("eval/exact_accuracy", output);
        Directory.CreateDirectory(P("csv"));
        MazeCsv.Write(P("csv/train.csv"), [m]);
        (code, output, err) = Hrm("data", "maze", "--from-csv", P("csv"), "--aug", "--out", P("fromcsv"));
        Assert.True(code == 0, err);
        Assert.Contains("0 not a start-to-goal path, 0 longer than shortest", output);
        using (var ds = PuzzleDataset.Open(P("fromcsv"), "train")) Assert.Equal(8, ds.ExampleCount);
        File.WriteAllText(P("bad.txt"), "S #\n x#\n  G\n");
        (code, _, err) = Hrm("solve", "--checkpoint", P("maze.safetensors"), "--maze", P("bad.txt"));
        Assert.Equal(1, code);
        Assert.Contains("row 2, column 2", err);
    }

    [Fact]
    public void Arc_data_eval_with_voting_and_submission_work_from_the_command_line()
    {
        ArcTestData.WriteCrafted(P("src"));
        (int code, string output, string err) = Hrm("data", "arc", "--source", P("src"), "--num-aug", "2", "--threads", "2",
            "--out", P("arc"));
        Assert.True(code == 0, err);
        Assert.Contains("tasks 3/3", output);
        Assert.Contains("peak RSS", output);
        int ids = DatasetIdentifiers.Read(P("arc"))!.Length;
        Assert.Equal(10, ids);
        File.WriteAllText(P("arc.json"), "{" + Tiny + $", \"vocab_size\": 12, \"puzzle_emb_ndim\": 32, \"num_puzzle_identifiers\": {ids}}}");
        Assert.Equal(0, Hrm("init", "--config", P("arc.json"), "--out", P("arc.safetensors")).Code);
        (code, output, err) = Hrm("eval", "--checkpoint", P("arc.safetensors"), "--data", P("arc"), "--max-steps", "1",
            "--submission", P("sub.json"));
        Assert.True(code == 0, err);
        Assert.Contains("ARC/pass@1", output);
        Assert.Contains("ARC/pass@1000", output);
        Assert.Contains("/1 tasks)", output);
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(P("sub.json")));
        JsonElement e1 = doc.RootElement.GetProperty("e1");
        Assert.Equal(2, e1.GetArrayLength());
        Assert.Equal(JsonValueKind.Array, e1[1].GetProperty("attempt_2").ValueKind);
        (code, _, err) = Hrm("eval", "--checkpoint", P("arc.safetensors"), "--data", P("arc"), "--split", "train", "--max-steps", "1",
            "--batch-size", "64", "--submission", P("sub2.json"));
        Assert.True(code == 0, err);   // the train split votes too (its originals carry labels)
    }

    [Fact]
    public void Malformed_arc_files_stop_the_build_unless_skip_bad()
    {
        ArcTestData.WriteCrafted(P("src"));
        File.WriteAllText(P("src/training/bad.json"), """{"train": [{"input": [[1, 2], [3]], "output": [[1]]}], "test": []}""");
        File.WriteAllText(P("src/evaluation/worse.json"), """{"train": [{"input": [[1]], "output": [[1]]}], "test": [{"input": [[12]], "output": [[1]]}]}""");
        (int code, _, string err) = Hrm("data", "arc", "--source", P("src"), "--num-aug", "1", "--out", P("arc"));
        Assert.Equal(1, code);
        Assert.Contains("bad.json", err);
        Assert.Contains("train[0].input[1]", err);
        Assert.Contains("worse.json", err);
        Assert.Contains("test[0].input[0][0]", err);
        Assert.Contains("--skip-bad", err);
        Assert.False(Directory.Exists(P("arc")));
        (code, string output, err) = Hrm("data", "arc", "--source", P("src"), "--num-aug", "1", "--skip-bad", "--out", P("arc"));
        Assert.True(code == 0, err);
        Assert.Contains("skipping", err);
        Assert.Contains("skipped 2 malformed", output);
        Assert.Equal(1 + 3 * 2, DatasetIdentifiers.Read(P("arc"))!.Length);
        Assert.Equal(2, Hrm("data", "arc", "--num-aug", "1").Code);   // neither --preset nor --source
    }
}
