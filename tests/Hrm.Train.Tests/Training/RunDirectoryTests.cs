using System.Text.Json;
using Hrm.Runtime.Formats;
using Hrm.Train.Training;

namespace Hrm.Train.Tests.Training;

/// <summary>What a run directory survives: a new run pointed at an old one, a torn metrics line, a corrupt state.
/// </summary>
public sealed class RunDirectoryTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("hrm-rundir-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string P(string name) => Path.Combine(_dir.FullName, name);

    /// <summary>A new run into a directory that holds one would replace its config, metrics and checkpoints one by one
    /// (leaving the old run's later checkpoints beside the new ones): refused before anything is written.</summary>
    [Fact]
    public void A_new_run_refuses_a_directory_that_holds_a_run()
    {
        RunConfig cfg = TrainingFixtures.Tiny(TrainingFixtures.Build4x4(P("data")));
        // A run its trainer refuses (a batch that makes no step) leaves no config behind to block the corrected one.
        Assert.Throws<Runtime.Config.HrmConfigException>(() => Trainer.Create(cfg with { GlobalBatchSize = 4096 },
            P("a"), null, "cpu", TextWriter.Null, interactive: false));
        Assert.False(File.Exists(P("a/config.json")));
        using (Trainer.Create(cfg, P("a"), null, "cpu", TextWriter.Null, interactive: false))
        {
        }
        byte[] config = File.ReadAllBytes(P("a/config.json"));
        var e = Assert.Throws<IOException>(() =>
            Trainer.Create(cfg with { Seed = 8 }, P("a"), null, "cpu", TextWriter.Null, interactive: false));
        Assert.Contains("already holds a run (config.json) that has no checkpoint to resume from", e.Message,
            StringComparison.Ordinal);
        Assert.Equal(config, File.ReadAllBytes(P("a/config.json")));
        (string run, _) = StoppedRun();
        e = Assert.Throws<IOException>(() =>
            Trainer.Create(cfg, run, null, "cpu", TextWriter.Null, interactive: false));
        Assert.Contains($"already holds a run (config.json); continue it with hrm train --resume {run}", e.Message,
            StringComparison.Ordinal);
        // Only metrics or checkpoints left count too; an empty directory or a new one is fine.
        Directory.CreateDirectory(P("b/checkpoints"));
        Assert.Contains("(checkpoints)", Assert.Throws<IOException>(() =>
            Trainer.Create(cfg, P("b"), null, "cpu", TextWriter.Null, interactive: false)).Message,
            StringComparison.Ordinal);
        Directory.CreateDirectory(P("c"));
        using (Trainer.Create(cfg, P("c"), null, "cpu", TextWriter.Null, interactive: false))
        {
        }
        File.WriteAllText(P("d"), "");
        Assert.Contains("is a file", Assert.Throws<IOException>(() =>
            Trainer.Create(cfg, P("d"), null, "cpu", TextWriter.Null, interactive: false)).Message,
            StringComparison.Ordinal);
    }

    /// <summary>Two trainers in one run directory would both write its checkpoints and metrics: the second, new or
    /// resumed, is refused while the first holds the directory's lock; a refused run removes the folders it made.
    /// </summary>
    [Fact]
    public void A_second_trainer_in_a_run_directory_is_refused_while_the_first_runs()
    {
        RunConfig cfg = TrainingFixtures.Tiny(TrainingFixtures.Build4x4(P("data")));
        Trainer Create(string dir) => Trainer.Create(cfg, dir, null, "cpu", TextWriter.Null, interactive: false);
        using (Create(P("a")))
        {
            Assert.Contains($"{P("a")}: another hrm train is running in it",
                Assert.Throws<IOException>(() => Create(P("a"))).Message, StringComparison.Ordinal);
        }
        Assert.Contains("already holds a run", Assert.Throws<IOException>(() => Create(P("a"))).Message,
            StringComparison.Ordinal);
        (string run, _) = StoppedRun();
        Trainer Resume() => Trainer.Resume(run, "cpu", TextWriter.Null, interactive: false);
        using (Resume())
        {
            Assert.Contains("another hrm train is running in it", Assert.Throws<IOException>(Resume).Message,
                StringComparison.Ordinal);
            Assert.Contains("another hrm train is running in it", Assert.Throws<IOException>(() =>
                Trainer.Create(cfg, run, null, "cpu", TextWriter.Null, interactive: false)).Message,
                StringComparison.Ordinal);
        }
        using (Resume())
        {
        }
        Assert.True(File.Exists(Path.Combine(run, ".hrm-train.lock")));
        Assert.Throws<Runtime.Config.HrmConfigException>(() => Trainer.Create(cfg with { GlobalBatchSize = 4096 },
            P("x/y/z/"), null, "cpu", TextWriter.Null, interactive: false));
        Assert.False(Directory.Exists(P("x")));
        Assert.Contains("not a run directory", Assert.Throws<Runtime.Formats.HrmFormatException>(() =>
            Trainer.Resume(P("none"), "cpu", TextWriter.Null, interactive: false)).Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(P("none")));
        // A refused run in a folder that was there keeps the folder and leaves no lock file; a resume of a folder
        // that holds no run likewise.
        Directory.CreateDirectory(P("kept"));
        Assert.Throws<Runtime.Config.HrmConfigException>(() => Trainer.Create(cfg with { GlobalBatchSize = 4096 },
            P("kept"), null, "cpu", TextWriter.Null, interactive: false));
        Assert.Throws<Runtime.Formats.HrmFormatException>(() =>
            Trainer.Resume(P("kept"), "cpu", TextWriter.Null, interactive: false));
        Assert.True(Directory.Exists(P("kept")));
        Assert.Empty(Directory.GetFileSystemEntries(P("kept")));
    }

    /// <summary>A run killed while writing a metrics line leaves it torn; resuming drops it (and any line that is not
    /// a record), says so, and the log stays readable line by line.</summary>
    [Fact]
    public void Resume_drops_a_torn_metrics_line_and_says_so()
    {
        (string run, long step) = StoppedRun();
        string metrics = Path.Combine(run, "metrics.jsonl");
        string[] kept = File.ReadAllLines(metrics);
        File.AppendAllText(metrics, "not json\n" + kept[0][..(kept[0].Length / 2)]);
        var warnings = new StringWriter();
        using (Trainer t = Trainer.Resume(run, "cpu", TextWriter.Null, interactive: false, warnings: warnings))
        {
            Assert.Equal(step, t.Step);
            t.Run(TestContext.Current.CancellationToken);
        }
        Assert.Contains($"metrics.jsonl: dropped 2 line(s) that were not whole records (line {kept.Length + 1}, " +
            $"{kept.Length + 2};", warnings.ToString(), StringComparison.Ordinal);
        string[] after = File.ReadAllLines(metrics);
        Assert.Equal(kept, after[..kept.Length]);
        Assert.True(after.Length > kept.Length, "the resumed run logged on");
        foreach (string line in after) Assert.True(StepOf(line) >= 0, line); // every line a whole record again
    }

    /// <summary>A train_state tensor of the wrong size is reported under its own name (it used to say "carry").
    /// </summary>
    [Fact]
    public void A_wrong_optimiser_moment_in_the_state_is_named()
    {
        (string run, long step) = StoppedRun();
        string state = Path.Combine(run, "checkpoints", $"step_{step}", "train_state.safetensors");
        var w = new SafeTensorsWriter();
        using (SafeTensorsFile f = SafeTensorsFile.Open(state))
        {
            foreach (SafeTensorInfo t in f.Tensors)
            {
                byte[] raw = f.ReadRaw(t.Name);
                if (t.Name == "adam.m") w.AddRaw(t.Name, t.DType, [t.Shape[0] - 1], raw.AsSpan(0, raw.Length - 4));
                else w.AddRaw(t.Name, t.DType, t.Shape, raw);
            }
            foreach ((string k, string v) in f.Metadata) w.SetMetadata(k, v);
        }
        w.Save(state);
        var e = Assert.Throws<HrmFormatException>(() =>
            Trainer.Resume(run, "cpu", TextWriter.Null, interactive: false));
        Assert.Contains("train_state.safetensors: adam.m: has ", e.Message, StringComparison.Ordinal);
        Assert.Contains(" values; this run needs ", e.Message, StringComparison.Ordinal);
    }

    /// <summary>A tiny run, and a copy of its directory with only the first checkpoint (as if it had stopped there).
    /// </summary>
    private (string Run, long Step) StoppedRun()
    {
        RunConfig cfg = TrainingFixtures.Tiny(TrainingFixtures.Build4x4(P("s-data")));
        using (Trainer a = Trainer.Create(cfg, P("s-full"), null, "cpu", TextWriter.Null, interactive: false))
            a.Run(TestContext.Current.CancellationToken);
        string first = Directory.GetDirectories(P("s-full/checkpoints")).MinBy(d => long.Parse(Path.GetFileName(d)[5..],
            System.Globalization.CultureInfo.InvariantCulture))!;
        long step = long.Parse(Path.GetFileName(first)[5..], System.Globalization.CultureInfo.InvariantCulture);
        string b = P("s-stopped");
        Directory.CreateDirectory(Path.Combine(b, "checkpoints", Path.GetFileName(first)));
        File.Copy(P("s-full/config.json"), Path.Combine(b, "config.json"));
        foreach (string f in Directory.GetFiles(first))
            File.Copy(f, Path.Combine(b, "checkpoints", Path.GetFileName(first), Path.GetFileName(f)));
        // The copy's log: the lines up to the checkpoint, as a run stopped there has.
        File.WriteAllLines(Path.Combine(b, "metrics.jsonl"), File.ReadAllLines(P("s-full/metrics.jsonl"))
            .Where(l => StepOf(l) <= step));
        return (b, step);
    }

    private static long StepOf(string line)
    {
        using var doc = JsonDocument.Parse(line);
        return doc.RootElement.GetProperty("step").GetInt64();
    }
}
