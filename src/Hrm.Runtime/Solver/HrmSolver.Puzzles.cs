using Hrm.Runtime.Puzzles;

namespace Hrm.Runtime.Solver;

public sealed partial class HrmSolver
{
    /// <summary>The side n (4, 6 or 9) of the Sudoku this checkpoint solves (seq_len n·n, vocab_size n + 2), or null.</summary>
    public int? SudokuSize
    {
        get
        {
            int n = (int)Math.Round(Math.Sqrt(Config.SeqLen));
            return n * n == Config.SeqLen && n is 4 or 6 or 9 && Config.VocabSize == n + 2 ? n : null;
        }
    }

    /// <summary>Solves one Sudoku (blocks until its answer is ready).</summary>
    /// <exception cref="ArgumentException">The checkpoint does not solve Sudoku of this size.</exception>
    public SudokuResult Solve(SudokuGrid puzzle) => SolveAsync(puzzle).GetAwaiter().GetResult();

    /// <summary>Solves several Sudoku together; results in the same order.</summary>
    /// <exception cref="ArgumentException">The checkpoint does not solve Sudoku of one of these sizes.</exception>
    public IReadOnlyList<SudokuResult> Solve(IReadOnlyList<SudokuGrid> puzzles) =>
        SolveAsync(puzzles).GetAwaiter().GetResult();

    /// <summary>Solves one Sudoku without blocking; cancelling drops it from the batch at the next segment.</summary>
    public async Task<SudokuResult> SolveAsync(SudokuGrid puzzle, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(puzzle);
        IReadOnlyList<SudokuResult> r = await SolveAsync([puzzle], cancellationToken).ConfigureAwait(false);
        return r[0];
    }

    /// <summary>Solves several Sudoku without blocking; results in the same order.</summary>
    public Task<IReadOnlyList<SudokuResult>> SolveAsync(IReadOnlyList<SudokuGrid> puzzles,
        CancellationToken cancellationToken = default) =>
        SolveAllAsync(puzzles, SudokuTokens, SudokuResult.From, cancellationToken);

    /// <summary>Solves one maze (blocks until its answer is ready).</summary>
    /// <exception cref="ArgumentException">The checkpoint does not solve mazes of this size.</exception>
    public MazeResult Solve(Maze puzzle) => SolveAsync(puzzle).GetAwaiter().GetResult();

    /// <summary>Solves several mazes together; results in the same order.</summary>
    public IReadOnlyList<MazeResult> Solve(IReadOnlyList<Maze> puzzles) => SolveAsync(puzzles).GetAwaiter().GetResult();

    /// <summary>Solves one maze without blocking; cancelling drops it from the batch at the next segment.</summary>
    public async Task<MazeResult> SolveAsync(Maze puzzle, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(puzzle);
        IReadOnlyList<MazeResult> r = await SolveAsync([puzzle], cancellationToken).ConfigureAwait(false);
        return r[0];
    }

    /// <summary>Solves several mazes without blocking; results in the same order.</summary>
    public Task<IReadOnlyList<MazeResult>> SolveAsync(IReadOnlyList<Maze> puzzles,
        CancellationToken cancellationToken = default) =>
        SolveAllAsync(puzzles, MazeTokens, MazeResult.From, cancellationToken);

    /// <summary>Token rows of every puzzle (puzzle identifier 0, or <paramref name="idOf"/>'s), one job, then each
    /// prediction decoded and checked.</summary>
    private async Task<IReadOnlyList<TResult>> SolveAllAsync<TPuzzle, TResult>(IReadOnlyList<TPuzzle> puzzles,
        Func<TPuzzle, int, int[]> tokensOf, Func<TPuzzle, TokenPrediction, TResult> resultOf,
        CancellationToken cancellationToken, Func<TPuzzle, int>? idOf = null)
        where TPuzzle : class
    {
        ArgumentNullException.ThrowIfNull(puzzles);
        int l = Config.SeqLen;
        var tokens = new int[puzzles.Count * l];
        var ids = new int[puzzles.Count];
        for (int i = 0; i < puzzles.Count; i++)
        {
            TPuzzle p = puzzles[i] ?? throw new ArgumentNullException(nameof(puzzles), $"puzzle {i} is null");
            tokensOf(p, i).CopyTo(tokens, i * l);
            ids[i] = idOf?.Invoke(p) ?? 0;
        }
        TokenPrediction[] predictions =
            await PredictAsync(tokens, ids, cancellationToken).ConfigureAwait(false);
        var results = new TResult[predictions.Length];
        for (int i = 0; i < predictions.Length; i++) results[i] = resultOf(puzzles[i], predictions[i]);
        return results;
    }

    private int[] SudokuTokens(SudokuGrid g, int index)
    {
        if (g.Size != SudokuSize)
        {
            throw new ArgumentException(
                $"puzzle {index} is a {g.Size}x{g.Size} Sudoku ({g.Size * g.Size} cells, {g.Size + 2} tokens); " +
                $"the checkpoint takes seq_len {Config.SeqLen} with vocab_size {Config.VocabSize}");
        }
        return g.ToTokens();
    }

    private int[] MazeTokens(Maze m, int index)
    {
        if (m.Side * m.Side != Config.SeqLen || Config.VocabSize != MazeBoard.VocabSize)
        {
            throw new ArgumentException(
                $"maze {index} is {m.Side}x{m.Side} ({m.Side * m.Side} cells, vocabulary {MazeBoard.VocabSize}); " +
                $"the checkpoint takes seq_len {Config.SeqLen} with vocab_size {Config.VocabSize}");
        }
        return m.ToTokens();
    }
}
