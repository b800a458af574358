using Hrm.Runtime.Formats;

namespace Hrm.Train.Training;

// What a run directory must hold, or must not, before a trainer writes into it or resumes from it.
public sealed partial class Trainer
{
    private RunLock? _runLock; // held from Create or Resume to Dispose

    /// <summary>Runs <paramref name="open"/> holding <paramref name="runDir"/>'s <see cref="RunLock"/>, which the
    /// trainer keeps until disposed.</summary>
    private static Trainer WithLock(string runDir, bool create, Func<Trainer> open)
    {
        RunLock runLock = RunLock.Acquire(runDir, create);
        try
        {
            Trainer t = open();
            t._runLock = runLock;
            return t;
        }
        catch
        {
            runLock.Abandon();
            throw;
        }
    }

    /// <summary>
    /// A new run never writes into another run's directory: its config, metrics and checkpoints would be replaced
    /// one by one, with the old run's later checkpoints left beside them (and --resume then failing on those).
    /// </summary>
    private static void RefuseExistingRun(string runDir)
    {
        if (File.Exists(runDir)) throw new IOException($"{runDir}: is a file; a run directory is expected there");
        string metrics = Path.Combine(runDir, "metrics.jsonl");
        string? found = Path.Exists(Path.Combine(runDir, "config.json")) ? "config.json"
            : Path.Exists(Path.Combine(runDir, CheckpointsDir)) ? CheckpointsDir
            : File.Exists(metrics) && new FileInfo(metrics).Length > 0 ? "metrics.jsonl" : null;
        if (found == null) return;
        throw new IOException(LatestCheckpoint(runDir) != null
            ? $"{runDir} already holds a run ({found}); continue it with hrm train --resume {runDir}, or give " +
              "another --run-dir (or delete that one)"
            : $"{runDir} already holds a run ({found}) that has no checkpoint to resume from; give another " +
              "--run-dir, or delete that one");
    }

    /// <summary>Says which lines of the metrics log a resume dropped for not being whole records, if any.</summary>
    private void WarnDroppedMetrics(TextWriter warnings)
    {
        if (_log.DroppedLines is not { Count: > 0 } torn) return;
        string lines = string.Join(", ", torn.Take(5)) + (torn.Count > 5 ? ", ..." : "");
        warnings.WriteLine($"hrm: warning: {_log.Path}: dropped {torn.Count} line(s) that were not whole records " +
            $"(line {lines}; e.g. the last line of a run killed while writing it)");
    }

    /// <summary>The state's float tensors against what this run holds, each named with its size and the model's.
    /// </summary>
    private void CheckSizes(TrainingState st, string statePath)
    {
        long dense = _model.Layout.DenseElements;
        long carry = (long)Config.GlobalBatchSize * _model.Config.TotalSeqLen * _model.Config.HiddenSize;
        foreach ((string name, long found, long want, string what) in (ValueTuple<string, long, long, string>[])[
            ("adam.m", st.AdamM.Length, dense, "one per dense parameter"),
            ("adam.v", st.AdamV.Length, dense, "one per dense parameter"),
            ("carry.z_H", st.CarryZH.Length, carry, "global_batch_size x positions x hidden_size"),
            ("carry.z_L", st.CarryZL.Length, carry, "global_batch_size x positions x hidden_size")])
        {
            if (found != want)
            {
                throw new HrmFormatException(statePath, name,
                    $"has {found:N0} values; this run needs {want:N0} ({what})");
            }
        }
    }
}

/// <summary>
/// The lock a trainer holds on its run directory (<see cref="FileName"/>, opened exclusively: an advisory
/// <c>flock</c> on Linux, released by the system when the process ends, however it ends), so that a second
/// <c>hrm train</c> into the same directory, or a second <c>--resume</c> of it, fails at once instead of both
/// writing checkpoints and metrics into it. The file stays (empty); only a run refused before it wrote anything
/// removes it, with the directory where the run made that.
/// </summary>
internal sealed class RunLock : IDisposable
{
    /// <summary>The lock file's name in the run directory.</summary>
    public const string FileName = ".hrm-train.lock";

    // The HResult of a file another open holds: on Windows ERROR_SHARING_VIOLATION, elsewhere flock's EWOULDBLOCK
    // (11 on Linux, 35 on macOS) as .NET passes it on.
    private static readonly int Locked = OperatingSystem.IsWindows() ? unchecked((int)0x80070020)
        : OperatingSystem.IsMacOS() ? 35 : 11;

    private readonly FileStream? _file; // null: no directory to lock (a resume of a missing one fails on its own)
    private readonly string _path;
    private readonly List<string> _made; // the folders Acquire made, the run directory first

    private RunLock(FileStream? file, string path, List<string> made)
    {
        _file = file;
        _path = path;
        _made = made;
    }

    /// <summary>Locks <paramref name="runDir"/>; with <paramref name="create"/>, a missing one is made first (and
    /// the folders above it that are missing), else it is left unlocked.</summary>
    /// <exception cref="IOException">Another process holds the lock.</exception>
    public static RunLock Acquire(string runDir, bool create)
    {
        if (File.Exists(runDir)) throw new IOException($"{runDir}: is a file; a run directory is expected there");
        string path = Path.Combine(runDir, FileName);
        var made = new List<string>();
        for (string? d = Path.TrimEndingDirectorySeparator(Path.GetFullPath(runDir)); create && d != null && !Path.Exists(d); d = Path.GetDirectoryName(d))
            made.Add(d);
        if (!create && !Directory.Exists(runDir)) return new RunLock(null, path, made);
        Directory.CreateDirectory(runDir);
        try
        {
            return new RunLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None),
                path, made);
        }
        catch (IOException e) when (e.HResult == Locked)
        {
            throw new IOException($"{runDir}: another hrm train is running in it (it holds {path}); wait for it to " +
                "end, or give another --run-dir", e);
        }
    }

    /// <summary>Releases the lock and, where the run made its directory and wrote nothing there, removes both.
    /// </summary>
    public void Abandon()
    {
        _file?.Dispose();
        if (_made.Count == 0) return;
        try
        {
            if (Directory.EnumerateFileSystemEntries(_made[0]).Count() != 1) return;
            File.Delete(_path);
            foreach (string dir in _made)
            {
                if (Directory.EnumerateFileSystemEntries(dir).Any()) return;
                Directory.Delete(dir);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // left as it is: an empty folder with the lock file in it blocks nothing
        }
    }

    public void Dispose() => _file?.Dispose();
}
