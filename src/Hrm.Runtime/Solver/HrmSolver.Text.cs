namespace Hrm.Runtime.Solver;

public sealed partial class HrmSolver
{
    /// <summary>Answers one text input of a task of your own (blocks until its answer is ready).</summary>
    /// <exception cref="ArgumentException">The checkpoint was not trained on rows of this alphabet (its seq_len and
    /// vocab_size differ).</exception>
    public TextResult Solve(TextPuzzle puzzle) => SolveAsync(puzzle).GetAwaiter().GetResult();

    /// <summary>Answers several text inputs together; results in the same order.</summary>
    public IReadOnlyList<TextResult> Solve(IReadOnlyList<TextPuzzle> puzzles) =>
        SolveAsync(puzzles).GetAwaiter().GetResult();

    /// <summary>Answers one text input without blocking; cancelling drops it from the batch at the next
    /// segment.</summary>
    public async Task<TextResult> SolveAsync(TextPuzzle puzzle, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(puzzle);
        IReadOnlyList<TextResult> r = await SolveAsync([puzzle], cancellationToken).ConfigureAwait(false);
        return r[0];
    }

    /// <summary>Answers several text inputs without blocking; results in the same order.</summary>
    public Task<IReadOnlyList<TextResult>> SolveAsync(IReadOnlyList<TextPuzzle> puzzles,
        CancellationToken cancellationToken = default) =>
        SolveAllAsync(puzzles, TextTokens, TextResult.From, cancellationToken, static p => p.PuzzleIdentifier);

    /// <summary>
    /// Answers several text inputs, each voted over the views of its group (<see cref="TextVote"/>): a model trained
    /// with <c>hrm data pairs --puzzle-ids --relabel SYMBOLS --num-aug K</c> learned each group under K + 1
    /// identifiers, one a relabelling. Each input's <see cref="TextPuzzle.PuzzleIdentifier"/> names its group (the
    /// original view's identifier). All views of all inputs go through the scheduler together.
    /// </summary>
    /// <param name="puzzles">The inputs.</param>
    /// <param name="views">The model's groups and views (<see cref="TextViews.FindFor"/>).</param>
    /// <param name="maxViews">Views used a group, original first (1: the original alone, no vote).</param>
    /// <exception cref="ArgumentException">An input whose identifier is not a group's original view.</exception>
    public IReadOnlyList<TextVote> Solve(IReadOnlyList<TextPuzzle> puzzles, TextViews views,
        int maxViews = int.MaxValue) => SolveAsync(puzzles, views, maxViews).GetAwaiter().GetResult();

    /// <summary><see cref="Solve(IReadOnlyList{TextPuzzle}, TextViews, int)"/> without blocking.</summary>
    public async Task<IReadOnlyList<TextVote>> SolveAsync(IReadOnlyList<TextPuzzle> puzzles, TextViews views,
        int maxViews = int.MaxValue, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(puzzles);
        ArgumentNullException.ThrowIfNull(views);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxViews, 1);
        var rows = new List<TextPuzzle>();                 // every view of every input, input by input
        var viewsOf = new IReadOnlyList<TextView>[puzzles.Count];
        for (int i = 0; i < puzzles.Count; i++)
        {
            TextPuzzle p = puzzles[i] ?? throw new ArgumentNullException(nameof(puzzles), $"text {i} is null");
            string group = views.GroupOf(p.PuzzleIdentifier) ?? throw new ArgumentException(
                $"text {i} has puzzle identifier {p.PuzzleIdentifier}, which is not a group's own view",
                nameof(puzzles));
            viewsOf[i] = [.. views.Of(group)!.Take(maxViews)];
            foreach (TextView v in viewsOf[i])
                rows.Add(v.IsOriginal ? p : TextPuzzle.Parse(v.Apply(p.Text), p.Alphabet, v.PuzzleIdentifier));
        }
        IReadOnlyList<TextResult> results = await SolveAsync(rows, cancellationToken).ConfigureAwait(false);
        var votes = new TextVote[puzzles.Count];
        for (int i = 0, at = 0; i < puzzles.Count; at += viewsOf[i].Count, i++)
            votes[i] = TextVote.Count(puzzles[i], viewsOf[i], [.. results.Skip(at).Take(viewsOf[i].Count)]);
        return votes;
    }

    private int[] TextTokens(TextPuzzle p, int index)
    {
        TextAlphabet a = p.Alphabet;
        if (a.SeqLen != Config.SeqLen || a.VocabSize != Config.VocabSize)
        {
            throw new ArgumentException(
                $"text {index}'s alphabet makes rows of {a.SeqLen} tokens from a vocabulary of {a.VocabSize} " +
                $"({a.Symbols.Length} symbols + padding + end); the checkpoint takes seq_len {Config.SeqLen} with " +
                $"vocab_size {Config.VocabSize}: not the dataset it was trained on");
        }
        if (p.PuzzleIdentifier >= Config.NumPuzzleIdentifiers)
        {
            throw new ArgumentException($"text {index} has puzzle identifier {p.PuzzleIdentifier}; the checkpoint " +
                $"has {Config.NumPuzzleIdentifiers} (0 to {Config.NumPuzzleIdentifiers - 1})");
        }
        return p.ToTokens();
    }
}
