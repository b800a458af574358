using Hrm.Runtime.Puzzles;

namespace Hrm.Train.Data;

/// <summary>
/// One maze: puzzle and label as tokens (<see cref="MazeBoard"/>), n x n. Record equality compares the arrays by
/// reference; compare <see cref="Puzzle"/> and <see cref="Solution"/> element-wise.
/// </summary>
/// <param name="Puzzle">Wall, open, start and goal tokens.</param>
/// <param name="Solution">The puzzle with the path cells marked.</param>
/// <param name="Rating">The CSV's rating column, or the shortest path length for generated mazes.</param>
/// <param name="Source">The collection name; may be empty.</param>
public sealed record MazeRecord(byte[] Puzzle, byte[] Solution, int Rating, string Source = "");
