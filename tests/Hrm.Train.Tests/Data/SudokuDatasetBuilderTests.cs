using Hrm.Runtime.Numerics;
using Hrm.Runtime.Puzzles;
using Hrm.Train.Data;
using static Hrm.Train.Tests.Data.SudokuTestData;

namespace Hrm.Train.Tests.Data;

public sealed class SudokuDatasetBuilderTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("hrm-sudoku-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string Root => _dir.FullName;

    private static SudokuRecord[] Train => [Record(Hard, HardSolution, 172), Record(Easy, EasySolution), Record(Hard2, Hard2Solution, 25)];

    private static SudokuRecord[] Test => [Record(Easy, EasySolution), Record(Hard, HardSolution)];

    private static (byte[] Puzzle, byte[] Solution) Decode(PuzzleDataset ds, int example)
    {
        int[] x = new int[ds.SeqLen], y = new int[ds.SeqLen];
        ds.ReadExample(example, x, y);
        byte[] puzzle = new byte[x.Length], solution = new byte[y.Length];
        SudokuBoard.FromTokens(x, puzzle);
        SudokuBoard.FromTokens(y, solution);
        return (puzzle, solution);
    }

    [Fact]
    public void Builds_the_reference_layout()
    {
        SudokuDatasetBuilder.Build(Root, Train, Test, numAug: 4, new HrmRandom(1));
        using (PuzzleDataset train = PuzzleDataset.Open(Root, "train"))
        {
            Assert.Equal(new DatasetMetadata(0, 0, 0, 11, 81, 1, 3, 1.0, ["all"]), train.Metadata);
            Assert.Equal(15, train.ExampleCount);
            Assert.Equal(15, train.PuzzleCount);
            Assert.Equal(Enumerable.Range(0, 16), train.PuzzleIndices.ToArray());
            Assert.Equal([0, 5, 10, 15], train.GroupIndices.ToArray());
            Assert.All(train.PuzzleIdentifiers.ToArray(), id => Assert.Equal(0, id));
            for (int g = 0; g < 3; g++)
            {
                (byte[] p0, byte[] s0) = Decode(train, g * 5);
                Assert.Equal(Train[g].Puzzle, p0);
                Assert.Equal(Train[g].Solution, s0);
                for (int a = 1; a < 5; a++)
                {
                    (byte[] p, byte[] s) = Decode(train, g * 5 + a);
                    Assert.True(SudokuBoard.IsValidSolution(s, p));
                    Assert.Equal(SudokuBoard.CountGivens(Train[g].Puzzle), SudokuBoard.CountGivens(p));
                    Assert.NotEqual(Train[g].Puzzle, p);
                }
            }
            int[] x = new int[81], y = new int[81];
            train.ReadExample(0, x, y);
            Assert.All(y, v => Assert.InRange(v, 2, 10)); // labels are digits only: every cell is supervised
            Assert.Contains(1, x);
        }
        using (PuzzleDataset test = PuzzleDataset.Open(Root, "test"))
        {
            Assert.Equal(2, test.ExampleCount);
            Assert.Equal([0, 1, 2], test.GroupIndices.ToArray());
            Assert.Equal(2, test.Metadata.TotalGroups);
            Assert.Equal(Test[1].Puzzle, Decode(test, 1).Puzzle);
        }
        Assert.Equal(["<blank>"], DatasetIdentifiers.Read(Root)!);
    }

    [Fact]
    public void Same_seed_same_bytes_and_small_boards_work()
    {
        SudokuDatasetBuilder.Build(Path.Combine(Root, "a"), Train, Test, 3, new HrmRandom(9));
        SudokuDatasetBuilder.Build(Path.Combine(Root, "b"), Train, Test, 3, new HrmRandom(9));
        foreach (string f in new[] { "train/all__inputs.npy", "train/all__labels.npy", "train/dataset.json" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(Root, "a", f)), File.ReadAllBytes(Path.Combine(Root, "b", f)));
        SudokuRecord[] six = SudokuGenerator.Generate(3, new SudokuGeneratorOptions { Size = 6, Seed = 1, Threads = 1 },
            TestContext.Current.CancellationToken);
        SudokuDatasetBuilder.Build(Path.Combine(Root, "six"), six, [], 2, new HrmRandom(1));
        using PuzzleDataset ds = PuzzleDataset.Open(Path.Combine(Root, "six"), "train");
        Assert.Equal(8, ds.Metadata.VocabSize);
        Assert.Equal(36, ds.SeqLen);
        Assert.Equal(9, ds.ExampleCount);
        (byte[] p, byte[] s) = Decode(ds, 4);
        Assert.True(SudokuBoard.IsValidSolution(s, p));
        using PuzzleDataset empty = PuzzleDataset.Open(Path.Combine(Root, "six"), "test");
        Assert.Equal(0, empty.ExampleCount);
    }

    [Fact]
    public void Rejects_bad_records()
    {
        Assert.Throws<ArgumentException>(() => SudokuDatasetBuilder.Build(Root, [], [], 1, new HrmRandom(1)));
        SudokuRecord wrong = Record(Hard, EasySolution);
        Assert.Contains("train[1]", Assert.Throws<ArgumentException>(
            () => SudokuDatasetBuilder.Build(Root, [Train[0], wrong], [], 1, new HrmRandom(1))).Message,
            StringComparison.Ordinal);
        SudokuRecord small = new(new byte[16], SudokuText.Parse("1234341221434321", 4), 0);
        Assert.Throws<ArgumentException>(() => SudokuDatasetBuilder.Build(Root, Train, [small], 1, new HrmRandom(1)));
    }
}
