namespace Hrm.Runtime.Arc;

/// <summary>
/// Solves ARC tasks the way the evaluation scores them (spec 6.3): every test input is run under every view of its
/// task that the model was trained with (the original and the augmentations listed in the identifiers, each with
/// its own puzzle identifier), each prediction is cropped and de-augmented, and the views vote; the best
/// <see cref="Attempts"/> candidates (by count, then mean sigmoid(q_halt)) are the answer. Predictions that crop to
/// an empty grid are dropped. The model runs through an <see cref="ArcPredictor"/>, once per task on all its rows.
/// Stateless apart from the immutable identifiers: concurrent calls are safe.
/// </summary>
public sealed class ArcTaskSolver
{
    /// <summary>Attempts returned per test input (the ARC Prize allows two).</summary>
    public const int Attempts = 2;

    private const int L = ArcEncoding.SeqLen;

    /// <summary>Solves with the views and puzzle identifiers of <paramref name="identifiers"/>.</summary>
    /// <param name="identifiers">The checkpoint's identifiers (<see cref="ArcIdentifiers.FindFor"/>).</param>
    public ArcTaskSolver(ArcIdentifiers identifiers)
    {
        ArgumentNullException.ThrowIfNull(identifiers);
        Identifiers = identifiers;
    }

    /// <summary>The views and puzzle identifiers the model was trained with.</summary>
    public ArcIdentifiers Identifiers { get; }

    /// <summary>Solves every test input of <paramref name="task"/>.</summary>
    /// <param name="task">The task; its id selects the views.</param>
    /// <param name="predictor">Runs the model on (test inputs x views) rows, test-input-major.</param>
    /// <returns>The attempts per test input.</returns>
    /// <exception cref="ArcTaskNotTrainedException">The identifiers list no view of the task.</exception>
    /// <exception cref="ArgumentException">The task has no test pairs, or a test input that is missing or empty (the
    /// task-file reader refuses those too).</exception>
    /// <exception cref="InvalidOperationException">The predictor returned arrays of the wrong length.</exception>
    public ArcTaskSolution Solve(ArcTask task, ArcPredictor predictor)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(predictor);
        if (task.Test is not { Count: > 0 })
            throw new ArgumentException($"ARC task '{task.Id}' has no test pairs", nameof(task));
        for (int t = 0; t < task.Test.Count; t++)
        {
            if (task.Test[t]?.Input is not { Rows: > 0, Cols: > 0 })
                throw new ArgumentException($"ARC task '{task.Id}': test input {t} is missing or empty", nameof(task));
        }
        IReadOnlyList<(int PuzzleId, ArcView View)> views = Identifiers.ViewsOf(task.Id);
        if (views.Count == 0) throw new ArcTaskNotTrainedException(task.Id, Identifiers.Source);
        int n = task.Test.Count * views.Count;
        int[] tokens = new int[n * L];   // (N, 900), row = test * views + view
        int[] puzzleIds = new int[n];    // (N)
        byte[] row = new byte[L];        // (900)
        for (int t = 0; t < task.Test.Count; t++)
        {
            for (int v = 0; v < views.Count; v++)
            {
                int r = t * views.Count + v;
                ArcEncoding.Encode(views[v].View.Apply(task.Test[t].Input), 0, 0, row);
                Span<int> dst = tokens.AsSpan(r * L, L);
                for (int i = 0; i < L; i++) dst[i] = row[i];
                puzzleIds[r] = views[v].PuzzleId;
            }
        }
        (int[] predicted, float[] qHalt) = predictor(tokens, puzzleIds);
        if (predicted is null || qHalt is null || predicted.Length != n * L || qHalt.Length != n)
        {
            throw new InvalidOperationException(
                $"the ARC predictor returned {predicted?.Length} tokens and {qHalt?.Length} q_halt logits for {n} " +
                $"rows; expected (N, {L}) = {n * L} tokens and N = {n} logits");
        }
        return Vote(task, views, predicted, qHalt);
    }

    private static ArcTaskSolution Vote(ArcTask task, IReadOnlyList<(int PuzzleId, ArcView View)> views,
        int[] predicted, float[] qHalt)
    {
        var voting = new ArcVoting();
        int[] dropped = new int[task.Test.Count];
        for (int t = 0; t < task.Test.Count; t++)
        {
            for (int v = 0; v < views.Count; v++)
            {
                int r = t * views.Count + v;
                ArcGrid grid = views[v].View.Decode(predicted.AsSpan(r * L, L));
                if (grid.Rows == 0 || grid.Cols == 0)
                {
                    dropped[t]++;
                    continue;
                }
                voting.AddPrediction(task.Id, task.Test[t].Input, grid, ArcVoting.Confidence(qHalt[r]));
            }
        }
        var tests = new ArcTestSolution[task.Test.Count];
        for (int t = 0; t < tests.Length; t++)
        {
            IReadOnlyList<ArcCandidate> ranked = voting.Ranked(task.Id, task.Test[t].Input);
            tests[t] = new ArcTestSolution(task.Test[t].Input, [.. ranked.Take(Attempts)], ranked.Count, dropped[t]);
        }
        return new ArcTaskSolution(task.Id, views.Count, tests);
    }
}
