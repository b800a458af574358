using System.Text.Json;
using Hrm.Runtime.Config;

namespace Hrm.Train.Cli;

/// <summary>Where a command's architecture comes from: <c>--config FILE</c> or <c>--preset NAME</c>.</summary>
internal static class ConfigSource
{
    /// <summary>
    /// Reads a JSON config file: either an object of architecture keys, or a run config whose <c>arch</c> member
    /// is one (the shape of the reference's all_config.yaml converted to JSON). Warnings go to stderr.
    /// </summary>
    public static HrmConfig FromFile(string path, TextWriter warn)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HrmConfigException($"{path}: cannot read the config file ({e.Message})", e);
        }
        var warnings = new List<string>();
        HrmConfig cfg;
        try
        {
            using JsonDocument doc = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
            JsonElement root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("arch", out JsonElement arch))
                cfg = HrmConfigJson.FromElement(arch, warnings, $"{path}: arch");
            else
                cfg = HrmConfigJson.FromElement(root, warnings, path);
        }
        catch (JsonException e)
        {
            throw new HrmConfigException($"{path}: not valid JSON ({e.Message})", e);
        }
        foreach (string w in warnings) warn.WriteLine("hrm: warning: " + w);
        return cfg;
    }

    /// <summary>--config or --preset (exactly one, unless <paramref name="optional"/>; then null when neither).</summary>
    public static HrmConfig? FromArgs(CliArgs args, string command, TextWriter warn, bool optional = false)
    {
        string? file = args.Get("config"), preset = args.Get("preset");
        if (file != null && preset != null) throw new UsageException(command, "give --config or --preset, not both");
        if (file != null) return FromFile(file, warn);
        if (preset != null) return HrmPresets.Get(preset);
        if (optional) return null;
        throw new UsageException(command, $"give --config FILE or --preset NAME ({string.Join(", ", HrmPresets.Names)})");
    }
}
