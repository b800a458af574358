namespace Hrm.Train.Data;

/// <summary>File names of the on-disk dataset layout (spec 5.1).</summary>
internal static class DatasetLayout
{
    public const string Inputs = "inputs";
    public const string Labels = "labels";
    public const string PuzzleIdentifiers = "puzzle_identifiers";
    public const string PuzzleIndices = "puzzle_indices";
    public const string GroupIndices = "group_indices";
    public const string IdentifiersFile = Hrm.Runtime.Arc.ArcIdentifiers.FileName;

    /// <summary><c>root/split</c>.</summary>
    public static string SplitDir(string root, string split) => Path.Combine(root, split);

    /// <summary><c>root/split/{set}__{field}.npy</c>.</summary>
    public static string Array(string root, string split, string set, string field) =>
        Path.Combine(root, split, $"{set}__{field}.npy");
}
