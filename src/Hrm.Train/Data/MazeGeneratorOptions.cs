using Hrm.Runtime.Puzzles;

namespace Hrm.Train.Data;

/// <summary>What <see cref="MazeGenerator.Generate"/> should produce.</summary>
public sealed record MazeGeneratorOptions
{
    /// <summary>Side n (the reference uses 30).</summary>
    public int Size { get; init; } = MazeBoard.DefaultSize;

    /// <summary>The seed; the output depends only on (seed, count, options), never on <see cref="Threads"/>.</summary>
    public ulong Seed { get; init; }

    /// <summary>
    /// Fewest moves on the shortest S-to-G path (inclusive; the reference's hard set, "> 110", is 111).
    /// </summary>
    public int MinPathLength { get; init; } = 1;

    /// <summary>Most moves on the shortest path (inclusive).</summary>
    public int MaxPathLength { get; init; } = int.MaxValue;

    /// <summary>
    /// Probability that each wall left between two lattice cells of the carved perfect maze is removed, which makes
    /// loops, so that there are several routes and the shortest one must be found (0 = a perfect maze).
    /// </summary>
    public double LoopFraction { get; init; } = 0.1;

    /// <summary>Worker threads (at least 1).</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Mazes carved per output maze before giving up with an exception.</summary>
    public int MaxAttemptsPerMaze { get; init; } = 1000;
}
