using System.Text.Json;
using Hrm.Runtime.Arc;
using Hrm.Train.Data;

namespace Hrm.Train.Tests.Data;

/// <summary>Crafted ARC task folders and the location of the shared real task files.</summary>
internal static class ArcTestData
{
    /// <summary>
    /// The shared ARC task folder (<c>../shared/data/arc</c> from the repository root, or $HRM_ARC_DATA), or null
    /// when it is absent; tests skip with <see cref="MissingReason"/> then.
    /// </summary>
    public static string? SharedRoot()
    {
        string? env = Environment.GetEnvironmentVariable("HRM_ARC_DATA");
        if (!string.IsNullOrEmpty(env)) return Directory.Exists(env) ? env : null;
        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (!File.Exists(Path.Combine(d.FullName, "Hrm.sln"))) continue;
            string arc = Path.GetFullPath(Path.Combine(d.FullName, "..", "shared", "data", "arc"));
            return Directory.Exists(Path.Combine(arc, "ARC-AGI-1")) ? arc : null;
        }
        return null;
    }

    public const string MissingReason =
        "the shared ARC task files are absent (../shared/data/arc from the repository root; set HRM_ARC_DATA to a copy)";

    public static string Json(ArcPair[] train, ArcPair[] test) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["train"] = train.Select(Pair).ToArray(),
        ["test"] = test.Select(Pair).ToArray(),
    });

    private static Dictionary<string, int[][]> Pair(ArcPair p) => new() { ["input"] = p.Input.ToRows(), ["output"] = p.Output.ToRows() };

    public static ArcPair P(ArcGrid input, ArcGrid output) => new(input, output);

    /// <summary>
    /// A dataset folder with training/{t1,t2}.json and evaluation/e1.json (two test pairs): small grids with
    /// several colours so that augmentations are distinct.
    /// </summary>
    public static void WriteCrafted(string folder)
    {
        Directory.CreateDirectory(Path.Combine(folder, "training"));
        Directory.CreateDirectory(Path.Combine(folder, "evaluation"));
        ArcGrid a = ArcGrid.FromRows([1, 2, 0], [3, 4, 5]), b = ArcGrid.FromRows([5, 4, 3], [0, 2, 1]);
        ArcGrid c = ArcGrid.FromRows([6, 7], [8, 9], [0, 1]), d = ArcGrid.FromRows([9, 8, 7, 6]);
        File.WriteAllText(Path.Combine(folder, "training", "t1.json"), Json([P(a, b), P(b, a)], [P(c, d)]));
        File.WriteAllText(Path.Combine(folder, "training", "t2.json"), Json([P(c, c)], [P(d, d)]));
        File.WriteAllText(Path.Combine(folder, "evaluation", "e1.json"), Json([P(a, c), P(d, b)], [P(b, d), P(c, a)]));
    }
}
