using Hrm.Runtime.Solver;

namespace Hrm.Train.Training;

/// <summary>The outcome of <see cref="SolverEvaluator.Run"/> for one halting policy.</summary>
public sealed class SolverEvalResult
{
    internal SolverEvalResult(HaltingPolicy policy, HrmMetrics metrics, int[] segments, double seconds,
        int[]? predictions, float[]? qHalt, float[]? qContinue)
    {
        Policy = policy;
        Metrics = metrics;
        Segments = segments;
        Seconds = seconds;
        Predictions = predictions;
        QHalt = qHalt;
        QContinue = qContinue;
    }

    /// <summary>The policy evaluated.</summary>
    public HaltingPolicy Policy { get; }

    /// <summary>The reference's per-row metrics (accuracy, exact accuracy, q_halt accuracy, steps; no losses).</summary>
    public HrmMetrics Metrics { get; }

    /// <summary>Segments used per example (N).</summary>
    public int[] Segments { get; }

    /// <summary>Wall time of the whole split.</summary>
    public double Seconds { get; }

    /// <summary>Argmax tokens (N, L), when kept.</summary>
    public int[]? Predictions { get; }

    /// <summary>Final halt logits (N), when kept.</summary>
    public float[]? QHalt { get; }

    /// <summary>Final continue logits (N), when kept.</summary>
    public float[]? QContinue { get; }

    /// <summary>eval/accuracy: mean over valid examples of the fraction of labelled positions right.</summary>
    public double Accuracy => Metrics.Accuracy / Metrics.Count;

    /// <summary>eval/exact_accuracy: valid examples with every labelled position right.</summary>
    public double ExactAccuracy => (double)Metrics.ExactAccuracy / Metrics.Count;

    /// <summary>Segments per example, averaged over all examples.</summary>
    public double MeanSegments => Segments.Length == 0 ? 0 : Segments.Average();

    /// <summary>Examples per second.</summary>
    public double Throughput => Segments.Length / Seconds;
}
