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
