namespace Hrm.Train.Data;

/// <summary>What <see cref="ArcDatasetBuilder.Build"/> should produce.</summary>
public sealed record ArcBuildOptions
{
    /// <summary>Augmented views per task (the reference uses 1000).</summary>
    public int NumAug { get; init; } = 1000;

    /// <summary>The seed; the output depends only on (seed, tasks, NumAug), never on <see cref="Threads"/>.</summary>
    public ulong Seed { get; init; } = 42;

    /// <summary>Worker threads (at least 1).</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Seconds between progress lines.</summary>
    public double ProgressSeconds { get; init; } = 5;
}
