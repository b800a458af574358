namespace Hrm.Train.Data;

/// <summary>What <see cref="SudokuGenerator.Generate"/> should produce. Bands are inclusive.</summary>
public sealed record SudokuGeneratorOptions
{
    /// <summary>Board side: 4, 6 or 9.</summary>
    public int Size { get; init; } = 9;

    /// <summary>The seed; the output depends only on (seed, count, options), never on <see cref="Threads"/>.</summary>
    public ulong Seed { get; init; }

    /// <summary>
    /// Lowest accepted rating (see <see cref="SudokuSolver"/>). Above 0, removal goes as far as it can.
    /// </summary>
    public int MinRating { get; init; }

    /// <summary>Highest accepted rating.</summary>
    public int MaxRating { get; init; } = int.MaxValue;

    /// <summary>Fewest givens.</summary>
    public int MinGivens { get; init; }

    /// <summary>Most givens (values above n*n mean n*n).</summary>
    public int MaxGivens { get; init; } = int.MaxValue;

    /// <summary>Worker threads (at least 1).</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// Removal orders tried on each random full solution before drawing a new one (each gives a different
    /// puzzle); more than 1 helps when the rating band is rare.
    /// </summary>
    public int RemovalOrdersPerSolution { get; init; } = 1;

    /// <summary>
    /// Hill-climbing steps tried on a puzzle whose rating is below <see cref="MinRating"/> before starting over
    /// (0 = pure random removal). See <see cref="SudokuGenerator"/>.
    /// </summary>
    public int ClimbSteps { get; init; } = 2000;

    /// <summary>Attempts (removal orders) per puzzle before giving up with an exception.</summary>
    public int MaxAttemptsPerPuzzle { get; init; } = 10_000;
}
