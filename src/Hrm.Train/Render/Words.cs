namespace Hrm.Train.Render;

/// <summary>Small wording helpers for picture captions.</summary>
internal static class Words
{
    /// <summary>"1 cell", "2 cells".</summary>
    public static string Count(int count, string noun) => $"{count} {noun}{(count == 1 ? "" : "s")}";
}
