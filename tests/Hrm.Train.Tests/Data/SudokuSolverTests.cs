using System.Diagnostics;
using Hrm.Runtime.Puzzles;
using Hrm.Train.Data;
using static Hrm.Train.Tests.Data.SudokuTestData;

namespace Hrm.Train.Tests.Data;

public sealed class SudokuSolverTests
{
    [Theory]
    [InlineData(Easy, EasySolution)]
    [InlineData(Hard, HardSolution)]
    [InlineData(Hard2, Hard2Solution)]
    public void Solves_known_puzzles_uniquely(string puzzle, string expected)
    {
        var solver = new SudokuSolver();
        byte[] solution = new byte[81];
        SudokuSolveResult r = solver.Solve(Digits(puzzle), solution);
        Assert.Equal(1, r.SolutionCount);
        Assert.True(r.IsUnique);
        Assert.Equal(expected, string.Concat(solution));
        Assert.True(SudokuBoard.IsValidSolution(solution, Digits(puzzle)));
    }

    [Fact]
    public void The_classic_hard_puzzle_starts_812753649()
    {
        byte[] solution = new byte[81];
        new SudokuSolver().Solve(Digits(Hard), solution);
        Assert.StartsWith("812753649", string.Concat(solution), StringComparison.Ordinal);
    }

    [Fact]
    public void Rating_is_zero_for_singles_and_pinned_for_known_hard_puzzles()
    {
        var solver = new SudokuSolver();
        Assert.Equal(0, solver.Rate(Digits(Easy)));
        // Deterministic (MRV, lowest cell on ties, ascending digits): pinned so a change of definition shows.
        Assert.Equal(172, solver.Rate(Digits(Hard)));
        Assert.Equal(25, solver.Rate(Digits(Hard2)));
        // Counting more solutions does not change the rating.
        Assert.Equal(172, solver.Solve(Digits(Hard), [], 2).Rating);
        Assert.Equal(172, solver.Solve(Digits(Hard), [], 5).Rating);
    }

    [Fact]
    public void Counts_zero_one_and_many_solutions()
    {
        var solver = new SudokuSolver();
        Assert.Equal(2, solver.CountSolutions(new byte[81], 2));
        Assert.Equal(7, solver.CountSolutions(new byte[81], 7));
        Assert.Equal(1, solver.CountSolutions(Digits(Hard), 10));
        // Remove a given of the unique puzzle until it has several solutions.
        byte[] loose = Digits(Easy);
        loose[0] = loose[1] = loose[4] = loose[9] = 0;
        loose[12] = loose[13] = loose[14] = 0;
        Assert.True(solver.CountSolutions(loose, 100) > 1);
        // No duplicate given, but cell (1,9) must be 9 and column 9 already has one.
        byte[] impossible = Digits("12345678." + "........9" + new string('.', 63));
        Assert.Equal(0, solver.CountSolutions(impossible));
        byte[] untouched = new byte[81];
        Assert.Equal(0, solver.Solve(impossible, untouched).SolutionCount);
        Assert.All(untouched, d => Assert.Equal(0, d));
        // Duplicate givens.
        byte[] duplicate = new byte[81];
        duplicate[0] = duplicate[5] = 3;
        Assert.Equal(0, solver.CountSolutions(duplicate));
    }

    [Fact]
    public void Small_boards_count_correctly()
    {
        Assert.Equal(288, new SudokuSolver(4).CountSolutions(new byte[16], 1000));
        var six = new SudokuSolver(6);
        byte[] full = new byte[36];
        Assert.True(six.FillRandom(full, new(3)));
        Assert.True(SudokuBoard.IsValidSolution(full, []));
        Assert.Equal(1, six.CountSolutions(full));
    }

    [Fact]
    public void FillRandom_makes_valid_distinct_boards_and_completes_givens()
    {
        var solver = new SudokuSolver();
        var rng = new Hrm.Runtime.Numerics.HrmRandom(11);
        var seen = new HashSet<string>();
        for (int i = 0; i < 20; i++)
        {
            byte[] board = new byte[81];
            Assert.True(solver.FillRandom(board, rng));
            Assert.True(SudokuBoard.IsValidSolution(board, []));
            seen.Add(string.Concat(board));
        }
        Assert.Equal(20, seen.Count);
        byte[] grid = Digits(Hard);
        Assert.True(solver.FillRandom(grid, rng));
        Assert.Equal(HardSolution, string.Concat(grid));
    }

    [Fact]
    public void Rejects_bad_input()
    {
        var solver = new SudokuSolver();
        Assert.Throws<ArgumentException>(() => solver.Solve(new byte[80], []));
        byte[] bad = new byte[81];
        bad[3] = 10;
        Assert.Contains("cell 3", Assert.Throws<ArgumentException>(() => solver.Solve(bad, [])).Message,
            StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SudokuSolver(5));
    }

    [Fact]
    public void Finds_exactly_one_solution_of_hard_and_generated_puzzles()
    {
        // Speed is a benchmark concern (README: generator rates), not a unit-test assertion.
        var solver = new SudokuSolver();
        byte[][] puzzles = [Digits(Hard), Digits(Hard2), Digits(Easy),
            .. SudokuGenerator.Generate(8, new SudokuGeneratorOptions { Seed = 5, MinRating = 20, Threads = 2 },
                TestContext.Current.CancellationToken)
                .Select(r => r.Puzzle)];
        foreach (byte[] p in puzzles) Assert.Equal(1, solver.Solve(p, [], 2).SolutionCount);
    }
}
