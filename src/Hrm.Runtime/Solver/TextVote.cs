namespace Hrm.Runtime.Solver;

/// <summary>One distinct answer of the views of a text, written back in the original's symbols.</summary>
/// <param name="Answer">The answer.</param>
/// <param name="IsValid">Whether it is well formed (<see cref="TextResult"/>).</param>
/// <param name="Count">Views that gave it.</param>
/// <param name="MeanConfidence">Their mean halting confidence, sigmoid(q_halt).</param>
public sealed record TextCandidate(string Answer, bool IsValid, int Count, double MeanConfidence);

/// <summary>
/// The answer to a <see cref="TextPuzzle"/> voted over its group's views (<see cref="TextViews"/>), the way the ARC
/// evaluation votes over a task's augmented views: each view solves the text as it writes it, its answer is written
/// back in the original's symbols, and the distinct answers rank well formed ones first, then by the views that gave
/// them, then by their mean halting confidence (the first view's first on a full tie).
/// </summary>
public sealed class TextVote
{
    internal TextVote(TextPuzzle puzzle, IReadOnlyList<TextResult> views, IReadOnlyList<TextCandidate> candidates)
    {
        Puzzle = puzzle;
        Views = views;
        Candidates = candidates;
    }

    /// <summary>The input, as given (the original view's identifier).</summary>
    public TextPuzzle Puzzle { get; }

    /// <summary>The winning answer.</summary>
    public string Answer => Candidates[0].Answer;

    /// <summary>Whether the winning answer is well formed.</summary>
    public bool IsValid => Candidates[0].IsValid;

    /// <summary>Views that gave the winning answer.</summary>
    public int Votes => Candidates[0].Count;

    /// <summary>Every view's own result (its input and answer as the view writes them), original first.</summary>
    public IReadOnlyList<TextResult> Views { get; }

    /// <summary>The distinct answers, best first.</summary>
    public IReadOnlyList<TextCandidate> Candidates { get; }

    /// <summary>Segments run over all views.</summary>
    public int Segments => Views.Sum(v => v.Segments);

    /// <summary>Ranks the answers of <paramref name="results"/> (view i's result is written back by
    /// <paramref name="views"/>[i]).</summary>
    internal static TextVote Count(TextPuzzle puzzle, IReadOnlyList<TextView> views, IReadOnlyList<TextResult> results)
    {
        var tallies = new Dictionary<string, (int First, bool Valid, int Count, double SumQ)>(StringComparer.Ordinal);
        for (int v = 0; v < results.Count; v++)
        {
            string answer = views[v].Undo(results[v].Answer);
            (int first, bool valid, int count, double sum) = tallies.TryGetValue(answer, out var t)
                ? t : (v, results[v].IsValid, 0, 0.0);
            tallies[answer] = (first, valid, count + 1, sum + results[v].HaltConfidence);
        }
        TextCandidate[] ranked = [.. tallies
            .OrderByDescending(kv => kv.Value.Valid)
            .ThenByDescending(kv => kv.Value.Count)
            .ThenByDescending(kv => kv.Value.SumQ / kv.Value.Count)
            .ThenBy(kv => kv.Value.First)
            .Select(kv => new TextCandidate(kv.Key, kv.Value.Valid, kv.Value.Count, kv.Value.SumQ / kv.Value.Count))];
        return new TextVote(puzzle, results, ranked);
    }
}
