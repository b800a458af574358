using System.Runtime.ExceptionServices;
using Hrm.Runtime.Numerics;
using Hrm.Runtime.Puzzles;

namespace Hrm.Train.Data;

/// <summary>
/// Generates n x n mazes with one start and one goal, labelled with a shortest path (BFS). Maze i draws
/// everything from its own generator (<see cref="DerivedRandom"/> of (seed, i)), so the output does not depend
/// on the thread count. Every label is re-checked with <see cref="MazePaths.Check"/> before it is returned.
/// </summary>
/// <remarks>
/// One attempt: a lattice of cells every second row and column (offset 0 or 1 per axis, drawn), carved into a
/// perfect maze by a randomised depth-first search; then each wall left between two lattice neighbours is
/// removed with probability <see cref="MazeGeneratorOptions.LoopFraction"/>. The start is a uniformly random open
/// cell; the goal is uniform among the open cells whose BFS distance from it is in the path-length band. No such
/// cell: a new attempt.
/// </remarks>
public static class MazeGenerator
{
    /// <summary>The source name given to generated records.</summary>
    public const string SourceName = "hrm-maze-generator";

    /// <summary>Generates <paramref name="count"/> mazes.</summary>
    /// <param name="count">How many.</param>
    /// <param name="options">Size, seed, band, loops, threads.</param>
    /// <param name="cancellationToken">Stops the work between mazes.</param>
    /// <returns>Records in index order; Rating is the shortest path length.</returns>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    /// <exception cref="InvalidOperationException">No maze in the band within MaxAttemptsPerMaze attempts.</exception>
    public static MazeRecord[] Generate(int count, MazeGeneratorOptions options,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Validate(options);
        var result = new MazeRecord[count];
        var parallel = new ParallelOptions
        {
            MaxDegreeOfParallelism = options.Threads,
            CancellationToken = cancellationToken,
        };
        try
        {
            Parallel.For(0, count, parallel, i => result[i] = One(options, i));
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
        return result;
    }

    private static MazeRecord One(MazeGeneratorOptions o, int index)
    {
        HrmRandom rng = DerivedRandom.For(o.Seed, index);
        int n = o.Size, cells = n * n;
        byte[] maze = new byte[cells];
        int[] dist = new int[cells];
        var candidates = new List<int>(cells);
        for (int attempt = 0; attempt < o.MaxAttemptsPerMaze; attempt++)
        {
            Carve(maze, n, o.LoopFraction, rng);
            int open = maze.AsSpan().Count(MazeBoard.Open);
            int k = rng.NextInt(0, open), start = -1;
            for (int c = 0; c < cells && start < 0; c++)
            {
                if (maze[c] == MazeBoard.Open && k-- == 0) start = c;
            }
            MazePaths.Distances(maze, start, dist, []);
            candidates.Clear();
            for (int c = 0; c < cells; c++)
            {
                if (dist[c] >= o.MinPathLength && dist[c] <= o.MaxPathLength) candidates.Add(c);
            }
            if (candidates.Count == 0) continue;
            int goal = candidates[rng.NextInt(0, candidates.Count)];
            maze[start] = MazeBoard.Start;
            maze[goal] = MazeBoard.Goal;
            byte[] label = MazePaths.Label(maze);
            MazePathCheck check = MazePaths.Check(maze, label);
            if (!check.IsShortest || check.Length != dist[goal])
            {
                throw new InvalidOperationException(
                    $"maze {index}: the BFS label is not a shortest path ({check.Problem})");
            }
            return new MazeRecord(maze, label, check.Length, SourceName);
        }
        throw new InvalidOperationException(
            $"maze {index}: no {n}x{n} maze with a shortest path of {o.MinPathLength}..{o.MaxPathLength} moves in " +
            $"{o.MaxAttemptsPerMaze} attempts; lower --min-path-length or the loop fraction");
    }

    /// <summary>Fills <paramref name="maze"/> with a randomised-DFS maze plus loops (tokens: wall / open).</summary>
    private static void Carve(byte[] maze, int n, double loopFraction, HrmRandom rng)
    {
        maze.AsSpan().Fill(MazeBoard.Wall);
        int offR = rng.NextInt(0, 2), offC = rng.NextInt(0, 2);
        int rows = (n - offR + 1) / 2, cols = (n - offC + 1) / 2;
        int Cell(int a, int b) => (offR + 2 * a) * n + offC + 2 * b;
        bool[] visited = new bool[rows * cols];
        var stack = new Stack<int>();
        Span<int> next = stackalloc int[4];
        int first = rng.NextInt(0, rows * cols);
        visited[first] = true;
        maze[Cell(first / cols, first % cols)] = MazeBoard.Open;
        stack.Push(first);
        while (stack.Count > 0)
        {
            int cur = stack.Peek(), a = cur / cols, b = cur % cols, m = 0;
            if (a > 0 && !visited[cur - cols]) next[m++] = cur - cols;
            if (a + 1 < rows && !visited[cur + cols]) next[m++] = cur + cols;
            if (b > 0 && !visited[cur - 1]) next[m++] = cur - 1;
            if (b + 1 < cols && !visited[cur + 1]) next[m++] = cur + 1;
            if (m == 0)
            {
                stack.Pop();
                continue;
            }
            int nb = next[rng.NextInt(0, m)];
            visited[nb] = true;
            int c1 = Cell(a, b), c2 = Cell(nb / cols, nb % cols);
            maze[(c1 + c2) / 2] = MazeBoard.Open;
            maze[c2] = MazeBoard.Open;
            stack.Push(nb);
        }
        if (loopFraction <= 0) return;
        for (int a = 0; a < rows; a++)
        {
            for (int b = 0; b < cols; b++)
            {
                if (b + 1 < cols && maze[Cell(a, b) + 1] == MazeBoard.Wall && rng.NextDouble() < loopFraction)
                    maze[Cell(a, b) + 1] = MazeBoard.Open;
                if (a + 1 < rows && maze[Cell(a, b) + n] == MazeBoard.Wall && rng.NextDouble() < loopFraction)
                    maze[Cell(a, b) + n] = MazeBoard.Open;
            }
        }
    }

    private static void Validate(MazeGeneratorOptions o)
    {
        if (o.Size is < 3 or > 64) throw new ArgumentException($"Size must be in 3..64, got {o.Size}", nameof(o));
        if (o.MinPathLength < 1 || o.MinPathLength > o.MaxPathLength)
        {
            throw new ArgumentException(
                $"the path-length band {o.MinPathLength}..{o.MaxPathLength} is empty or below 1", nameof(o));
        }
        if (o.LoopFraction is < 0 or > 1 || double.IsNaN(o.LoopFraction))
            throw new ArgumentException($"LoopFraction must be in [0, 1], got {o.LoopFraction}", nameof(o));
        if (o.Threads < 1 || o.MaxAttemptsPerMaze < 1)
        {
            throw new ArgumentException(
                $"Threads ({o.Threads}) and MaxAttemptsPerMaze ({o.MaxAttemptsPerMaze}) must be at least 1", nameof(o));
        }
    }
}
