using Hrm.Runtime.Config;
using Hrm.Runtime.Puzzles;
using Hrm.Runtime.Solver;

namespace Hrm.Runtime.Tests.Solver;

/// <summary>The typed Sudoku and maze API over the token entry, and how answers are checked.</summary>
public sealed class PuzzleSolverTests
{
    private const string Sudoku4 = "1.3..4.2.1.34..1";
    private const string Solution4 = "1234341221434321";

    [Fact]
    public async Task Sudoku_results_carry_the_model_answer_of_the_token_entry()
    {
        using var ckpt = new TinyCheckpoint();
        using HrmSolver solver = HrmSolver.Load(ckpt.Path, new SolverOptions { Device = SolverDevice.Cpu, Threads = 2 });
        Assert.Equal(4, solver.SudokuSize);
        SudokuGrid[] puzzles = [SudokuGrid.Parse(Sudoku4), SudokuGrid.Parse("....3..1..2....."), SudokuGrid.Parse(Sudoku4)];
        IReadOnlyList<SudokuResult> results = await solver.SolveAsync(puzzles, TestContext.Current.CancellationToken);
        TokenPrediction raw = solver.Predict([.. puzzles[1].ToDigits().Select(d => d + 1)], [0])[0];
        SolverEquivalenceTests.AssertSame(raw, results[1].Prediction);
        Assert.Equal(raw.Tokens.Select(t => (byte)Math.Max(0, t - 1)), results[1].Answer.ToDigits());
        Assert.Equal(ckpt.Config.HaltMaxSteps, results[1].Segments);
        Assert.Same(puzzles[1], results[1].Puzzle);
        Assert.Equal(results[0].Answer.ToDigits(), results[2].Answer.ToDigits());
        Assert.Equal(results[0].IsValid, results[0].Problem is null);
        Assert.Equal(results[0].Answer.ToDigits(), solver.Solve(puzzles[0]).Answer.ToDigits());
        string m = Assert.Throws<ArgumentException>(() => solver.Solve(SudokuGrid.Parse(new string('.', 81)))).Message;
        Assert.Contains("9x9 Sudoku", m, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => solver.Solve(Maze.Parse(TinyCheckpoint.Maze6)));
    }

    [Fact]
    public void Maze_results_carry_the_model_answer_and_its_check()
    {
        HrmConfig c = TinyCheckpoint.Sudoku4() with { SeqLen = 36, VocabSize = MazeBoard.VocabSize, PuzzleEmbNdim = 0 };
        using var ckpt = new TinyCheckpoint(seed: 2, c);
        using HrmSolver solver = HrmSolver.Load(ckpt.Path, new SolverOptions { Device = SolverDevice.Cpu, Threads = 2 });
        Assert.Null(solver.SudokuSize);
        Maze maze = Maze.Parse(TinyCheckpoint.Maze6);
        MazeResult r = solver.Solve(maze);
        TokenPrediction raw = solver.Predict([.. maze.ToString().Replace("\n", "", StringComparison.Ordinal)
            .Select(ch => (int)MazeBoard.Token(ch))], [0])[0];
        SolverEquivalenceTests.AssertSame(raw, r.Prediction);
        Assert.Equal(10, r.ShortestLength);
        Assert.Equal(r.IsValid, r.Problem is null);
        int marked = raw.Tokens.Where((t, i) => t == MazeBoard.Path && maze.ToString().Replace("\n", "", StringComparison.Ordinal)[i] == ' ').Count();
        Assert.Equal(marked, r.Answer.ToString().Count(ch => ch == 'o'));
    }

    [Fact]
    public void Sudoku_answers_are_checked_against_the_rules_and_the_givens()
    {
        SudokuGrid puzzle = SudokuGrid.Parse(Sudoku4);
        Assert.True(Check(puzzle, Solution4).IsValid);
        SudokuResult wrongGiven = Check(SudokuGrid.Parse("2" + Sudoku4[1..]), Solution4);
        Assert.Contains("(row 1, column 1) is 1 but the puzzle gives 2", wrongGiven.Problem, StringComparison.Ordinal);
        SudokuResult repeated = Check(puzzle, "1234341221434331");
        Assert.Contains("row 4 has 3 twice", repeated.Problem, StringComparison.Ordinal);
        SudokuResult blank = Check(puzzle, "1234341221434.21");
        Assert.Contains("(row 4, column 2) is 0", blank.Problem, StringComparison.Ordinal);
        Assert.Equal(0, blank.Answer[3, 1]);
    }

    [Fact]
    public void Maze_answers_are_checked_as_paths()
    {
        Maze maze = Maze.Parse(TinyCheckpoint.Maze6);
        MazeResult shortest = CheckMaze(maze, "S #   \no # # \no## # \noooo#G\n###ooo\n   #  ");
        Assert.True(shortest.IsValid, shortest.Problem);
        Assert.Equal((10, 10, true, 0), (shortest.PathLength, shortest.ShortestLength, shortest.IsShortest, shortest.OtherChanges));
        Assert.Equal("S #   \no # # \no## # \noooo#G\n###ooo\n   #  ", shortest.Answer.ToString());
        MazeResult longer = CheckMaze(maze, "S #ooo\no #o#o\no##o#o\noooo#G\n###   \n   #  ");
        Assert.True(longer.IsValid, longer.Problem);
        Assert.Equal((14, false), (longer.PathLength, longer.IsShortest));
        Assert.Contains("does not connect the start to the goal",
            CheckMaze(maze, "S #   \no # # \no## # \no oo#G\n###ooo\n   #  ").Problem, StringComparison.Ordinal);
        Assert.Contains("covers a wall at (row 1, column 3)",
            CheckMaze(maze, "S o   \no # # \no## # \noooo#G\n###ooo\n   #  ").Problem, StringComparison.Ordinal);
        MazeResult cutOff = CheckMaze(maze, "S #   \no # # \no## # \noooo#G\n###ooo\no  #  ");
        Assert.Contains("(row 6, column 1) is cut off", cutOff.Problem, StringComparison.Ordinal);
        MazeResult other = CheckMaze(maze, "S #   \no # # \no## # \noooo#G\n###ooo\n#  #  ");
        Assert.True(other.IsShortest);
        Assert.Equal(1, other.OtherChanges);
        Assert.Equal(' ', other.Answer[5, 0]);
    }

    private static SudokuResult Check(SudokuGrid puzzle, string answer) =>
        SudokuResult.From(puzzle, Prediction([.. answer.Select(ch => ch == '.' ? 1 : ch - '0' + 1)]));

    private static MazeResult CheckMaze(Maze puzzle, string answer) =>
        MazeResult.From(puzzle, Prediction([.. answer.Replace("\n", "", StringComparison.Ordinal).Select(ch => (int)MazeBoard.Token(ch))]));

    private static TokenPrediction Prediction(int[] tokens) => new(tokens, 1f, 0f, 3, 2, TimeSpan.FromMilliseconds(1));
}
