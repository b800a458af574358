using Hrm.Runtime.Puzzles;
using Hrm.Train.Data;

namespace Hrm.Train.Tests.Data;

public sealed class SudokuGeneratorTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static void AssertWellFormed(SudokuRecord[] records, SudokuGeneratorOptions o)
    {
        var solver = new SudokuSolver(o.Size);
        foreach (SudokuRecord r in records)
        {
            Assert.Equal(o.Size, r.Size);
            byte[] solved = new byte[r.Puzzle.Length];
            SudokuSolveResult s = solver.Solve(r.Puzzle, solved);
            Assert.Equal(1, s.SolutionCount);
            Assert.Equal(r.Solution, solved);
            Assert.True(SudokuBoard.IsValidSolution(r.Solution, r.Puzzle));
            int givens = SudokuBoard.CountGivens(r.Puzzle);
            Assert.InRange(givens, o.MinGivens, Math.Min(o.MaxGivens, r.Puzzle.Length));
            Assert.InRange(r.Rating, o.MinRating, o.MaxRating);
            Assert.Equal(s.Rating, r.Rating);
            Assert.Equal(SudokuGenerator.SourceName, r.Source);
        }
    }

    [Fact]
    public void Easy_band_is_unique_valid_in_band_and_the_same_on_1_and_2_threads()
    {
        var o = new SudokuGeneratorOptions { Seed = 42, MinGivens = 40, MaxGivens = 45, Threads = 1 };
        SudokuRecord[] one = SudokuGenerator.Generate(40, o, Ct);
        SudokuRecord[] two = SudokuGenerator.Generate(40, o with { Threads = 2 }, Ct);
        AssertWellFormed(one, o);
        for (int i = 0; i < one.Length; i++)
        {
            Assert.Equal(one[i].Puzzle, two[i].Puzzle);
            Assert.Equal(one[i].Solution, two[i].Solution);
            Assert.Equal(one[i].Rating, two[i].Rating);
        }
        Assert.Equal(40, one.Select(r => string.Concat(r.Puzzle)).Distinct().Count());
        // A prefix is stable: puzzle i depends only on (seed, i).
        Assert.Equal(one[3].Puzzle, SudokuGenerator.Generate(4, o, Ct)[3].Puzzle);
        Assert.NotEqual(one[0].Puzzle, SudokuGenerator.Generate(1, o with { Seed = 43 }, Ct)[0].Puzzle);
    }

    [Fact]
    public void Rating_band_is_respected_and_hard_puzzles_have_few_givens()
    {
        var hard = new SudokuGeneratorOptions { Seed = 7, MinRating = 50, Threads = 2 };
        SudokuRecord[] records = SudokuGenerator.Generate(2, hard, Ct);
        AssertWellFormed(records, hard);
        Assert.Equal(records.Select(r => r.Puzzle), SudokuGenerator.Generate(2, hard with { Threads = 1 }, Ct).Select(r => r.Puzzle));
        Assert.All(records, r => Assert.InRange(SudokuBoard.CountGivens(r.Puzzle), 17, 30));
        var band = new SudokuGeneratorOptions { Seed = 8, MinRating = 3, MaxRating = 6, MaxGivens = 28, Threads = 2 };
        AssertWellFormed(SudokuGenerator.Generate(6, band, Ct), band);
        var singles = new SudokuGeneratorOptions { Seed = 9, MaxRating = 0, MinGivens = 26, MaxGivens = 32 };
        AssertWellFormed(SudokuGenerator.Generate(6, singles, Ct), singles);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(6)]
    public void Small_boards_work(int n)
    {
        var o = new SudokuGeneratorOptions { Size = n, Seed = 3, Threads = 2 };
        SudokuRecord[] records = SudokuGenerator.Generate(30, o, Ct);
        AssertWellFormed(records, o);
        Assert.Equal(records.Select(r => r.Puzzle),
            SudokuGenerator.Generate(30, o with { Threads = 1 }, Ct).Select(r => r.Puzzle));
        // Every 4x4 puzzle falls to singles (rating 0); 6x6 ones occasionally need guesses.
        var hardish = new SudokuGeneratorOptions { Size = n, Seed = 4, MinRating = n == 4 ? 0 : 2, Threads = 2 };
        AssertWellFormed(SudokuGenerator.Generate(5, hardish, Ct), hardish);
    }

    [Fact]
    public void Bad_options_are_rejected_and_impossible_bands_give_up()
    {
        Assert.Throws<ArgumentException>(() => SudokuGenerator.Generate(1, new() { Size = 5 }, Ct));
        Assert.Throws<ArgumentException>(() => SudokuGenerator.Generate(1, new() { MinGivens = 30, MaxGivens = 20 }, Ct));
        Assert.Contains("17", Assert.Throws<ArgumentException>(
            () => SudokuGenerator.Generate(1, new() { MaxGivens = 16 }, Ct)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => SudokuGenerator.Generate(1, new() { MinRating = 5, MaxRating = 4 }, Ct));
        Assert.Throws<ArgumentException>(() => SudokuGenerator.Generate(1, new() { Threads = 0 }, Ct));
        var impossible = new SudokuGeneratorOptions { Size = 4, MinRating = 1000, MaxAttemptsPerPuzzle = 3, ClimbSteps = 5 };
        string m = Assert.Throws<InvalidOperationException>(() => SudokuGenerator.Generate(1, impossible, Ct)).Message;
        Assert.Contains("rating 1000..", m, StringComparison.Ordinal);
        Assert.Empty(SudokuGenerator.Generate(0, new(), Ct));
    }
}
