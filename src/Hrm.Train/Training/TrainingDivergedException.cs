namespace Hrm.Train.Training;

/// <summary>The loss became NaN or Inf; the message names the step and where the last good weights are.</summary>
public sealed class TrainingDivergedException : Exception
{
    public TrainingDivergedException()
    {
    }

    public TrainingDivergedException(string message) : base(message)
    {
    }

    public TrainingDivergedException(string message, Exception inner) : base(message, inner)
    {
    }
}
