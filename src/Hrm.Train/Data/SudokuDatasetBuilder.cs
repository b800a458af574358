using Hrm.Runtime.Numerics;
using Hrm.Runtime.Puzzles;

namespace Hrm.Train.Data;

/// <summary>
/// Builds a Sudoku dataset directory exactly like the reference's <c>build_sudoku_dataset.py</c> (spec 5.2):
/// train split: each base puzzle is a group of the original plus <c>numAug</c> augmented variants
/// (<see cref="SudokuAugment"/>), each variant its own puzzle with one example; test split: no augmentation,
/// each puzzle its own group. Tokens are digit + 1 (1 = blank); all identifiers are 0; identifiers.json is
/// ["&lt;blank&gt;"].
/// </summary>
public static class SudokuDatasetBuilder
{
    /// <summary>Writes <c>outDir/train</c>, <c>outDir/test</c> and <c>outDir/identifiers.json</c>.</summary>
    /// <param name="outDir">The dataset directory (created if needed).</param>
    /// <param name="train">Base training puzzles (after any filtering and subsampling).</param>
    /// <param name="test">Test puzzles.</param>
    /// <param name="numAug">Augmented variants per training puzzle (0 = none).</param>
    /// <param name="rng">Draws the augmentations, puzzle by puzzle in order.</param>
    /// <exception cref="ArgumentException">
    /// No records, mixed board sizes, or a record that is not a valid puzzle/solution pair.
    /// </exception>
    public static void Build(string outDir, IReadOnlyList<SudokuRecord> train, IReadOnlyList<SudokuRecord> test,
        int numAug, HrmRandom rng)
    {
        ArgumentNullException.ThrowIfNull(outDir);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentOutOfRangeException.ThrowIfNegative(numAug);
        int cells = CheckRecords(train, test);
        WriteSplit(outDir, "train", train, numAug, cells, rng);
        WriteSplit(outDir, "test", test, 0, cells, rng);
        DatasetWriter.WriteIdentifiers(outDir, [DatasetIdentifiers.Blank]);
    }

    /// <summary>The metadata of a Sudoku split of <paramref name="groups"/> base puzzles.</summary>
    /// <param name="n">The board side.</param>
    /// <param name="groups">Base puzzles in the split.</param>
    /// <returns>pad 0, ignore 0, blank id 0, vocab n + 2, seq_len n*n, 1 identifier, mean 1, sets ["all"].</returns>
    public static DatasetMetadata Metadata(int n, int groups) =>
        new(PadId: 0, IgnoreLabelId: 0, BlankIdentifierId: 0, VocabSize: SudokuBoard.VocabSize(n), SeqLen: n * n,
            NumPuzzleIdentifiers: 1, TotalGroups: groups, MeanPuzzleExamples: 1, Sets: ["all"]);

    private static void WriteSplit(string outDir, string split, IReadOnlyList<SudokuRecord> records, int numAug,
        int cells, HrmRandom rng)
    {
        int perGroup = numAug + 1;
        long total = (long)records.Count * perGroup * cells;
        if (total > Array.MaxLength)
        {
            throw new ArgumentException(
                $"{split}: {records.Count} puzzles x {perGroup} variants x {cells} cells exceed one array; use fewer " +
                "puzzles or augmentations", nameof(records));
        }
        int examples = records.Count * perGroup;
        byte[] inputs = new byte[total];
        byte[] labels = new byte[total];
        byte[] puzzle = new byte[cells];
        byte[] solution = new byte[cells];
        for (int i = 0; i < records.Count; i++)
        {
            for (int a = 0; a < perGroup; a++)
            {
                long at = ((long)i * perGroup + a) * cells;
                if (a == 0)
                {
                    records[i].Puzzle.CopyTo(puzzle, 0);
                    records[i].Solution.CopyTo(solution, 0);
                }
                else
                {
                    SudokuAugment.Apply(records[i].Puzzle, records[i].Solution, puzzle, solution, rng);
                }
                SudokuBoard.ToTokens(puzzle, inputs.AsSpan((int)at, cells));
                SudokuBoard.ToTokens(solution, labels.AsSpan((int)at, cells));
            }
        }
        int[] identifiers = new int[examples];
        int[] puzzleIndices = new int[examples + 1];
        for (int p = 0; p <= examples; p++) puzzleIndices[p] = p;
        int[] groupIndices = new int[records.Count + 1];
        for (int g = 0; g <= records.Count; g++) groupIndices[g] = g * perGroup;
        int n = SudokuBoard.SizeFromCells(cells);
        DatasetWriter.Write(outDir, split, Metadata(n, records.Count), "all", inputs, labels, identifiers,
            puzzleIndices, groupIndices);
    }

    private static int CheckRecords(IReadOnlyList<SudokuRecord> train, IReadOnlyList<SudokuRecord> test)
    {
        SudokuRecord? first = train.Count > 0 ? train[0] : test.Count > 0 ? test[0] : null;
        if (first is null) throw new ArgumentException("no puzzles: train and test are both empty", nameof(train));
        int cells = first.Puzzle.Length;
        SudokuBoard.SizeFromCells(cells);
        (string, IReadOnlyList<SudokuRecord>)[] splits = [("train", train), ("test", test)];
        foreach ((string split, IReadOnlyList<SudokuRecord> list) in splits)
        {
            for (int i = 0; i < list.Count; i++)
            {
                SudokuRecord r = list[i];
                if (r.Puzzle.Length != cells || r.Solution.Length != cells)
                {
                    throw new ArgumentException(
                        $"{split}[{i}] has {r.Puzzle.Length}/{r.Solution.Length} cells; the first record has {cells}",
                        nameof(train));
                }
                string? problem = SudokuBoard.FindSolutionError(r.Solution, r.Puzzle);
                if (problem is not null)
                    throw new ArgumentException($"{split}[{i}]: the solution is invalid: {problem}", nameof(train));
            }
        }
        return cells;
    }
}
