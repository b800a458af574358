using Hrm.Runtime.Numerics;
using Hrm.Runtime.Puzzles;
using Hrm.Train.Data;
using static Hrm.Train.Tests.Data.SudokuTestData;

namespace Hrm.Train.Tests.Data;

public sealed class SudokuAugmentTests
{
    private static int[] SortedDigitCounts(byte[] grid, int n)
    {
        int[] counts = new int[n];
        foreach (byte d in grid)
        {
            if (d != 0) counts[d - 1]++;
        }
        Array.Sort(counts);
        return counts;
    }

    public static TheoryData<int> Sizes => [4, 6, 9];

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Variants_are_valid_puzzle_solution_pairs_with_the_same_givens_profile(int n)
    {
        SudokuRecord baseRecord = n == 9
            ? Record(Hard, HardSolution)
            : SudokuGenerator.Generate(1, new SudokuGeneratorOptions { Size = n, Seed = 2, Threads = 1 },
                TestContext.Current.CancellationToken)[0];
        var solver = new SudokuSolver(n);
        var rng = new HrmRandom(99);
        var distinct = new HashSet<string>();
        for (int i = 0; i < 300; i++)
        {
            SudokuRecord v = SudokuAugment.Apply(baseRecord, rng);
            Assert.True(SudokuBoard.IsValidSolution(v.Solution, v.Puzzle), SudokuText.Format(v.Solution));
            Assert.Equal(SudokuBoard.CountGivens(baseRecord.Puzzle), SudokuBoard.CountGivens(v.Puzzle));
            Assert.Equal(SortedDigitCounts(baseRecord.Puzzle, n), SortedDigitCounts(v.Puzzle, n));
            if (i < 30)
            {
                byte[] solved = new byte[n * n];
                Assert.Equal(1, solver.Solve(v.Puzzle, solved).SolutionCount);
                Assert.Equal(v.Solution, solved);
            }
            distinct.Add(string.Concat(v.Puzzle));
        }
        Assert.True(distinct.Count > 250, $"{distinct.Count} distinct variants of 300");
    }

    [Fact]
    public void Same_seed_same_variant_and_in_place_works()
    {
        SudokuRecord r = Record(Easy, EasySolution);
        SudokuRecord a = SudokuAugment.Apply(r, new HrmRandom(5));
        byte[] p = (byte[])r.Puzzle.Clone();
        byte[] s = (byte[])r.Solution.Clone();
        SudokuAugment.Apply(p, s, p, s, new HrmRandom(5));
        Assert.Equal(a.Puzzle, p);
        Assert.Equal(a.Solution, s);
        Assert.Equal(Digits(Easy), r.Puzzle);
    }

    [Fact]
    public void Nine_by_nine_transposes_about_half_the_time()
    {
        // Row 1 of the solution is a set of 9 digits; after the transform it is a row of the new board unless the
        // board was transposed, in which case it becomes a column. Digit relabelling keeps the blank pattern's
        // row/column structure, so count the variants whose blank pattern is a row-permutation image.
        byte[] grid = new byte[81];
        for (int c = 0; c < 9; c++) grid[c] = (byte)(c + 1);
        byte[] solution = Digits(EasySolution);
        byte[] puzzle = new byte[81];
        for (int c = 0; c < 9; c++) puzzle[c] = solution[c];
        var rng = new HrmRandom(1);
        int transposed = 0;
        byte[] po = new byte[81], so = new byte[81];
        for (int i = 0; i < 400; i++)
        {
            SudokuAugment.Apply(puzzle, solution, po, so, rng);
            bool fullRow = Enumerable.Range(0, 9).Any(r => Enumerable.Range(0, 9).All(c => po[r * 9 + c] != 0));
            if (!fullRow) transposed++;
        }
        Assert.InRange(transposed, 150, 250);
    }
}
