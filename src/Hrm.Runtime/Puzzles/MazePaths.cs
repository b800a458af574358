namespace Hrm.Runtime.Puzzles;

/// <summary>Breadth-first search on mazes (4-neighbour moves between non-wall cells) and path checks.</summary>
internal static class MazePaths
{
    /// <summary>BFS distances (in moves) from the start to every cell; -1 where unreachable or a wall.</summary>
    /// <param name="maze">Tokens; any non-wall cell can be walked.</param>
    /// <param name="from">The start cell.</param>
    /// <param name="dist">Receives the distances (cells long).</param>
    /// <param name="parent">Receives each reached cell's BFS predecessor (-1 for the start), or empty.</param>
    public static void Distances(ReadOnlySpan<byte> maze, int from, Span<int> dist, Span<int> parent)
    {
        int cells = maze.Length, n = MazeBoard.SideOf(cells);
        dist.Fill(-1);
        Span<int> queue = cells <= 4096 ? stackalloc int[cells] : new int[cells];
        int head = 0, tail = 0;
        dist[from] = 0;
        if (!parent.IsEmpty) parent[from] = -1;
        queue[tail++] = from;
        while (head < tail)
        {
            int cell = queue[head++];
            int r = cell / n, c = cell % n;
            for (int k = 0; k < 4; k++)
            {
                (int nr, int nc) = k switch { 0 => (r - 1, c), 1 => (r + 1, c), 2 => (r, c - 1), _ => (r, c + 1) };
                if ((uint)nr >= (uint)n || (uint)nc >= (uint)n) continue;
                int next = nr * n + nc;
                if (maze[next] == MazeBoard.Wall || dist[next] >= 0) continue;
                dist[next] = dist[cell] + 1;
                if (!parent.IsEmpty) parent[next] = cell;
                queue[tail++] = next;
            }
        }
    }

    /// <summary>The shortest S-to-G length of a puzzle, or -1 when G is unreachable.</summary>
    /// <param name="puzzle">A valid puzzle (<see cref="MazeBoard.FindPuzzleError"/>).</param>
    /// <returns>Moves.</returns>
    public static int ShortestLength(ReadOnlySpan<byte> puzzle)
    {
        int[] dist = new int[puzzle.Length];
        Distances(puzzle, puzzle.IndexOf(MazeBoard.Start), dist, []);
        return dist[puzzle.IndexOf(MazeBoard.Goal)];
    }

    /// <summary>The puzzle with one shortest S-to-G path marked 'o' (BFS, neighbours up, down, left, right).</summary>
    /// <param name="puzzle">A valid puzzle whose goal is reachable.</param>
    /// <returns>The label tokens.</returns>
    /// <exception cref="ArgumentException">The goal is unreachable.</exception>
    public static byte[] Label(ReadOnlySpan<byte> puzzle)
    {
        int[] dist = new int[puzzle.Length], parent = new int[puzzle.Length];
        Distances(puzzle, puzzle.IndexOf(MazeBoard.Start), dist, parent);
        int goal = puzzle.IndexOf(MazeBoard.Goal);
        if (dist[goal] < 0) throw new ArgumentException("the goal cannot be reached from the start", nameof(puzzle));
        byte[] label = puzzle.ToArray();
        for (int cell = parent[goal]; cell >= 0 && label[cell] != MazeBoard.Start; cell = parent[cell])
            label[cell] = MazeBoard.Path;
        return label;
    }

    /// <summary>
    /// Checks the cells marked 'o' in <paramref name="marked"/> as a route through <paramref name="puzzle"/>:
    /// only open cells; S, G and the marked cells connected (G reachable from S through marked cells, and
    /// every marked cell reachable from S); and compares its length with the shortest.
    /// </summary>
    /// <param name="puzzle">A valid puzzle.</param>
    /// <param name="marked">Tokens of the same size (a label or a model's prediction); only 'o' cells are read.</param>
    /// <returns>The verdict.</returns>
    public static MazePathCheck Check(ReadOnlySpan<byte> puzzle, ReadOnlySpan<byte> marked)
    {
        if (marked.Length != puzzle.Length)
            throw new ArgumentException($"marked has {marked.Length} cells, the puzzle {puzzle.Length}",
                nameof(marked));
        int shortest = ShortestLength(puzzle);
        int pathCells = 0;
        byte[] route = new byte[puzzle.Length];   // walls everywhere except S, G and the marked cells
        route.AsSpan().Fill(MazeBoard.Wall);
        for (int i = 0; i < puzzle.Length; i++)
        {
            if (marked[i] == MazeBoard.Path)
            {
                if (puzzle[i] != MazeBoard.Open)
                {
                    string what = puzzle[i] == MazeBoard.Wall ? "a wall" : "the start or goal";
                    return Invalid($"the path covers {what} at {MazeBoard.Where(i, puzzle.Length)}", shortest);
                }
                route[i] = MazeBoard.Open;
                pathCells++;
            }
            else if (puzzle[i] is MazeBoard.Start or MazeBoard.Goal)
            {
                route[i] = puzzle[i];
            }
        }
        int start = puzzle.IndexOf(MazeBoard.Start), goal = puzzle.IndexOf(MazeBoard.Goal);
        int[] dist = new int[puzzle.Length];
        Distances(route, start, dist, []);
        if (dist[goal] < 0) return Invalid("the path does not connect the start to the goal", shortest);
        for (int i = 0; i < route.Length; i++)
        {
            if (route[i] == MazeBoard.Open && dist[i] < 0)
                return Invalid($"path cell {MazeBoard.Where(i, puzzle.Length)} is cut off from the start", shortest);
        }
        return new MazePathCheck(true, null, pathCells + 1, shortest);
    }

    private static MazePathCheck Invalid(string problem, int shortest) => new(false, problem, -1, shortest);
}
