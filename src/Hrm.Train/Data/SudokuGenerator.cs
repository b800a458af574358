using System.Runtime.ExceptionServices;
using Hrm.Runtime.Numerics;

namespace Hrm.Train.Data;

/// <summary>
/// Generates uniquely solvable Sudoku puzzles in a givens band and a rating band (ratings as defined by
/// <see cref="SudokuSolver"/>). Deterministic for (seed, count, options) whatever the thread count: puzzle i
/// draws everything, retries included, from its own generator seeded by (seed, i).
/// </summary>
/// <remarks>
/// One attempt: a random full board (randomised backtracking), then its cells blanked in a random order,
/// each blank kept only if the solution stays unique, until the target number of givens is left or no cell
/// can go. The target is drawn uniformly from the givens band, or is the band's floor when
/// <see cref="SudokuGeneratorOptions.MinRating"/> is above 0 (hard puzzles: remove as far as possible). The
/// puzzle is kept if its rating is in the band. Random minimal puzzles rarely rate high (about 1 in 1,200
/// rates 50 or more), so a puzzle rated below the band is then hill-climbed for up to
/// <see cref="SudokuGeneratorOptions.ClimbSteps"/> steps: move one given to a random blank cell (taking the
/// value of the same solution), keep the move if the puzzle stays unique and its search tree (the guesses
/// of an exhaustive search, which unlike the rating does not depend on the digit order) does not shrink,
/// and stop as soon as the rating is in the band. The number of givens does not change while climbing.
/// </remarks>
public static class SudokuGenerator
{
    /// <summary>The source name given to generated records.</summary>
    public const string SourceName = "hrm-generator";

    /// <summary>Generates <paramref name="count"/> puzzles.</summary>
    /// <param name="count">How many.</param>
    /// <param name="options">Size, seed, bands and threads.</param>
    /// <param name="cancellationToken">Stops the work between attempts.</param>
    /// <returns>Records in index order (puzzle, solution, rating, source <see cref="SourceName"/>).</returns>
    /// <exception cref="ArgumentException">An option is out of range or a band is empty or impossible.</exception>
    /// <exception cref="InvalidOperationException">A puzzle was not found in MaxAttemptsPerPuzzle attempts.</exception>
    public static SudokuRecord[] Generate(int count, SudokuGeneratorOptions options,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        (int minGivens, int maxGivens) = Validate(options);
        var result = new SudokuRecord[count];
        var parallel = new ParallelOptions
        {
            MaxDegreeOfParallelism = options.Threads,
            CancellationToken = cancellationToken,
        };
        try
        {
            Parallel.For(0, count, parallel, () => new Worker(options, minGivens, maxGivens), (i, _, worker) =>
            {
                result[i] = worker.Generate(i, cancellationToken);
                return worker;
            }, _ => { });
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            // Unwrap: rethrow the failure of the lowest puzzle index among those that failed, with its own type.
            ExceptionDispatchInfo.Capture(e.InnerExceptions.MinBy(x => x.Data["PuzzleIndex"] as int? ?? int.MaxValue)!)
                .Throw();
        }
        return result;
    }

    /// <summary>The generator of puzzle <paramref name="index"/> of a run with <paramref name="seed"/>.</summary>
    internal static HrmRandom PuzzleRandom(ulong seed, int index) =>
        new(Mix(Mix(seed) + 0x9E3779B97F4A7C15UL * ((ulong)index + 1)));

    /// <summary>
    /// Copies <paramref name="solution"/> into <paramref name="puzzle"/> and blanks cells in a random order,
    /// keeping each blank only if the solution stays unique, until <paramref name="target"/> givens remain or
    /// every cell has been tried. Returns the number of givens left.
    /// </summary>
    internal static int Reduce(SudokuSolver solver, ReadOnlySpan<byte> solution, Span<byte> puzzle, int[] order,
        int target, HrmRandom rng)
    {
        solution.CopyTo(puzzle);
        int cells = puzzle.Length;
        for (int i = 0; i < cells; i++) order[i] = i;
        Shuffle(order.AsSpan(0, cells), rng);
        int givens = cells;
        for (int i = 0; i < cells && givens > target; i++)
        {
            int cell = order[i];
            byte saved = puzzle[cell];
            puzzle[cell] = 0;
            // The puzzle was unique before, so it still is iff no solution has another digit in this cell.
            if (!solver.HasSolutionWithout(puzzle, cell, saved)) givens--;
            else puzzle[cell] = saved;
        }
        return givens;
    }

    internal static void Shuffle(Span<int> items, HrmRandom rng)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = rng.NextInt(0, i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    private static (int MinGivens, int MaxGivens) Validate(SudokuGeneratorOptions o)
    {
        if (o.Size is not (4 or 6 or 9))
            throw new ArgumentException($"Size must be 4, 6 or 9, got {o.Size}", nameof(o));
        int cells = o.Size * o.Size;
        // Fewest givens any uniquely solvable puzzle of this size can have (17 for 9x9).
        int floor = o.Size switch { 4 => 4, 6 => 8, _ => 17 };
        int minGivens = Math.Max(o.MinGivens, 0);
        int maxGivens = Math.Min(o.MaxGivens, cells);
        if (o.MinGivens > cells)
        {
            throw new ArgumentException(
                $"MinGivens {o.MinGivens} exceeds the {cells} cells of a {o.Size}x{o.Size} board", nameof(o));
        }
        if (minGivens > maxGivens)
            throw new ArgumentException($"the givens band {o.MinGivens}..{o.MaxGivens} is empty", nameof(o));
        if (maxGivens < floor)
        {
            throw new ArgumentException(
                $"MaxGivens {o.MaxGivens} is below {floor}, the fewest givens a uniquely solvable {o.Size}x{o.Size} " +
                "puzzle can have", nameof(o));
        }
        if (o.MinRating < 0 || o.MinRating > o.MaxRating)
            throw new ArgumentException($"the rating band {o.MinRating}..{o.MaxRating} is empty", nameof(o));
        if (o.Threads < 1) throw new ArgumentException($"Threads must be at least 1, got {o.Threads}", nameof(o));
        if (o.RemovalOrdersPerSolution < 1 || o.MaxAttemptsPerPuzzle < 1 || o.ClimbSteps < 0)
        {
            throw new ArgumentException(
                $"RemovalOrdersPerSolution ({o.RemovalOrdersPerSolution}) and MaxAttemptsPerPuzzle " +
                $"({o.MaxAttemptsPerPuzzle}) must be at least 1, ClimbSteps ({o.ClimbSteps}) at least 0", nameof(o));
        }
        return (minGivens, maxGivens);
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>One thread's solver and scratch; produces puzzle i from (seed, i) alone.</summary>
    private sealed class Worker(SudokuGeneratorOptions o, int minGivens, int maxGivens)
    {
        private readonly SudokuSolver _solver = new(o.Size);
        private readonly byte[] _solution = new byte[o.Size * o.Size];
        private readonly byte[] _puzzle = new byte[o.Size * o.Size];
        private readonly int[] _order = new int[o.Size * o.Size];

        public SudokuRecord Generate(int index, CancellationToken cancellationToken)
        {
            HrmRandom rng = PuzzleRandom(o.Seed, index);
            int attempts = 0;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Array.Clear(_solution);
                _solver.FillRandom(_solution, rng);
                for (int k = 0; k < o.RemovalOrdersPerSolution; k++)
                {
                    if (++attempts > o.MaxAttemptsPerPuzzle)
                    {
                        var e = new InvalidOperationException(
                            $"puzzle {index}: no {o.Size}x{o.Size} puzzle with {minGivens}..{maxGivens} givens and " +
                            $"rating {o.MinRating}..{o.MaxRating} found in {o.MaxAttemptsPerPuzzle} attempts; " +
                            "widen the bands or raise MaxAttemptsPerPuzzle");
                        e.Data["PuzzleIndex"] = index;
                        throw e;
                    }
                    if (TryAttempt(rng, cancellationToken, out int rating))
                        return new SudokuRecord((byte[])_puzzle.Clone(), (byte[])_solution.Clone(), rating, SourceName);
                }
            }
        }

        private bool InBand(int rating) => rating >= o.MinRating && rating <= o.MaxRating;

        private bool TryAttempt(HrmRandom rng, CancellationToken cancellationToken, out int rating)
        {
            int target = o.MinRating > 0 ? minGivens : rng.NextInt(minGivens, maxGivens + 1);
            int givens = Reduce(_solver, _solution, _puzzle, _order, target, rng);
            rating = -1;
            if (givens > maxGivens) return false;
            rating = _solver.Solve(_puzzle, [], 2).Rating;
            if (InBand(rating)) return true;
            return rating < o.MinRating && Climb(rng, cancellationToken, ref rating);
        }

        /// <summary>Moves givens around (see the class remarks) until the rating is in the band.</summary>
        private bool Climb(HrmRandom rng, CancellationToken cancellationToken, ref int rating)
        {
            int cells = _puzzle.Length;
            int givens = cells - _puzzle.AsSpan().Count((byte)0);
            if (givens == cells) return false;
            int tree = _solver.LastTotalGuesses;
            for (int step = 0; step < o.ClimbSteps; step++)
            {
                if ((step & 255) == 255) cancellationToken.ThrowIfCancellationRequested();
                int from = Pick(rng, givens, given: true);
                int to = Pick(rng, cells - givens, given: false);
                _puzzle[from] = 0;
                _puzzle[to] = _solution[to];
                SudokuSolveResult r = _solver.Solve(_puzzle, [], 2);
                int size = _solver.LastTotalGuesses;
                if (r.SolutionCount == 1 && size >= tree)
                {
                    tree = size;
                    rating = r.Rating;
                    if (InBand(rating)) return true;
                }
                else
                {
                    _puzzle[to] = 0;
                    _puzzle[from] = _solution[from];
                }
            }
            return false;
        }

        /// <summary>A uniformly random given (or blank) cell, of which there are <paramref name="count"/>.</summary>
        private int Pick(HrmRandom rng, int count, bool given)
        {
            int k = rng.NextInt(0, count);
            for (int c = 0; c < _puzzle.Length; c++)
            {
                if ((_puzzle[c] != 0) == given && k-- == 0) return c;
            }
            throw new InvalidOperationException("unreachable: fewer matching cells than counted");
        }
    }
}
