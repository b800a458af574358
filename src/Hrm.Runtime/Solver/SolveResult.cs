namespace Hrm.Runtime.Solver;

/// <summary>What every puzzle answer carries: validity, effort, the model's confidence and the time taken.</summary>
public abstract class SolveResult
{
    private protected SolveResult(TokenPrediction prediction, string? problem)
    {
        Prediction = prediction;
        Problem = problem;
    }

    /// <summary>True when the answer is a correct solution of the puzzle (see the derived class).</summary>
    public bool IsValid => Problem is null;

    /// <summary>Why the answer is not valid (what and where), or null when it is.</summary>
    public string? Problem { get; }

    /// <summary>Segments the model ran on this puzzle.</summary>
    public int Segments => Prediction.Segments;

    /// <summary>The segment (1-based) since which the answer has not changed.</summary>
    public int StableSince => Prediction.StableSince;

    /// <summary>sigmoid of the Q head's halt logit after the last segment: the model's own confidence.</summary>
    public double HaltConfidence => Prediction.HaltConfidence;

    /// <summary>Time from the puzzle entering the batch to its answer (time spent queued excluded).</summary>
    public TimeSpan Elapsed => Prediction.Elapsed;

    /// <summary>The raw model output behind this result.</summary>
    public TokenPrediction Prediction { get; }
}
