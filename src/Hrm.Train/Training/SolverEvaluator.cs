using System.Diagnostics;
using Hrm.Runtime.Loss;
using Hrm.Runtime.Solver;
using Hrm.Train.Data;

namespace Hrm.Train.Training;

/// <summary>
/// Evaluation through the solver's scheduler (<see cref="HrmSolver"/>): every example of a split, each from the
/// initial carry, halting by a <see cref="HaltingPolicy"/>, with continuous batching and compaction, so adaptive
/// halting saves real time. Metrics follow the reference's definitions over the labelled positions.
/// </summary>
public static class SolverEvaluator
{
    /// <summary>Runs the split in order, keeping two chunks of 2·slots examples queued so no slot idles.</summary>
    public static SolverEvalResult Run(HrmSolver solver, PuzzleDataset test, HaltingPolicy policy, bool keepOutputs)
    {
        int n = test.ExampleCount, l = test.SeqLen, chunk = 2 * solver.BatchSlots;
        var metrics = new HrmMetrics();
        var segments = new int[n];
        int[]? predictions = keepOutputs ? new int[(long)n * l] : null;
        float[]? qHalt = keepOutputs ? new float[n] : null, qContinue = keepOutputs ? new float[n] : null;
        var stats = new ChunkStats(chunk);
        var labels = new[] { new int[chunk * l], new int[chunk * l] };
        var tokens = new int[chunk * l];
        var ids = new int[chunk];
        long start = Stopwatch.GetTimestamp();
        (Task<TokenPrediction[]> Task, int First, int[] Labels)? pending = null;
        for (int first = 0, k = 0; first < n; first += chunk, k++)
        {
            int rows = Math.Min(chunk, n - first);
            int[] chunkLabels = labels[k % 2];
            for (int r = 0; r < rows; r++)
            {
                test.ReadExample(first + r, tokens.AsSpan(r * l, l), chunkLabels.AsSpan(r * l, l));
                ids[r] = Evaluator.PuzzleOf(test, first + r);
            }
            Task<TokenPrediction[]> task = solver.PredictAsync(tokens.AsSpan(0, rows * l), ids.AsSpan(0, rows), policy,
                CancellationToken.None);
            if (pending is { } p) Collect(p.Task.GetAwaiter().GetResult(), p.First, p.Labels);
            pending = (task, first, chunkLabels);
        }
        if (pending is { } last) Collect(last.Task.GetAwaiter().GetResult(), last.First, last.Labels);
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return new SolverEvalResult(policy, metrics, segments, seconds, predictions, qHalt, qContinue);

        void Collect(TokenPrediction[] results, int first, int[] chunkLabels)
        {
            for (int r = 0; r < results.Length; r++)
            {
                TokenPrediction p = results[r];
                stats.Set(r, p, chunkLabels.AsSpan(r * l, l));
                segments[first + r] = p.Segments;
                if (predictions == null) continue;
                p.Tokens.CopyTo(predictions, (long)(first + r) * l);
                qHalt![first + r] = p.QHaltLogit;
                qContinue![first + r] = p.QContinueLogit;
            }
            stats.AddTo(metrics, results.Length);
        }
    }

    /// <summary>
    /// One segment on the first batch of the split (every slot busy), so that timed runs after it do not pay for
    /// JIT compilation and first-use setup.
    /// </summary>
    public static void Warmup(HrmSolver solver, PuzzleDataset test)
    {
        int rows = Math.Min(solver.BatchSlots, test.ExampleCount), l = test.SeqLen;
        var tokens = new int[rows * l];
        var labels = new int[l];
        var ids = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            test.ReadExample(r, tokens.AsSpan(r * l, l), labels);
            ids[r] = Evaluator.PuzzleOf(test, r);
        }
        solver.PredictAsync(tokens, ids, new HaltingPolicy(HaltingMode.Fixed, 1), CancellationToken.None).GetAwaiter().GetResult();
    }

    /// <summary>Per-row statistics of one chunk in the shape <see cref="HrmMetrics.Add(ReadOnlySpan{bool}, ReadOnlySpan{int}, ReadOnlySpan{float}, ReadOnlySpan{int}, ReadOnlySpan{int}, LossParts)"/> takes.</summary>
    private sealed class ChunkStats(int rows)
    {
        private readonly bool[] _halted = Enumerable.Repeat(true, rows).ToArray();
        private readonly int[] _steps = new int[rows], _valid = new int[rows], _correct = new int[rows];
        private readonly float[] _qHalt = new float[rows];

        public void Set(int r, TokenPrediction p, ReadOnlySpan<int> labels)
        {
            int valid = 0, correct = 0;
            for (int i = 0; i < labels.Length; i++)
            {
                if (labels[i] == HrmLoss.IgnoreLabel) continue;
                valid++;
                if (p.Tokens[i] == labels[i]) correct++;
            }
            (_steps[r], _valid[r], _correct[r], _qHalt[r]) = (p.Segments, valid, correct, p.QHaltLogit);
        }

        public void AddTo(HrmMetrics metrics, int rows) =>
            metrics.Add(_halted.AsSpan(0, rows), _steps.AsSpan(0, rows), _qHalt.AsSpan(0, rows), _valid.AsSpan(0, rows),
                _correct.AsSpan(0, rows), default);
    }
}
