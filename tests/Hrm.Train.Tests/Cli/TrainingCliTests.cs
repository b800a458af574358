using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Hrm.Train.Cli;
using Hrm.Train.Training;

namespace Hrm.Train.Tests.Cli;

public sealed class TrainingCliTests : CliHarness
{
    [Fact]
    public void Data_train_resume_eval_and_solve_work_from_the_command_line()
    {
        (int code, string output, string err) = Hrm("data", "sudoku", "--generate", "64", "--test", "16", "--size", "4",
            "--min-givens", "8", "--max-givens", "10", "--num-aug", "1", "--seed", "2", "--out", P("data"));
        Assert.True(code == 0, err);
        Assert.Contains("puzzles in", output);
        (code, _, err) = Hrm("train", "--preset", "sudoku-tiny", "--data", P("data"), "--run-dir", P("run"),
            "--set", "epochs=4", "--set", "eval_interval=2", "--threads", "2");
        Assert.True(code == 0, err);
        string ckpt = Directory.GetDirectories(P("run/checkpoints")).Order().Last();
        (code, output, err) = Hrm("train", "--resume", P("run"));
        Assert.True(code == 0, err);
        Assert.Contains("resumed", output);
        (code, output, err) = Hrm("eval", "--checkpoint", Path.Combine(ckpt, "model.safetensors"), "--data", P("data"),
            "--max-steps", "3", "--out", P("eval"));
        Assert.True(code == 0, err);
        Assert.Contains("eval/exact_accuracy", output);
        Assert.True(File.Exists(P("eval/predictions.npy")));
        (code, output, err) = Hrm("solve", "--checkpoint", Path.Combine(ckpt, "model.safetensors"), "--puzzle", "1.3..4....1.4.2.");
        Assert.True(code is 0 or 3, err);
        Assert.Contains("segments:", output);
        Assert.Contains("valid", output, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Ctrl+C in a real `hrm train` process (SIGINT, sent with kill(1)): the run stops after the step in progress with
    /// a checkpoint of that step (inside a pass), says how to continue, exits with 128 + 2, and `--resume` starts there.
    /// </summary>
    [Fact]
    public void Sigint_stops_training_after_the_step_in_progress_with_a_checkpoint_to_resume_from()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "the test sends SIGINT with kill(1)");
        Assert.Equal(0, Hrm("data", "sudoku", "--generate", "16", "--test", "4", "--size", "4", "--seed", "1", "--out",
            P("data")).Code);
        string exe = Path.Combine(AppContext.BaseDirectory, "hrm");
        var psi = File.Exists(exe) ? new ProcessStartInfo(exe) : new ProcessStartInfo("dotnet") { ArgumentList = { Path.Combine(AppContext.BaseDirectory, "hrm.dll") } };
        foreach (string a in (string[])["train", "--preset", "sudoku-tiny", "--data", P("data"), "--run-dir", P("run"),
            "--set", "epochs=100000", "--set", "eval_interval=100000", "--set", "log_interval=1", "--device", "cpu",
            "--threads", "1"])
        {
            psi.ArgumentList.Add(a);
        }
        psi.RedirectStandardOutput = psi.RedirectStandardError = true;
        using Process p = Process.Start(psi)!;
        var log = new StringBuilder();
        var gate = new Lock();
        p.OutputDataReceived += (_, e) => { lock (gate) log.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { lock (gate) log.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        string Log() { lock (gate) return log.ToString(); }
        try
        {
            var wait = Stopwatch.StartNew();
            string metrics = P("run/metrics.jsonl");
            while (!(File.Exists(metrics) && File.ReadAllLines(metrics).Length >= 3))
            {
                Assert.False(p.HasExited, "hrm train ended before it was interrupted:\n" + Log());
                Assert.True(wait.Elapsed < TimeSpan.FromSeconds(120), "no training steps within 120 s:\n" + Log());
                Thread.Sleep(50);
            }
            using (Process kill = Process.Start("kill", ["-INT", p.Id.ToString(CultureInfo.InvariantCulture)])) kill.WaitForExit();
            Assert.True(p.WaitForExit(120_000), "still running 120 s after SIGINT:\n" + Log());
        }
        finally
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
        }
        p.WaitForExit(); // the output's last lines
        string said = Log();
        Assert.True(p.ExitCode == 130, $"exit {p.ExitCode}:\n{said}");
        Assert.Contains("stopping after the step in progress", said, StringComparison.Ordinal);
        Match m = Regex.Match(said, @"interrupted at step (\d+) of [\d,]+; checkpoint (\S+);");
        Assert.True(m.Success, said);
        long step = long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.Equal(P($"run/checkpoints/step_{step}"), m.Groups[2].Value);
        Assert.Contains("hrm train --resume " + P("run"), said, StringComparison.Ordinal);
        using Trainer resumed = Trainer.Resume(P("run"), "cpu", TextWriter.Null, interactive: false);
        Assert.Equal(step, resumed.Step);
        Assert.True(step < resumed.TotalSteps);
    }

    [Fact]
    public void Resume_continues_with_the_runs_gemm_choice_and_says_when_the_arithmetic_changes()
    {
        Assert.Equal(0, Hrm("data", "sudoku", "--generate", "8", "--test", "4", "--size", "4", "--out", P("data")).Code);
        (int code, string output, string err) = Hrm("train", "--preset", "sudoku-tiny", "--data", P("data"), "--run-dir",
            P("run"), "--set", "epochs=2", "--set", "eval_interval=2", "--set", "global_batch_size=4", "--device", "cpu",
            "--threads", "2", "--fp32-matmul");
        Assert.True(code == 0, err);
        string compute = P("run/compute.json");
        string recorded = "{\"device\":\"cpu\",\"bf16_matmul\":false,\"threads\":2,\"micro_batch\":0," +
            "\"bf16_stream\":false}";
        Assert.Equal(recorded, File.ReadAllText(compute));

        (code, output, err) = Hrm("train", "--resume", P("run"), "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.Contains("resumed", output);
        Assert.DoesNotContain("note:", output);                           // same device, GEMMs and threads

        (code, output, err) = Hrm("train", "--resume", P("run"), "--device", "reference");
        Assert.True(code == 0, err);
        Assert.Contains("note: the latest checkpoint was computed on cpu with 2 threads (fp32) and the run continues on " +
            "the reference backend (fp64)", output, StringComparison.Ordinal);
        Assert.Equal(recorded, File.ReadAllText(compute)); // the run was complete: no new checkpoint, nothing to record

        (code, _, err) = Hrm("train", "--resume", P("run"), "--data", P("data"));
        Assert.Equal(2, code);
        Assert.Contains("--resume continues a run with its saved config", err, StringComparison.Ordinal);

        // The run's fp32 GEMMs take no bf16 stream (--no-bf16-stream: as they are), and not both stream flags.
        (code, _, err) = Hrm("train", "--resume", P("run"), "--device", "cpu", "--bf16-stream");
        Assert.Equal(1, code);
        Assert.Contains("--bf16-stream needs bf16 GEMMs", err, StringComparison.Ordinal);
        (code, _, err) = Hrm("train", "--resume", P("run"), "--device", "cpu", "--no-bf16-stream");
        Assert.True(code == 0, err);
        (code, _, err) = Hrm("train", "--resume", P("run"), "--bf16-stream", "--no-bf16-stream");
        Assert.Equal(2, code);
        Assert.Contains("at most one of --bf16-stream and --no-bf16-stream", err, StringComparison.Ordinal);

        string config = P("run/config.json"), saved = File.ReadAllText(config);  // a key hrm does not use: a warning,
        File.WriteAllText(config, saved.TrimEnd().TrimEnd('}') + ",\"project_name\":\"p\"}"); // on standard error
        (code, output, err) = Hrm("train", "--resume", P("run"), "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.Contains("hrm: warning: ", err, StringComparison.Ordinal);
        Assert.Contains("project_name", err, StringComparison.Ordinal);
        Assert.DoesNotContain("warning", output, StringComparison.Ordinal);
        File.WriteAllText(config, saved);

        File.WriteAllText(compute, "{\"device\":\"tpu\",\"bf16_matmul\":false,\"threads\":2}");
        (code, _, err) = Hrm("train", "--resume", P("run"), "--device", "cpu");
        Assert.Equal(1, code);
        Assert.Contains("compute.json: device: expected", err, StringComparison.Ordinal);
        File.WriteAllText(compute, "{\"device\":\"cpu\",\"bf16_matmul\":false,\"threads\":2,\"micro_batch\":-1}");
        (code, _, err) = Hrm("train", "--resume", P("run"), "--device", "cpu");
        Assert.Equal(1, code);
        Assert.Contains("compute.json: micro_batch: expected a whole number >= 0", err, StringComparison.Ordinal);
        File.WriteAllText(compute, "{\"device\":\"cpu\",\"bf16_matmul\":true,\"threads\":2,\"bf16_stream\":\"yes\"}");
        (code, _, err) = Hrm("train", "--resume", P("run"), "--device", "cpu");
        Assert.Equal(1, code);
        Assert.Contains("compute.json: bf16_stream: expected true or false", err, StringComparison.Ordinal);
        File.WriteAllText(compute, "{\"device\":");
        (code, _, err) = Hrm("train", "--resume", P("run"), "--device", "cpu");
        Assert.Equal(1, code);
        Assert.Contains("compute.json", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_takes_a_micro_batch_and_refuses_one_that_does_not_divide_the_batch()
    {
        Assert.Equal(0, Hrm("data", "sudoku", "--generate", "8", "--test", "4", "--size", "4", "--out", P("data")).Code);
        string[] common = ["train", "--preset", "sudoku-tiny", "--data", P("data"), "--set", "epochs=2",
            "--set", "eval_interval=2", "--set", "global_batch_size=4", "--device", "cpu", "--threads", "1"];
        (int code, string output, string err) = Hrm([.. common, "--run-dir", P("run"), "--micro-batch", "2"]);
        Assert.True(code == 0, err);
        Assert.Contains("at global batch 4 in 2 micro-batches of 2 rows", output, StringComparison.Ordinal);
        Assert.Contains("\"micro_batch_size\": 2", File.ReadAllText(P("run/config.json")), StringComparison.Ordinal);
        (code, output, err) = Hrm([.. common, "--run-dir", P("bad"), "--micro-batch", "3"]);
        Assert.Equal(1, code);
        Assert.Contains("micro_batch_size", err, StringComparison.Ordinal);
        Assert.Contains("divisor of global_batch_size (4), got 3", err, StringComparison.Ordinal);
        (code, _, err) = Hrm("train", "--resume", P("run"), "--device", "cpu", "--micro-batch", "3");
        Assert.Equal(1, code);
        Assert.Contains("divisor of global_batch_size (4), got 3", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_puzzles_and_datasets_are_reported_clearly()
    {
        Assert.Equal(0, Hrm("data", "sudoku", "--generate", "8", "--test", "4", "--size", "4", "--out", P("data")).Code);
        Assert.Equal(0, Hrm("train", "--preset", "sudoku-tiny", "--data", P("data"), "--run-dir", P("run"),
            "--set", "epochs=2", "--set", "eval_interval=2", "--set", "global_batch_size=4").Code);
        string model = Path.Combine(Directory.GetDirectories(P("run/checkpoints")).Single(), "model.safetensors");
        (int code, _, string err) = Hrm("solve", "--checkpoint", model, "--puzzle", "1.3..4x...1.4.2.");
        Assert.Equal(1, code);
        Assert.Contains("'x'", err);
        Assert.Contains("row", err);
        (code, _, err) = Hrm("solve", "--checkpoint", model, "--puzzle", "11..............");
        Assert.Equal(1, code);
        Assert.Contains("row 1", err, StringComparison.OrdinalIgnoreCase);
        File.WriteAllText(P("data/train/dataset.json"), "{ \"pad_id\": 0 }");
        (code, _, err) = Hrm("train", "--preset", "sudoku-tiny", "--data", P("data"), "--run-dir", P("run2"));
        Assert.Equal(1, code);
        Assert.Contains("dataset.json", err);
        Assert.Equal(2, Hrm("train", "--preset", "sudoku-tiny", "--set").Code);
        Assert.Equal(1, Hrm("train", "--resume", P("nowhere")).Code);
        File.WriteAllText(P("bad.csv"), "source,question,answer,rating\nx,123,456,1\n");
        Directory.CreateDirectory(P("csv"));
        File.Move(P("bad.csv"), P("csv/train.csv"));
        (code, _, err) = Hrm("data", "sudoku", "--from-csv", P("csv"), "--out", P("csvdata"));
        Assert.Equal(1, code);
        Assert.Contains("line 2", err);
    }
}
