namespace Hrm.Runtime.Solver;

/// <summary>
/// Rows submitted together (one Solve or Predict call): their inputs, the results as rows finish (in any order),
/// and the task the caller awaits, completed when the last row finishes, or cancelled, or failed. Rows are
/// admitted to batch slots in order by the engine thread (<see cref="NextRow"/>).
/// </summary>
internal sealed class SolveJob
{
    private readonly TaskCompletionSource<TokenPrediction[]> _done =
        new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TokenPrediction[] _results;
    private int _remaining;
    private CancellationTokenRegistration _cancellation;

    /// <summary>A job over copies of the inputs: tokens (rows, L), puzzle identifiers (rows).</summary>
    public SolveJob(int[] tokens, int[] puzzleIds, HaltingPolicy policy)
    {
        Policy = policy;
        Tokens = tokens;
        PuzzleIds = puzzleIds;
        _results = new TokenPrediction[puzzleIds.Length];
        _remaining = puzzleIds.Length;
    }

    /// <summary>When this job's rows halt.</summary>
    public HaltingPolicy Policy { get; }

    /// <summary>Rows.</summary>
    public int Rows => PuzzleIds.Length;

    /// <summary>(rows, L) input tokens.</summary>
    public int[] Tokens { get; }

    /// <summary>(rows) puzzle identifiers.</summary>
    public int[] PuzzleIds { get; }

    /// <summary>The next row to admit to a slot (engine thread only).</summary>
    public int NextRow { get; set; }

    /// <summary>Completed, cancelled or failed.</summary>
    public bool IsFinished => _done.Task.IsCompleted;

    /// <summary>What the caller awaits: one prediction per row, in row order.</summary>
    public Task<TokenPrediction[]> Task => _done.Task;

    /// <summary>Cancels the job when <paramref name="token"/> fires (at once if it already has).</summary>
    public void CancelOn(CancellationToken token)
    {
        if (!token.CanBeCanceled) return;
        _cancellation = token.Register(static (state, t) => ((SolveJob)state!).Cancel(t), this);
    }

    /// <summary>Records row <paramref name="row"/>'s prediction; the last one completes the task.</summary>
    public void Complete(int row, TokenPrediction prediction)
    {
        _results[row] = prediction;
        if (--_remaining > 0) return;
        _cancellation.Dispose();
        _done.TrySetResult(_results);
    }

    /// <summary>Fails the job (no effect once it finished).</summary>
    public void Fail(Exception error)
    {
        _cancellation.Dispose();
        _done.TrySetException(error);
    }

    private void Cancel(CancellationToken token) => _done.TrySetCanceled(token);
}
