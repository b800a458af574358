using Hrm.Runtime.Puzzles;

namespace Hrm.Runtime.Solver;

/// <summary>
/// The model's answer to a <see cref="Maze"/>: the cells it marked 'o'. Valid means they lie on open cells only
/// and connect the start to the goal, with every marked cell reachable from the start; <see cref="IsShortest"/>
/// also compares the length with a breadth-first search.
/// </summary>
public sealed class MazeResult : SolveResult
{
    private MazeResult(Maze puzzle, Maze answer, TokenPrediction prediction, MazePathCheck check, int otherChanges)
        : base(prediction, check.Problem)
    {
        Puzzle = puzzle;
        Answer = answer;
        PathLength = check.Length;
        ShortestLength = check.Shortest;
        OtherChanges = otherChanges;
    }

    /// <summary>The maze that was solved.</summary>
    public Maze Puzzle { get; }

    /// <summary>The maze with the model's path: its 'o' predictions on open cells (see <see cref="OtherChanges"/>).</summary>
    public Maze Answer { get; }

    /// <summary>Moves of the marked path (its cells + 1) when valid, else −1.</summary>
    public int PathLength { get; }

    /// <summary>The shortest start-to-goal length in moves, or −1 when the goal cannot be reached.</summary>
    public int ShortestLength { get; }

    /// <summary>Valid and as short as possible.</summary>
    public bool IsShortest => IsValid && PathLength == ShortestLength;

    /// <summary>Cells the model changed other than by marking an open cell 'o' (left out of <see cref="Answer"/>).</summary>
    public int OtherChanges { get; }

    /// <summary>Checks a prediction (tokens clamped to 0..5) and overlays its path on the puzzle.</summary>
    internal static MazeResult From(Maze puzzle, TokenPrediction prediction)
    {
        ReadOnlySpan<byte> cells = puzzle.Cells;
        var predicted = new byte[cells.Length];
        byte[] overlay = cells.ToArray();
        int other = 0;
        for (int i = 0; i < cells.Length; i++)
        {
            predicted[i] = (byte)Math.Clamp(prediction.Tokens[i], 0, MazeBoard.Path);
            bool path = predicted[i] == MazeBoard.Path && cells[i] == MazeBoard.Open;
            if (path) overlay[i] = MazeBoard.Path;
            else if (predicted[i] != cells[i]) other++;
        }
        return new MazeResult(puzzle, Maze.FromAnswer(overlay), prediction, MazePaths.Check(cells, predicted), other);
    }
}
