using Hrm.Runtime.Config;
using Hrm.Runtime.Model;

namespace Hrm.Train.Cli;

/// <summary>The outcome of <see cref="ActRunner.Run"/>.</summary>
/// <param name="Predicted">Argmax token per position after the last segment.</param>
/// <param name="Segments">Segments run.</param>
/// <param name="StableSince">The segment since which the prediction has not changed.</param>
/// <param name="Confidence">sigmoid(q_halt) after the last segment.</param>
/// <param name="Milliseconds">Wall time.</param>
internal sealed record ActRun(int[] Predicted, int Segments, int StableSince, double Confidence, double Milliseconds);

/// <summary>Evaluation-mode ACT on one sequence, one segment at a time (what <c>hrm solve</c> runs).</summary>
internal static class ActRunner
{
    /// <summary>Runs exactly <paramref name="maxSteps"/> segments on <paramref name="tokens"/> (puzzle id 0).</summary>
    public static ActRun Run(HrmModel model, int[] tokens, int maxSteps)
    {
        HrmConfig a = model.Config;
        if (tokens.Length != a.SeqLen)
            throw new ArgumentException($"the checkpoint takes {a.SeqLen} tokens; got {tokens.Length}", nameof(tokens));
        model.Reserve(1, training: false);
        var state = new ActState(1, a.SeqLen);
        var logits = new float[a.SeqLen * a.VocabSize];
        var predicted = new int[a.SeqLen];
        var previous = new int[a.SeqLen];
        int stableSince = 1;
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        for (int step = 1; step <= maxSteps; step++)
        {
            model.ActStep(state, tokens, [0], default, training: false, maxSteps: maxSteps);
            model.ReadLogits(logits);
            for (int i = 0; i < a.SeqLen; i++) predicted[i] = PredictCommand.ArgMax(logits.AsSpan(i * a.VocabSize, a.VocabSize));
            if (!predicted.AsSpan().SequenceEqual(previous)) stableSince = step;
            predicted.CopyTo(previous, 0);
        }
        double ms = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        double confidence = 1 / (1 + Math.Exp(-state.QHalt[0]));
        return new ActRun(predicted, maxSteps, stableSince, confidence, ms);
    }
}
