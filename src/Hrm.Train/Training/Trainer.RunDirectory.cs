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
        // (A file where the directory should be is refused by RunLock.Acquire, which runs first.)
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
