namespace Hrm.Runtime.Puzzles;

/// <summary>The outcome of <see cref="MazePaths.Check"/>.</summary>
/// <param name="Valid">The path cells connect S to G through open cells only, all reachable from S.</param>
/// <param name="Problem">Why not, or null.</param>
/// <param name="Length">Moves of the marked path ('o' cells + 1) when valid, else -1.</param>
/// <param name="Shortest">The shortest S-to-G length in the maze, or -1 when G is unreachable.</param>
internal sealed record MazePathCheck(bool Valid, string? Problem, int Length, int Shortest)
{
    /// <summary>Valid and as short as possible.</summary>
    public bool IsShortest => Valid && Length == Shortest;
}
