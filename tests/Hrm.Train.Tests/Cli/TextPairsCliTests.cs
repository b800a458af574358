namespace Hrm.Train.Tests.Cli;

/// <summary>A task of one's own from the command line: hrm data pairs, train, eval and solve --text.</summary>
public sealed class TextPairsCliTests : CliHarness
{
    [Fact]
    public void Pairs_data_train_eval_and_solve_text_work_from_the_command_line()
    {
        // Reverse a word of 2 to 6 letters.
        var rng = new Random(7);
        string[] words = [.. Enumerable.Range(0, 96).Select(_ =>
            new string([.. Enumerable.Range(0, rng.Next(2, 7)).Select(_ => (char)('a' + rng.Next(5)))]))];
        File.WriteAllLines(P("reverse.csv"),
            ["input,output", .. words.Select(w => $"{w},{new string([.. w.Reverse()])}")]);
        (int code, string output, string err) = Hrm("data", "pairs", "--train", P("reverse.csv"), "--holdout", "16",
            "--seed", "3", "--out", P("data"));
        Assert.True(code == 0, err);
        Assert.Contains("train 80 examples in 80 groups, test 16; seq_len 6, vocab_size 7", output,
            StringComparison.Ordinal);
        (code, _, err) = Hrm("train", "--preset", "sudoku-tiny", "--data", P("data"), "--run-dir", P("run"),
            "--set", "epochs=2", "--set", "eval_interval=2", "--threads", "2");
        Assert.True(code == 0, err);
        string ckpt = Path.Combine(Directory.GetDirectories(P("run/checkpoints")).Order().Last(), "model.safetensors");
        Assert.Equal(File.ReadAllText(P("data/alphabet.json")),
            File.ReadAllText(Path.Combine(Path.GetDirectoryName(ckpt)!, "alphabet.json")));
        (code, output, err) = Hrm("eval", "--checkpoint", ckpt, "--data", P("data"), "--max-steps", "2",
            "--out", P("eval"));
        Assert.True(code == 0, err);
        Assert.Contains("eval/exact_accuracy", output, StringComparison.Ordinal);
        // The decoded answers beside predictions.npy: one a line, the held-out examples in order.
        string[] decoded = File.ReadAllLines(P("eval/answers.txt"));
        Assert.Equal(16, decoded.Length);
        Assert.All(decoded, a => Assert.Matches("^[a-e?]*$", a));
        File.Delete(P("eval/answers.txt"));
        (code, _, err) = Hrm("eval", "--checkpoint", ckpt, "--data", P("data"), "--max-steps", "2",
            "--halting", "fixed", "--out", P("eval"));
        Assert.True(code == 0, err);
        Assert.Equal(decoded, File.ReadAllLines(P("eval/answers.txt")));   // the solver's fixed halting: the same
        (code, _, err) = Hrm("predict", "--checkpoint", ckpt, "--inputs", P("data/test/all__inputs.npy"),
            "--max-steps", "2", "--out", P("eval"));
        Assert.True(code == 0, err);
        Assert.False(File.Exists(P("eval/answers.txt")));   // predict knows no alphabet: the old answers go
        (code, output, err) = Hrm("solve", "--checkpoint", ckpt, "--text", "abcde", "--max-steps", "2");
        Assert.True(code is 0 or 3, err);
        Assert.Contains("input:  abcde", output, StringComparison.Ordinal);
        string answer = output.Split('\n').Single(l => l.StartsWith("answer: ", StringComparison.Ordinal))[8..];
        Assert.Equal(code == 0, answer.Length > 0 && answer.All(c => c is >= 'a' and <= 'e'));
        (int code2, string output2, _) = Hrm("solve", "--checkpoint", ckpt, "--text", "abcde", "--max-steps", "2",
            "--alphabet", P("data"));
        Assert.Equal((code, output.Split('\n')[1]), (code2, output2.Split('\n')[1]));
        // A file of inputs, and one of inputs with their outputs (compared); answers one a line, in order.
        File.WriteAllLines(P("inputs.txt"), ["abcde", "", "ab", "\"ba\""]);
        (code, output, err) = Hrm("solve", "--checkpoint", ckpt, "--texts", P("inputs.txt"), "--max-steps", "2");
        Assert.True(code is 0 or 3, err);
        string[] answers = output.TrimEnd('\n').Split('\n');
        Assert.Equal(3, answers.Length);
        Assert.Equal(answer, answers[0]);
        Assert.Contains("3 texts from", err, StringComparison.Ordinal);
        Assert.DoesNotContain("equal to the file's answers", err, StringComparison.Ordinal);
        (code, output, err) = Hrm("solve", "--checkpoint", ckpt, "--texts", P("reverse.csv"), "--max-steps", "2",
            "--out", P("answers.txt"), "--batch", "8");
        Assert.True(code is 0 or 3, err);
        Assert.Equal(96, File.ReadAllLines(P("answers.txt")).Length);
        Assert.Matches(@"equal to the file's answers: \d+ of 96", output);
        File.WriteAllLines(P("mixed.txt"), ["ab,ba", "abc"]);
        (code, _, err) = Hrm("solve", "--checkpoint", ckpt, "--texts", P("mixed.txt"));
        Assert.Equal(1, code);
        Assert.Contains("line 2, row", err, StringComparison.Ordinal);
        (code, _, err) = Hrm("solve", "--checkpoint", ckpt, "--text", "abcxe");
        Assert.Equal(1, code);
        Assert.Contains("'x' at position 4", err, StringComparison.Ordinal);
        (code, _, err) = Hrm("solve", "--checkpoint", ckpt, "--text", "abcdefg");
        Assert.Equal(1, code);
        Assert.Contains("has 7 characters; the rows of this alphabet hold 6", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Puzzle_ids_train_an_embedding_per_group_and_solve_names_the_group()
    {
        var rng = new Random(5);
        var lines = new List<string> { "input,output,group" };
        for (int t = 0; t < 4; t++)
        {
            for (int i = 0; i < 16; i++)
            {
                string w = new([.. Enumerable.Range(0, 4).Select(_ => (char)('a' + rng.Next(3)))]);
                lines.Add($"{w},{string.Concat(w.Select(c => (char)('a' + (c - 'a' + t) % 3)))},shift{t}");
            }
        }
        File.WriteAllLines(P("train.csv"), lines);
        File.WriteAllLines(P("test.csv"), ["abca,bcab,shift1", "abca,cabc,shift2"]);
        (int code, string output, string err) = Hrm("data", "pairs", "--train", P("train.csv"), "--test",
            P("test.csv"), "--puzzle-ids", "--out", P("data"));
        Assert.True(code == 0, err);
        Assert.Contains("train 64 examples in 4 groups", output, StringComparison.Ordinal);
        (code, _, err) = Hrm("train", "--preset", "sudoku-tiny", "--data", P("data"), "--run-dir", P("run"),
            "--set", "epochs=2", "--set", "eval_interval=2", "--threads", "2");
        Assert.True(code == 0, err);
        string ckpt = Path.Combine(Directory.GetDirectories(P("run/checkpoints")).Order().Last(), "model.safetensors");
        (code, _, err) = Hrm("solve", "--checkpoint", ckpt, "--text", "abca");
        Assert.Equal(2, code);
        Assert.Contains("names 4 puzzles (e.g. 'shift0'): give --puzzle-name NAME", err, StringComparison.Ordinal);
        (code, output, err) = Hrm("solve", "--checkpoint", ckpt, "--text", "abca", "--puzzle-name", "shift2",
            "--max-steps", "2");
        Assert.True(code is 0 or 3, err);
        Assert.Contains("answer: ", output, StringComparison.Ordinal);
        (code, _, err) = Hrm("solve", "--checkpoint", ckpt, "--text", "abca", "--puzzle-name", "shift9");
        Assert.Equal(2, code);
        Assert.Contains("'shift9' is not among the 4 puzzles", err, StringComparison.Ordinal);
        (code, output, err) = Hrm("solve", "--checkpoint", ckpt, "--texts", P("test.csv"), "--puzzle-name",
            "shift1", "--max-steps", "2");
        Assert.True(code is 0 or 3, err);
        string[] both = output.TrimEnd('\n').Split('\n');
        Assert.Equal(2, both.Length);
        // Without --puzzle-name each line's group names its puzzle: line 2 (shift2) then gets shift2's embedding.
        (code, output, err) = Hrm("solve", "--checkpoint", ckpt, "--texts", P("test.csv"), "--max-steps", "2");
        Assert.True(code is 0 or 3, err);
        string[] own = output.TrimEnd('\n').Split('\n');
        Assert.Equal(both[0], own[0]);
        (int c2, string o2, string e2) = Hrm("solve", "--checkpoint", ckpt, "--text", "abca", "--puzzle-name",
            "shift2", "--max-steps", "2");
        Assert.True(c2 is 0 or 3, e2);
        Assert.Equal(o2.Split('\n')[1], "answer: " + own[1]);
        // hrm convert --dtype bf16: half the file; the names and the alphabet beside the checkpoint go with it.
        (code, output, err) = Hrm("convert", "--checkpoint", ckpt, "--dtype", "bf16", "--out",
            P("small/m.safetensors"));
        Assert.True(code == 0, err);
        Assert.Contains("parameters as BF16", output, StringComparison.Ordinal);
        foreach (string name in (string[])["identifiers.json", "alphabet.json"])
            Assert.Equal(File.ReadAllBytes(P("data/" + name)), File.ReadAllBytes(P("small/" + name)));
        Assert.InRange(new FileInfo(P("small/m.safetensors")).Length, 1, new FileInfo(ckpt).Length * 52 / 100);
        (c2, o2, e2) = Hrm("solve", "--checkpoint", P("small/m.safetensors"), "--text", "abca", "--puzzle-name",
            "shift2", "--max-steps", "2");
        Assert.True(c2 is 0 or 3, e2);
        Assert.StartsWith("answer: ", o2.Split('\n')[1], StringComparison.Ordinal);
        (code, _, err) = Hrm("convert", "--checkpoint", ckpt, "--dtype", "f64", "--out", P("x.safetensors"));
        Assert.Equal(2, code);
        Assert.Contains("--dtype f64: expected f32, bf16 or f16", err, StringComparison.Ordinal);
        File.WriteAllLines(P("inputs.txt"), ["abca"]);
        (code, _, err) = Hrm("solve", "--checkpoint", ckpt, "--texts", P("inputs.txt"));
        Assert.Equal(1, code);
        Assert.Contains("line 1, group: is missing", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Relabelled_views_under_puzzle_ids_train_as_puzzles_and_solve_votes_over_them()
    {
        var rng = new Random(6);
        var lines = new List<string> { "input,output,group" };
        for (int t = 0; t < 3; t++)
        {
            for (int i = 0; i < 8; i++)
            {
                string w = new([.. Enumerable.Range(0, 4).Select(_ => (char)('a' + rng.Next(3)))]);
                lines.Add($"{w},{string.Concat(w.Select(c => (char)('a' + (c - 'a' + t) % 3)))},shift{t}");
            }
        }
        File.WriteAllLines(P("train.csv"), lines);
        File.WriteAllLines(P("test.csv"), ["abca,bcab,shift1", "abca,cabc,shift2"]);
        (int code, string output, string err) = Hrm("data", "pairs", "--train", P("train.csv"), "--test",
            P("test.csv"), "--puzzle-ids", "--relabel", "abc", "--num-aug", "2", "--out", P("data"));
        Assert.True(code == 0, err);
        Assert.Contains("train 24 examples in 3 groups x 3 views", output, StringComparison.Ordinal);
        (code, _, err) = Hrm("train", "--preset", "sudoku-tiny", "--data", P("data"), "--run-dir", P("run"),
            "--set", "epochs=2", "--set", "eval_interval=2", "--threads", "2");
        Assert.True(code == 0, err);
        string ckpt = Path.Combine(Directory.GetDirectories(P("run/checkpoints")).Order().Last(), "model.safetensors");
        string[] solve = ["solve", "--checkpoint", ckpt, "--max-steps", "2"];
        (code, output, err) = Hrm([.. solve, "--text", "abca", "--puzzle-name", "shift1"]);
        Assert.True(code is 0 or 3, err);
        Assert.Matches(@"votes: [1-3] of 3 views \([1-3] distinct answers\)", output);
        (code, output, err) = Hrm([.. solve, "--text", "abca", "--puzzle-name", "shift1", "--views", "1"]);
        Assert.True(code is 0 or 3, err);
        Assert.DoesNotContain("votes:", output, StringComparison.Ordinal);   // the original view alone, as before
        (code, output, err) = Hrm([.. solve, "--texts", P("test.csv"), "--views", "2"]);
        Assert.True(code is 0 or 3, err);
        Assert.Equal(2, output.TrimEnd('\n').Split('\n').Length);
        Assert.Contains("each answer the vote of up to 2 views", err, StringComparison.Ordinal);
        string view = File.ReadAllText(P("data/identifiers.json")).Split('"').First(n => n.StartsWith("shift1|",
            StringComparison.Ordinal));
        (code, _, err) = Hrm([.. solve, "--text", "abca", "--puzzle-name", view]);
        Assert.Equal(2, code);
        Assert.Contains("is a relabelled view of group 'shift1'", err, StringComparison.Ordinal);
        // A model without views refuses --views.
        File.WriteAllText(Path.Combine(Path.GetDirectoryName(ckpt)!, "identifiers.json"), "[\"<blank>\"]");
        (code, _, err) = Hrm([.. solve, "--text", "abca", "--views", "2"]);
        Assert.Equal(2, code);
        Assert.Contains("--views: the checkpoint's identifiers.json has no relabelled views", err,
            StringComparison.Ordinal);
    }

    [Fact]
    public void Pairs_options_that_do_not_go_together_are_refused()
    {
        File.WriteAllText(P("p.csv"), "ab,ba\nba,ab\n");
        Assert.Equal(2, Hrm("data", "pairs", "--train", P("p.csv"), "--test", P("p.csv"), "--holdout", "1",
            "--out", P("d")).Code);
        Assert.Equal(2, Hrm("data", "pairs", "--train", P("p.csv"), "--seed", "1", "--out", P("d")).Code);
        Assert.Equal(2, Hrm("data", "pairs", "--train", P("p.csv"), "--relabel", "ab", "--out", P("d")).Code);
        Assert.Equal(2, Hrm("data", "pairs", "--train", P("p.csv"), "--num-aug", "2", "--out", P("d")).Code);
        (int c0, string o0, string e0) = Hrm("data", "pairs", "--train", P("p.csv"), "--relabel", "ab",
            "--num-aug", "2", "--seed", "4", "--out", P("aug"));
        Assert.True(c0 == 0, e0);
        Assert.Contains("train 2 examples in 2 groups x 3 views (relabelled \"ab\")", o0, StringComparison.Ordinal);
        Assert.Equal(2, Hrm("data", "pairs", "--train", P("p.csv"), "--alphabet", "", "--out", P("d")).Code);
        (int code, _, string err) = Hrm("data", "pairs", "--train", P("p.csv"), "--holdout", "2", "--out", P("d"));
        Assert.Equal(1, code);
        Assert.Contains("has 2 groups", err, StringComparison.Ordinal);
        (code, _, err) = Hrm("data", "pairs", "--train", P("p.csv"), "--alphabet", "a", "--out", P("d"));
        Assert.Equal(1, code);
        Assert.Contains("line 1, input", err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(P("d/train")));
        Assert.Equal(2, Hrm("solve", "--checkpoint", P("p.csv"), "--puzzle", "1234", "--alphabet", P("d")).Code);
        Assert.Equal(0, Hrm("data", "pairs", "--train", P("p.csv"), "--test", P("p.csv"), "--out", P("d")).Code);
        (code, _, err) = Hrm("solve", "--checkpoint", P("p.csv"), "--text", "ab");
        Assert.Equal(1, code);
        Assert.Contains("alphabet.json", err, StringComparison.Ordinal);
    }
}
