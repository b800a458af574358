namespace Hrm.Train.Data;

/// <summary>What a build wrote.</summary>
/// <param name="Tasks">Base tasks.</param>
/// <param name="TrainGroups">Groups of the train split (all tasks).</param>
/// <param name="TrainPuzzles">Puzzles (views) of the train split.</param>
/// <param name="TrainExamples">Examples of the train split.</param>
/// <param name="TestGroups">Groups of the test split (evaluation tasks).</param>
/// <param name="TestPuzzles">Puzzles of the test split.</param>
/// <param name="TestExamples">Examples of the test split.</param>
/// <param name="Identifiers">num_puzzle_identifiers (blank included).</param>
/// <param name="ShortTasks">Tasks with fewer than 1 + NumAug distinct views.</param>
public sealed record ArcBuildResult(int Tasks, int TrainGroups, int TrainPuzzles, long TrainExamples, int TestGroups,
    int TestPuzzles, long TestExamples, int Identifiers, int ShortTasks);
