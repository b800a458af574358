using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hrm.Runtime.Config;
using Hrm.Runtime.Formats;

namespace Hrm.Train.Training;

/// <summary>
/// JSON form of <see cref="RunConfig"/>: the reference's top-level training keys plus an <c>arch</c> object of
/// architecture keys. <c>--set key=value</c> overrides apply to that JSON before it is read, so they are
/// validated exactly like a file; an architecture key may be written with or without the <c>arch.</c> prefix.
/// </summary>
public static class RunConfigJson
{
    public static readonly IReadOnlyList<string> Keys =
    [
        "arch", "data_path", "global_batch_size", "epochs", "eval_interval", "checkpoint_every_eval", "lr",
        "lr_min_ratio", "lr_warmup_steps", "beta1", "beta2", "weight_decay", "puzzle_emb_lr",
        "puzzle_emb_weight_decay", "seed", "loss_type", "log_interval", "eval_max_steps", "eval_examples", "threads",
        "micro_batch_size",
    ];

    /// <summary>Reference keys we accept and ignore (they configure its infrastructure).</summary>
    public static readonly IReadOnlyList<string> IgnoredKeys = ["project_name", "run_name", "checkpoint_path", "eval_save_outputs"];

    public static JsonObject ToJson(RunConfig c) => new()
    {
        ["arch"] = JsonNode.Parse(HrmConfigJson.Serialize(c.Arch)),
        ["data_path"] = c.DataPath,
        ["global_batch_size"] = c.GlobalBatchSize,
        ["epochs"] = c.Epochs,
        ["eval_interval"] = c.EvalInterval,
        ["checkpoint_every_eval"] = c.CheckpointEveryEval,
        ["lr"] = c.Lr,
        ["lr_min_ratio"] = c.LrMinRatio,
        ["lr_warmup_steps"] = c.LrWarmupSteps,
        ["beta1"] = c.Beta1,
        ["beta2"] = c.Beta2,
        ["weight_decay"] = c.WeightDecay,
        ["puzzle_emb_lr"] = c.PuzzleEmbLr,
        ["puzzle_emb_weight_decay"] = c.PuzzleEmbWeightDecay,
        ["seed"] = c.Seed,
        ["loss_type"] = c.LossType,
        ["log_interval"] = c.LogInterval,
        ["eval_max_steps"] = c.EvalMaxSteps,
        ["eval_examples"] = c.EvalExamples,
        ["threads"] = c.Threads,
        ["micro_batch_size"] = c.MicroBatchSize,
    };

    public static string Serialize(RunConfig c) => ToJson(c).ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    /// <summary>Reads a run config from JSON text, or the YAML of the reference's all_config.yaml (any text that does
    /// not open with '{'), after applying <paramref name="overrides"/> ("key=value").</summary>
    public static RunConfig Parse(string json, IEnumerable<string> overrides, List<string> warnings, string source)
    {
        if (string.IsNullOrWhiteSpace(json)) throw new HrmConfigException($"{source}: the file is empty; expected a run config");
        if (!YamlSubset.IsJsonObject(json)) json = YamlSubset.ToJson(json, source);
        JsonNode? node;
        try
        {
            using (JsonDocument doc = JsonText.Parse(json, comments: true))
            {
                if (JsonText.FirstBadText(doc.RootElement) is { } bad)
                    throw new HrmConfigException($"{source}: {bad}: {JsonText.BadTextMessage}");
            }
            node = JsonNode.Parse(json, documentOptions: JsonText.Options(comments: true));
        }
        catch (JsonException e)
        {
            throw new HrmConfigException($"{source}: not valid JSON ({e.Message})", e);
        }
        if (node is not JsonObject obj) throw new HrmConfigException($"{source}: expected a JSON object");
        var sets = overrides.ToList();
        foreach (string o in sets) ApplyOverride(obj, o);
        try
        {
            return FromJson(obj, warnings, source); // validated there
        }
        catch (HrmConfigException e) when (!e.Message.StartsWith(source + ":", StringComparison.Ordinal))
        {
            // A bad value: name the file too, and the overrides that may have given it.
            string from = sets.Count > 0 ? $"{source} with --set {string.Join(" --set ", sets)}" : source;
            throw new HrmConfigException($"{from}: {e.Message}", e.Field, e);
        }
    }

    /// <summary>Applies one <c>key=value</c> (value parsed as JSON, else taken as a string).</summary>
    public static void ApplyOverride(JsonObject obj, string assignment)
    {
        int eq = assignment.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0) throw new HrmConfigException($"--set '{assignment}': expected key=value");
        string key = assignment[..eq].Trim(), text = assignment[(eq + 1)..].Trim();
        JsonNode? value;
        try
        {
            using (JsonDocument doc = JsonText.Parse(text))
            {
                if (JsonText.FirstBadText(doc.RootElement) is { } bad)
                    throw new HrmConfigException(assignment[..eq].Trim(), $"--set: the value is {JsonText.BadTextMessage}");
            }
            value = JsonNode.Parse(text, documentOptions: JsonText.Options());
        }
        catch (JsonException)
        {
            value = JsonValue.Create(text);
        }
        if (key.StartsWith("arch.", StringComparison.Ordinal)) key = key[5..];
        else if (!HrmConfigJson.Keys.Contains(key) || key == "arch")
        {
            if (!Keys.Contains(key)) throw new HrmConfigException(key, $"--set: unknown key; expected one of {string.Join(", ", Keys.Concat(HrmConfigJson.Keys))}");
            obj[key] = value;
            // The reference's own place for the loss follows the override, so that the two cannot disagree.
            if (key == "loss_type" && obj["arch"] is JsonObject a && a["loss"] is JsonObject loss &&
                loss.ContainsKey("loss_type"))
                loss["loss_type"] = value?.DeepClone();
            return;
        }
        if (obj["arch"] is not JsonObject arch)
        {
            arch = new JsonObject();
            obj["arch"] = arch;
        }
        arch[key] = value;
    }

    private static RunConfig FromJson(JsonObject obj, List<string> warnings, string source)
    {
        var c = new RunConfig();
        string? archLoss = null; // the reference's arch.loss.loss_type (validated by HrmConfigJson)
        foreach ((string key, JsonNode? v) in obj)
        {
            if (key == "arch" && v is JsonObject archObj && archObj["loss"] is JsonObject lossObj &&
                lossObj["loss_type"] is JsonValue lt && lt.TryGetValue(out string? lossType))
                archLoss = lossType;
            string where = $"{source}: {key}";
            c = key switch
            {
                "arch" => c with { Arch = HrmConfigJson.Parse(v?.ToJsonString() ?? "null", warnings, $"{source}: arch") },
                "data_path" => c with { DataPath = Str(v, key) },
                "global_batch_size" => c with { GlobalBatchSize = Int(v, key) },
                "epochs" => c with { Epochs = Int(v, key) },
                "eval_interval" when v is null => c, // the reference's null: once, after all the epochs (below)
                "eval_interval" => c with { EvalInterval = Int(v, key) },
                "checkpoint_every_eval" => c with { CheckpointEveryEval = Bool(v, key) },
                "lr" => c with { Lr = Num(v, key) },
                "lr_min_ratio" => c with { LrMinRatio = Num(v, key) },
                "lr_warmup_steps" => c with { LrWarmupSteps = Int(v, key) },
                "beta1" => c with { Beta1 = Num(v, key) },
                "beta2" => c with { Beta2 = Num(v, key) },
                "weight_decay" => c with { WeightDecay = Num(v, key) },
                "puzzle_emb_lr" => c with { PuzzleEmbLr = Num(v, key) },
                "puzzle_emb_weight_decay" => c with { PuzzleEmbWeightDecay = Num(v, key) },
                "seed" => c with { Seed = Seed(v, key) },
                "loss_type" => c with { LossType = Str(v, key) },
                "log_interval" => c with { LogInterval = Int(v, key) },
                "eval_max_steps" => c with { EvalMaxSteps = Int(v, key) },
                "eval_examples" => c with { EvalExamples = Int(v, key) },
                "threads" => c with { Threads = Int(v, key) },
                "micro_batch_size" => c with { MicroBatchSize = Int(v, key) },
                _ when IgnoredKeys.Contains(key) => Warn(c, warnings, $"{where}: accepted but not used"),
                _ => throw new HrmConfigException(key, $"unknown key in {source}; expected one of {string.Join(", ", Keys)}"),
            };
        }
        if (obj.TryGetPropertyValue("eval_interval", out JsonNode? interval) && interval is null)
            c = c with { EvalInterval = c.Epochs };
        if (archLoss != null)
        {
            if (obj.ContainsKey("loss_type") && c.LossType != archLoss)
            {
                throw new HrmConfigException("loss_type",
                    $"{source}: loss_type '{c.LossType}' disagrees with arch.loss.loss_type '{archLoss}'");
            }
            c = c with { LossType = archLoss };
        }
        c.Validate();
        return c;
    }

    private static RunConfig Warn(RunConfig c, List<string> warnings, string message)
    {
        warnings.Add(message);
        return c;
    }

    private static ulong Seed(JsonNode? v, string key)
    {
        int seed = Int(v, key);
        return seed >= 0 ? (ulong)seed : throw new HrmConfigException(key, $"must be >= 0, got {seed}");
    }

    private static int Int(JsonNode? v, string key)
    {
        if (v is JsonValue jv && jv.TryGetValue(out double d) && d == Math.Floor(d) && Math.Abs(d) <= int.MaxValue) return (int)d;
        if (v is JsonValue js && js.TryGetValue(out string? s) &&
            int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int i)) return i;
        throw new HrmConfigException(key, $"expected an integer, got {v?.ToJsonString() ?? "null"}");
    }

    private static double Num(JsonNode? v, string key)
    {
        if (v is JsonValue jv && jv.TryGetValue(out double d) && double.IsFinite(d)) return d;
        if (v is JsonValue js && js.TryGetValue(out string? s) &&
            double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double p) && double.IsFinite(p)) return p;
        throw new HrmConfigException(key, $"expected a number, got {v?.ToJsonString() ?? "null"}");
    }

    private static bool Bool(JsonNode? v, string key) =>
        v is JsonValue jv && jv.TryGetValue(out bool b) ? b : throw new HrmConfigException(key, $"expected true or false, got {v?.ToJsonString() ?? "null"}");

    private static string Str(JsonNode? v, string key) =>
        v is JsonValue jv && jv.TryGetValue(out string? s) ? s : throw new HrmConfigException(key, $"expected a string, got {v?.ToJsonString() ?? "null"}");
}
