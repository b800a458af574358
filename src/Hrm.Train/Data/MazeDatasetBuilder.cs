using Hrm.Runtime.Arc;
using Hrm.Runtime.Puzzles;

namespace Hrm.Train.Data;

/// <summary>
/// Builds a maze dataset like the reference's <c>build_maze_dataset.py</c> (spec 5.3): tokens "# SGo" = 1..5,
/// V = 6, seq_len n*n, every identifier 0, identifiers.json ["&lt;blank&gt;"]. Each maze is a group; with
/// <c>aug</c>, a train group holds the 8 dihedral transforms (identity first), each its own puzzle with one
/// example. The test split is never augmented. Streams to disk.
/// </summary>
public static class MazeDatasetBuilder
{
    /// <summary>Writes <c>outDir/train</c>, <c>outDir/test</c> and <c>outDir/identifiers.json</c>.</summary>
    /// <param name="outDir">The dataset directory.</param>
    /// <param name="train">Train mazes.</param>
    /// <param name="test">Test mazes.</param>
    /// <param name="aug">Add the 8 dihedral transforms to the train split.</param>
    /// <exception cref="ArgumentException">No mazes, mixed sizes, or a malformed record.</exception>
    public static void Build(string outDir, IReadOnlyList<MazeRecord> train, IReadOnlyList<MazeRecord> test, bool aug)
    {
        ArgumentNullException.ThrowIfNull(outDir);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        MazeRecord first = train.Count > 0 ? train[0] : test.Count > 0 ? test[0]
            : throw new ArgumentException("no mazes: train and test are both empty", nameof(train));
        int cells = first.Puzzle.Length;
        WriteSplit(outDir, "train", train, aug ? Dihedral.Count : 1, cells);
        WriteSplit(outDir, "test", test, 1, cells);
        DatasetWriter.WriteIdentifiers(outDir, [DatasetIdentifiers.Blank]);
    }

    private static void WriteSplit(string outDir, string split, IReadOnlyList<MazeRecord> records, int views, int cells)
    {
        int n = MazeBoard.SideOf(cells);
        using var w = new DatasetStreamWriter(outDir, split, cells, MazeBoard.VocabSize, ignoreLabelId: 0);
        byte[] x = new byte[cells], y = new byte[cells];
        for (int i = 0; i < records.Count; i++)
        {
            MazeRecord r = records[i];
            string? problem = r.Puzzle.Length != cells || r.Solution.Length != cells
                ? $"has {r.Puzzle.Length}/{r.Solution.Length} cells; the first maze has {cells}"
                : MazeBoard.FindPuzzleError(r.Puzzle) ?? MazeCsv.FindLabelError(r.Puzzle, r.Solution);
            if (problem is not null) throw new ArgumentException($"{split}[{i}] {problem}", nameof(records));
            for (int t = 0; t < views; t++)
            {
                Dihedral.Apply(t, r.Puzzle, n, n, x);
                Dihedral.Apply(t, r.Solution, n, n, y);
                w.AddExample(x, y);
                w.EndPuzzle(0);
            }
            w.EndGroup();
        }
        w.Complete(numPuzzleIdentifiers: 1);
    }
}
