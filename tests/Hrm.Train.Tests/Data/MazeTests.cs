using Hrm.Runtime.Arc;
using Hrm.Runtime.Formats;
using Hrm.Runtime.Puzzles;
using Hrm.Runtime.Solver;
using Hrm.Train.Data;

namespace Hrm.Train.Tests.Data;

public sealed class MazeTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("hrm-maze-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string P(string name) => Path.Combine(_dir.FullName, name);

    private static readonly string[] Small =
    [
        "S  #",
        " # #",
        " #  ",
        "   G",
    ];

    private static byte[] Parse(params string[] lines) => MazeBoard.ParseText(string.Join('\n', lines));

    /// <summary>An independent BFS (queue of coordinates) for the shortest S-to-G length.</summary>
    private static int Bfs(byte[] maze)
    {
        int n = MazeBoard.SideOf(maze.Length), s = Array.IndexOf(maze, MazeBoard.Start), g = Array.IndexOf(maze, MazeBoard.Goal);
        var seen = new Dictionary<(int, int), int> { [(s / n, s % n)] = 0 };
        var queue = new Queue<(int R, int C)>([(s / n, s % n)]);
        while (queue.TryDequeue(out (int R, int C) q))
        {
            if (q.R * n + q.C == g) return seen[q];
            foreach ((int r, int c) in new[] { (q.R + 1, q.C), (q.R - 1, q.C), (q.R, q.C + 1), (q.R, q.C - 1) })
            {
                if (r < 0 || c < 0 || r >= n || c >= n || maze[r * n + c] == MazeBoard.Wall || seen.ContainsKey((r, c))) continue;
                seen[(r, c)] = seen[q] + 1;
                queue.Enqueue((r, c));
            }
        }
        return -1;
    }

    [Fact]
    public void Generated_labels_are_shortest_paths_and_do_not_depend_on_threads()
    {
        var o = new MazeGeneratorOptions { Seed = 4, MinPathLength = 60, Threads = 1 };
        MazeRecord[] one = MazeGenerator.Generate(40, o, TestContext.Current.CancellationToken);
        MazeRecord[] two = MazeGenerator.Generate(40, o with { Threads = 2 }, TestContext.Current.CancellationToken);
        for (int i = 0; i < one.Length; i++)
        {
            MazeRecord m = one[i];
            Assert.Equal(m.Puzzle, two[i].Puzzle);
            Assert.Equal(m.Solution, two[i].Solution);
            Assert.Equal(900, m.Puzzle.Length);
            Assert.Null(MazeBoard.FindPuzzleError(m.Puzzle));
            Assert.Null(MazeCsv.FindLabelError(m.Puzzle, m.Solution));
            int shortest = Bfs(m.Puzzle);
            Assert.True(shortest >= 60, $"maze {i}: {shortest} moves");
            Assert.Equal(shortest, m.Rating);
            Assert.Equal(shortest - 1, m.Solution.Count(t => t == MazeBoard.Path));   // path cells = moves - 1
            MazePathCheck c = MazePaths.Check(m.Puzzle, m.Solution);
            Assert.True(c.IsShortest, c.Problem);
            // Walking the 'o' cells from S reaches G one step at a time: a connected route of exactly that length.
            byte[] walk = (byte[])m.Solution.Clone();
            int at = Array.IndexOf(walk, MazeBoard.Start), steps = 0;
            while (walk[at] != MazeBoard.Goal)
            {
                int next = new[] { at - 30, at + 30, at % 30 > 0 ? at - 1 : -1, at % 30 < 29 ? at + 1 : -1 }
                    .First(k => k >= 0 && k < 900 && (walk[k] == MazeBoard.Path || (walk[k] == MazeBoard.Goal)));
                if (walk[at] == MazeBoard.Path) walk[at] = MazeBoard.Open;
                at = next;
                steps++;
            }
            Assert.Equal(shortest, steps);
        }
        Assert.NotEqual(one[0].Puzzle, one[1].Puzzle);
        Assert.Throws<ArgumentException>(() => MazeGenerator.Generate(1, o with { MinPathLength = 0 }, TestContext.Current.CancellationToken));
    }

    [Fact]
    public void Path_checks_catch_walls_gaps_and_detours()
    {
        byte[] maze = Parse(Small);
        Assert.Equal(6, MazePaths.ShortestLength(maze));
        byte[] label = MazePaths.Label(maze);
        Assert.True(MazePaths.Check(maze, label).IsShortest);
        byte[] detour = Parse("So #", "o#o#", "o#oo", "oooG");
        Assert.Equal(MazeBoard.Open, detour[1]);               // 'o' in a file reads as open
        byte[] route = (byte[])maze.Clone();
        foreach (int i in new[] { 4, 8, 12, 13, 14 }) route[i] = MazeBoard.Path;   // down the left, along the bottom
        MazePathCheck ok = MazePaths.Check(maze, route);
        Assert.True(ok.IsShortest);
        route[2] = MazeBoard.Path;                              // a stray cell cut off from the route
        MazePathCheck cut = MazePaths.Check(maze, route);
        Assert.False(cut.Valid);
        Assert.Contains("cut off", cut.Problem, StringComparison.Ordinal);
        route[2] = MazeBoard.Open;
        route[1] = MazeBoard.Path;                              // a connected extra cell: valid but longer than shortest
        MazePathCheck longer = MazePaths.Check(maze, route);
        Assert.True(longer.Valid);
        Assert.False(longer.IsShortest);
        route[5] = MazeBoard.Path;                              // over a wall
        Assert.Contains("wall", MazePaths.Check(maze, route).Problem, StringComparison.Ordinal);
        byte[] gap = (byte[])maze.Clone();
        gap[4] = MazeBoard.Path;
        Assert.Contains("does not connect", MazePaths.Check(maze, gap).Problem, StringComparison.Ordinal);
        Assert.Throws<PuzzleFormatException>(() => Parse("S  #", " # #", " #  ", "   S"));
        Assert.Throws<PuzzleFormatException>(() => Parse("S x#", " # #", " #  ", "   G"));
        Assert.Equal(string.Join('\n', Small), MazeBoard.Format(maze));
        byte[] trimmed = MazeBoard.ParseText("\nS  #\n\n #\n   G\n\n");   // editors trim trailing spaces and blank rows
        Assert.Equal(16, trimmed.Length);
        Assert.All(trimmed[4..8], t => Assert.Equal(MazeBoard.Open, t));
        Assert.Equal(MazeBoard.Open, trimmed[10]);
    }

    [Fact]
    public void Csv_round_trips_and_malformed_rows_name_line_and_column()
    {
        MazeRecord[] mazes = MazeGenerator.Generate(3, new MazeGeneratorOptions { Seed = 1, MinPathLength = 30, Threads = 1 },
            TestContext.Current.CancellationToken);
        MazeCsv.Write(P("m.csv"), mazes);
        List<MazeRecord> back = MazeCsv.Read(P("m.csv"));
        Assert.Equal(mazes.Select(m => m.Solution), back.Select(m => m.Solution));
        Assert.Equal(mazes.Select(m => m.Rating), back.Select(m => m.Rating));
        string row = File.ReadAllLines(P("m.csv"))[1];
        string[] f = row.Split(',');
        File.WriteAllText(P("bad1.csv"), $"h\n{f[0]},{f[1]},{f[2].Replace('o', 'x')},1\n");
        HrmFormatException e = Assert.Throws<HrmFormatException>(() => MazeCsv.Read(P("bad1.csv")));
        Assert.Equal("line 2, solution", e.Field);
        File.WriteAllText(P("bad2.csv"), $"h\n{f[0]},{f[1][..899]},{f[2]},1\n");
        Assert.Contains("899", Assert.Throws<HrmFormatException>(() => MazeCsv.Read(P("bad2.csv"))).Message, StringComparison.Ordinal);
        File.WriteAllText(P("bad3.csv"), $"h\n{f[0]},{f[1].Replace('G', ' ')},{f[2]},1\n");
        Assert.Equal("line 2, puzzle", Assert.Throws<HrmFormatException>(() => MazeCsv.Read(P("bad3.csv"))).Field);
        File.WriteAllText(P("bad4.csv"), $"h\n{f[0]},{f[1]},{f[1].Replace(' ', 'o').Replace('#', ' ')},1\n");
        Assert.Contains("only open cells may change", Assert.Throws<HrmFormatException>(() => MazeCsv.Read(P("bad4.csv"))).Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public void A_built_dataset_round_trips_through_the_reader_with_dihedral_views()
    {
        MazeRecord[] mazes = MazeGenerator.Generate(3, new MazeGeneratorOptions { Seed = 2, MinPathLength = 20, Threads = 2 },
            TestContext.Current.CancellationToken);
        MazeDatasetBuilder.Build(P("ds"), mazes[..2], mazes[2..], aug: true);
        using PuzzleDataset train = PuzzleDataset.Open(P("ds"), "train");
        using PuzzleDataset test = PuzzleDataset.Open(P("ds"), "test");
        Assert.Equal(new DatasetMetadata(0, 0, 0, 6, 900, 1, 2, 1.0, ["all"]), train.Metadata);
        Assert.Equal(new DatasetMetadata(0, 0, 0, 6, 900, 1, 1, 1.0, ["all"]), test.Metadata);
        Assert.Equal([0, 8, 16], train.GroupIndices.ToArray());
        Assert.Equal(Enumerable.Range(0, 17), train.PuzzleIndices.ToArray());
        Assert.All(train.PuzzleIdentifiers.ToArray(), id => Assert.Equal(0, id));
        int[] x = new int[900], y = new int[900];
        byte[] expected = new byte[900];
        for (int e = 0; e < 16; e++)
        {
            train.ReadExample(e, x, y);
            Dihedral.Apply(e % 8, mazes[e / 8].Puzzle, 30, 30, expected);
            Assert.Equal(expected.Select(b => (int)b), x);
            byte[] label = [.. y.Select(v => (byte)v)];
            Assert.True(MazePaths.Check([.. x.Select(v => (byte)v)], label).IsShortest);   // a transformed shortest path is one
        }
        test.ReadExample(0, x, y);
        Assert.Equal(mazes[2].Solution.Select(b => (int)b), y);
        Assert.Equal(["<blank>"], DatasetIdentifiers.Read(P("ds"))!);
    }
}
