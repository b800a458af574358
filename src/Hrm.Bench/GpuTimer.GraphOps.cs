using System.Diagnostics;
using System.Globalization;
using Hrm.Bench.E2E;
using Hrm.Runtime.Backends.Cuda;
using Hrm.Runtime.Config;

namespace Hrm.Bench;

public static partial class GpuTimer
{
    /// <summary>
    /// The batch-1 solve's segment graph op by op (a note table after the main one): the solve of <see cref="Solve"/>
    /// with an event node after every op inside the segment's CUDA graph (<see cref="GraphOpTimeline"/>), so each op's
    /// device time as the replayed graph spends it, the gap before its kernels inside the graph included (the graph's
    /// launch is not). Names are the CUDA backend's methods (a composite op's parts mark themselves). The solve's wall
    /// clock with the event nodes (median of 11, as <see cref="Solve"/>) is printed beside the sum, to set against the
    /// solve row without them.
    /// </summary>
    private static void SolveGraphOps(CudaBackendOptions options, HrmConfig cfg, string what)
    {
        var backend = CudaBackend.Create(options);
        using var m = new BenchModel(cfg, backend, 1, training: false);
        GraphOpTimeline timeline = backend.StartOpTimeline();
        int steps = cfg.HaltMaxSteps;
        float[] q = new float[2], logits = new float[cfg.SeqLen * cfg.VocabSize];
        int[] fresh = [1];
        void Run(bool timed)
        {
            m.Model.ResetRows(1, fresh);
            for (int s = 0; s < steps; s++)
            {
                if (timed) timeline.BeginReplay();
                m.Model.SegmentRows(1);
                if (timed && timeline.Marks > 0) timeline.EndReplay();
                m.Model.ReadQRows(1, q);
                m.Model.ReadLogitsRows(1, logits);
            }
        }
        backend.BeginWeightReuse(); // as the solver
        Run(timed: false); // the segment's graph is captured during the second segment of this run
        Run(timed: false);
        var wall = new double[11]; // the solve with the event nodes, as Solve times it
        string? failure = null;
        try
        {
            for (int i = 0; i < 10; i++) Run(timed: true);
            for (int i = 0; i < wall.Length; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                Run(timed: false);
                wall[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            }
        }
        catch (InvalidOperationException e) // the followed graph did not run once a segment: a bug to report
        {
            failure = e.Message;
        }
        backend.EndWeightReuse();
        if (failure is null && timeline.Replays == 0)
            failure = "no graph: " + (backend.GraphFallbacks.Count > 0 ? backend.GraphFallbacks[0] : "graphs off");
        if (failure is not null) Notes.Add($"solve graph op by op ({what}): not measured ({failure})");
        else NoteGraphOps(timeline, cfg, what, wall);
        backend.StopOpTimeline();
    }

    /// <summary>The note table of <see cref="SolveGraphOps"/>: per op its calls, time and share a segment.</summary>
    private static void NoteGraphOps(GraphOpTimeline timeline, HrmConfig cfg, string what, double[] wall)
    {
        var rows = timeline.Totals();
        int segments = timeline.Replays;
        double sum = 0;
        foreach (var r in rows) sum += r.Ms;
        Array.Sort(wall);
        var inv = CultureInfo.InvariantCulture;
        Notes.Add(string.Create(inv, $"solve graph op by op ({what}, batch 1, T={cfg.TotalSeqLen}): " +
            $"{timeline.Marks} event nodes a segment, {segments} segments; ops {1000 * sum / segments:F1} us a " +
            $"segment, the solve with the event nodes {wall[wall.Length / 2]:F2} ms wall clock (median)"));
        Notes.Add("| op (CUDA backend method) | calls/segment | us/segment | us/call | share |");
        Notes.Add("|---|---:|---:|---:|---:|");
        foreach (var (op, calls, ms) in rows)
        {
            Notes.Add(string.Create(inv, $"| {op} | {(double)calls / segments:F0} | {1000 * ms / segments:F1} | " +
                $"{1000 * ms / calls:F2} | {100 * ms / sum:F1}% |"));
        }
    }
}
