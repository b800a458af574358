using Hrm.Runtime.Formats;
using Hrm.Train.Data;

namespace Hrm.Train.Tests.Data;

/// <summary>A small valid dataset: seq_len 4, vocab 6, 5 examples in 3 puzzles in 2 groups.</summary>
internal static class DatasetFixture
{
    public const int SeqLen = 4;

    public static readonly DatasetMetadata Meta = new(PadId: 0, IgnoreLabelId: 0, BlankIdentifierId: 0, VocabSize: 6,
        SeqLen: SeqLen, NumPuzzleIdentifiers: 3, TotalGroups: 2, MeanPuzzleExamples: 5.0 / 3, Sets: ["all"]);

    public static readonly byte[] Inputs = [1, 2, 3, 4, 5, 4, 3, 2, 1, 1, 1, 1, 0, 5, 0, 5, 2, 2, 3, 3];

    public static readonly byte[] Labels = [2, 0, 3, 4, 5, 5, 3, 0, 0, 0, 1, 1, 2, 5, 3, 5, 4, 4, 3, 3];

    public static readonly int[] PuzzleIdentifiers = [1, 2, 1];

    public static readonly int[] PuzzleIndices = [0, 2, 3, 5];

    public static readonly int[] GroupIndices = [0, 2, 3];

    public static void Write(string root, string split = "train", DatasetMetadata? meta = null) =>
        DatasetWriter.Write(root, split, meta ?? Meta, "all", Inputs, Labels, PuzzleIdentifiers, PuzzleIndices,
            GroupIndices);

    public static string File(string root, string field, string split = "train") =>
        Path.Combine(root, split, $"all__{field}.npy");

    public static void WriteInt32(string root, string field, int[] data, params long[] shape) =>
        Npy.WriteInt32(File(root, field), data, shape);
}
