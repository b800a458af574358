using Hrm.Runtime.Config;
using Hrm.Runtime.Model;

namespace Hrm.Train.Cli;

/// <summary>The outcome of <see cref="ActRunner.Run"/>.</summary>
/// <param name="Predicted">Argmax token per position after the last segment.</param>
/// <param name="History">Argmax tokens after every segment, first segment first (the last equals Predicted).</param>
/// <param name="Segments">Segments run.</param>
/// <param name="StableSince">The segment since which the prediction has not changed.</param>
/// <param name="Confidence">sigmoid(q_halt) after the last segment.</param>
/// <param name="Milliseconds">Wall time.</param>
internal sealed record ActRun(int[] Predicted, int[][] History, int Segments, int StableSince, double Confidence,
    double Milliseconds);

/// <summary>
/// Evaluation-mode ACT one segment at a time: the one loop behind <c>hrm solve</c>, <c>hrm render</c> and
/// <c>hrm analyze</c>, which look at the model between segments.
/// </summary>
internal static class ActRunner
{
    /// <summary>
    /// Runs exactly <paramref name="maxSteps"/> segments from a fresh carry on a batch of the model's reserved size,
    /// calling <paramref name="afterSegment"/> (segment number from 1, state) after each one; the logits and the
    /// carry of that segment are in the model's workspace during the call.
    /// </summary>
    public static ActState RunSegments(HrmModel model, ReadOnlySpan<int> tokens, ReadOnlySpan<int> puzzleIds, int maxSteps,
        Action<int, ActState>? afterSegment)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSteps, 1);
        var state = new ActState(model.Batch, model.Config.SeqLen);
        model.Backend.BeginWeightReuse(); // the weights stay as they are for all the segments
        try
        {
            for (int step = 1; step <= maxSteps; step++)
            {
                model.ActStep(state, tokens, puzzleIds, default, training: false, maxSteps: maxSteps);
                afterSegment?.Invoke(step, state);
            }
        }
        finally
        {
            model.Backend.EndWeightReuse();
        }
        return state;
    }

    /// <summary>Runs exactly <paramref name="maxSteps"/> segments on one sequence and keeps the prediction after each.</summary>
    public static ActRun Run(HrmModel model, int[] tokens, int maxSteps, int puzzleId = 0)
    {
        HrmConfig a = model.Config;
        if (tokens.Length != a.SeqLen)
            throw new ArgumentException($"the checkpoint takes {a.SeqLen} tokens; got {tokens.Length}", nameof(tokens));
        model.Reserve(1, training: false);
        var logits = new float[a.SeqLen * a.VocabSize];
        var history = new int[maxSteps][];
        int stableSince = 1;
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        ActState state = RunSegments(model, tokens, [puzzleId], maxSteps, (step, _) =>
        {
            model.ReadLogits(logits);
            var predicted = new int[a.SeqLen];
            for (int i = 0; i < a.SeqLen; i++) predicted[i] = PredictCommand.ArgMax(logits.AsSpan(i * a.VocabSize, a.VocabSize));
            if (step > 1 && !predicted.AsSpan().SequenceEqual(history[step - 2])) stableSince = step;
            history[step - 1] = predicted;
        });
        double ms = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        double confidence = 1 / (1 + Math.Exp(-state.QHalt[0]));
        return new ActRun(history[^1], history, maxSteps, stableSince, confidence, ms);
    }
}
