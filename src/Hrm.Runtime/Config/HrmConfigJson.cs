using System.Globalization;
using System.Text;
using System.Text.Json;
using Hrm.Runtime.Formats;

namespace Hrm.Runtime.Config;

/// <summary>
/// JSON form of <see cref="HrmConfig"/> with the reference's key names, so the <c>arch</c> section of a
/// reference <c>all_config.yaml</c> translates one-to-one. The reference's model and loss-head names are checked
/// (another model is refused), keys it has that carry nothing for us are accepted with a warning, and unknown keys
/// are rejected.
/// </summary>
public static class HrmConfigJson
{
    /// <summary>Reference keys that carry no architecture for us (accepted, reported as warnings).</summary>
    public static readonly IReadOnlyList<string> IgnoredKeys = ["batch_size", "forward_dtype"];

    /// <summary>Reference keys that name the model and its loss head: checked (another model or loss is refused),
    /// not warned about (every all_config.yaml has them).</summary>
    public static readonly IReadOnlyList<string> CheckedKeys = ["name", "loss"];

    /// <summary>The reference's <c>arch.name</c> of the model this runtime computes.</summary>
    public const string ModelName = "hrm.hrm_act_v1@HierarchicalReasoningModel_ACTV1";

    /// <summary>The reference's <c>arch.loss.name</c>: the ACT loss head (spec 2).</summary>
    public const string LossHeadName = "losses@ACTLossHead";

    /// <summary>The LM losses <c>arch.loss.loss_type</c> may name.</summary>
    public static readonly IReadOnlyList<string> LossTypes = ["stablemax_cross_entropy", "softmax_cross_entropy"];

    /// <summary>Every key we read.</summary>
    public static readonly IReadOnlyList<string> Keys =
    [
        "hidden_size", "num_heads", "expansion", "H_cycles", "L_cycles", "H_layers", "L_layers",
        "halt_max_steps", "halt_exploration_prob", "puzzle_emb_ndim", "pos_encodings", "rope_theta",
        "rms_norm_eps", "vocab_size", "seq_len", "num_puzzle_identifiers", "no_ACT_continue",
        "detach_q_head",
    ];

    /// <summary>Parses a JSON object; <paramref name="warnings"/> receives one line per ignored key.</summary>
    public static HrmConfig Parse(string json, List<string>? warnings = null, string source = "config")
    {
        JsonDocument doc;
        try
        {
            doc = JsonText.Parse(json, comments: true);
        }
        catch (JsonException e)
        {
            throw new HrmConfigException($"{source}: not valid JSON ({e.Message})", e);
        }
        if (JsonText.FirstBadText(doc.RootElement) is { } bad)
        {
            doc.Dispose();
            throw new HrmConfigException($"{source}: {bad}: {JsonText.BadTextMessage}");
        }
        using (doc)
        {
            return FromElement(doc.RootElement, warnings, source);
        }
    }

    /// <summary>Reads a config from a JSON element (an object of reference keys).</summary>
    public static HrmConfig FromElement(JsonElement root, List<string>? warnings = null, string source = "config")
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw new HrmConfigException($"{source}: expected a JSON object of architecture fields, got {root.ValueKind}");
        var c = new HrmConfig();
        foreach (JsonProperty p in root.EnumerateObject())
        {
            JsonElement v = p.Value;
            switch (p.Name)
            {
                case "hidden_size": c = c with { HiddenSize = Int(v, p.Name) }; break;
                case "num_heads": c = c with { NumHeads = Int(v, p.Name) }; break;
                case "expansion": c = c with { Expansion = Num(v, p.Name) }; break;
                case "H_cycles": c = c with { HCycles = Int(v, p.Name) }; break;
                case "L_cycles": c = c with { LCycles = Int(v, p.Name) }; break;
                case "H_layers": c = c with { HLayers = Int(v, p.Name) }; break;
                case "L_layers": c = c with { LLayers = Int(v, p.Name) }; break;
                case "halt_max_steps": c = c with { HaltMaxSteps = Int(v, p.Name) }; break;
                case "halt_exploration_prob": c = c with { HaltExplorationProb = Num(v, p.Name) }; break;
                case "puzzle_emb_ndim": c = c with { PuzzleEmbNdim = Int(v, p.Name) }; break;
                case "pos_encodings": c = c with { PosEncodings = Pos(v) }; break;
                case "rope_theta": c = c with { RopeTheta = Num(v, p.Name) }; break;
                case "rms_norm_eps": c = c with { RmsNormEps = Num(v, p.Name) }; break;
                case "vocab_size": c = c with { VocabSize = Int(v, p.Name) }; break;
                case "seq_len": c = c with { SeqLen = Int(v, p.Name) }; break;
                case "num_puzzle_identifiers": c = c with { NumPuzzleIdentifiers = Int(v, p.Name) }; break;
                case "no_ACT_continue": c = c with { NoActContinue = Bool(v, p.Name) }; break;
                case "detach_q_head": c = c with { DetachQHead = Bool(v, p.Name) }; break;
                case "name":
                    if (Str(v, "name") != ModelName)
                    {
                        throw new HrmConfigException("name",
                            $"'{v.GetString()}' is another model: this runtime computes {ModelName}");
                    }
                    break;
                case "loss": LossTypeOf(v); break;
                case "forward_dtype":
                    warnings?.Add($"{source}: forward_dtype '{Str(v, p.Name)}' is not used: the precision here " +
                        "is the device's (fp32 on the CPU; bf16 GEMM inputs on a GPU unless fp32 GEMMs are asked for)");
                    break;
                default:
                    if (IgnoredKeys.Contains(p.Name))
                    {
                        warnings?.Add($"{source}: key '{p.Name}' is accepted but not used by this runtime");
                        break;
                    }
                    throw new HrmConfigException(p.Name,
                        $"unknown key in {source}; expected one of: {string.Join(", ", Keys)} (checked: " +
                        $"{string.Join(", ", CheckedKeys)}; ignored: {string.Join(", ", IgnoredKeys)})");
            }
        }
        c.Validate();
        return c;
    }

    /// <summary>
    /// Writes the config as a JSON object with the reference's key names (every HRM key present; <c>no_ACT_continue</c>
    /// and <c>detach_q_head</c> only when set, so default configs stay exactly the reference's).
    /// </summary>
    public static string Serialize(HrmConfig c, bool indented = false)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = indented }))
        {
            Write(w, c);
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    /// <summary>Writes the config object into an open writer.</summary>
    public static void Write(Utf8JsonWriter w, HrmConfig c)
    {
        w.WriteStartObject();
        w.WriteNumber("hidden_size", c.HiddenSize);
        w.WriteNumber("num_heads", c.NumHeads);
        w.WriteNumber("expansion", c.Expansion);
        w.WriteNumber("H_cycles", c.HCycles);
        w.WriteNumber("L_cycles", c.LCycles);
        w.WriteNumber("H_layers", c.HLayers);
        w.WriteNumber("L_layers", c.LLayers);
        w.WriteNumber("halt_max_steps", c.HaltMaxSteps);
        w.WriteNumber("halt_exploration_prob", c.HaltExplorationProb);
        w.WriteNumber("puzzle_emb_ndim", c.PuzzleEmbNdim);
        w.WriteString("pos_encodings", c.PosEncodings == PosEncoding.Rope ? "rope" : "learned");
        w.WriteNumber("rope_theta", c.RopeTheta);
        w.WriteNumber("rms_norm_eps", c.RmsNormEps);
        w.WriteNumber("vocab_size", c.VocabSize);
        w.WriteNumber("seq_len", c.SeqLen);
        w.WriteNumber("num_puzzle_identifiers", c.NumPuzzleIdentifiers);
        if (c.NoActContinue) w.WriteBoolean("no_ACT_continue", true);
        if (c.DetachQHead) w.WriteBoolean("detach_q_head", true);
        w.WriteEndObject();
    }

    /// <summary>
    /// The LM loss an <c>arch.loss</c> object names (the reference's <c>LossConfig</c>: <c>name</c>
    /// <see cref="LossHeadName"/>, <c>loss_type</c> one of <see cref="LossTypes"/>), or null when it names none (the
    /// reference would fail on that; the caller's default applies). Another head, loss or key is refused.
    /// </summary>
    /// <exception cref="HrmConfigException">Not an object, another loss head, an unknown loss type or key.</exception>
    public static string? LossTypeOf(JsonElement loss)
    {
        if (loss.ValueKind != JsonValueKind.Object)
            throw new HrmConfigException("loss", $"expected an object (name, loss_type), got {Describe(loss)}");
        string? type = null;
        foreach (JsonProperty p in loss.EnumerateObject())
        {
            switch (p.Name)
            {
                case "name":
                    if (Str(p.Value, "loss.name") != LossHeadName)
                    {
                        throw new HrmConfigException("loss.name",
                            $"'{p.Value.GetString()}' is another loss head: this runtime trains with {LossHeadName}");
                    }
                    break;
                case "loss_type":
                    type = Str(p.Value, "loss.loss_type");
                    if (!LossTypes.Contains(type))
                    {
                        throw new HrmConfigException("loss.loss_type",
                            $"expected {string.Join(" or ", LossTypes)}, got '{type}'");
                    }
                    break;
                default:
                    throw new HrmConfigException("loss." + p.Name,
                        "unknown key of arch.loss; expected name, loss_type");
            }
        }
        return type;
    }

    private static string Str(JsonElement v, string key) => v.ValueKind == JsonValueKind.String
        ? v.GetString()!
        : throw new HrmConfigException(key, $"expected a string, got {Describe(v)}");

    private static int Int(JsonElement v, string key)
    {
        if (v.ValueKind == JsonValueKind.Number)
        {
            if (v.TryGetInt32(out int i)) return i;
            if (v.TryGetDouble(out double d) && d == Math.Floor(d) && Math.Abs(d) < int.MaxValue) return (int)d;
        }
        throw new HrmConfigException(key, $"expected an integer, got {Describe(v)}");
    }

    private static double Num(JsonElement v, string key)
    {
        if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double d) && double.IsFinite(d)) return d;
        if (v.ValueKind == JsonValueKind.String &&
            double.TryParse(v.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out double s) &&
            double.IsFinite(s))
            return s; // YAML-to-JSON converters often write 1e-5 as a string
        throw new HrmConfigException(key, $"expected a number, got {Describe(v)}");
    }

    private static bool Bool(JsonElement v, string key) => v.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.String when bool.TryParse(v.GetString(), out bool b) => b, // --set key=true arrives as text
        _ => throw new HrmConfigException(key, $"expected true or false, got {Describe(v)}"),
    };

    private static PosEncoding Pos(JsonElement v)
    {
        string? s = v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        return s switch
        {
            "rope" => PosEncoding.Rope,
            "learned" => PosEncoding.Learned,
            _ => throw new HrmConfigException("pos_encodings", $"expected \"rope\" or \"learned\", got {Describe(v)}"),
        };
    }

    private static string Describe(JsonElement v) =>
        v.ValueKind == JsonValueKind.String ? $"\"{v.GetString()}\"" : $"{v.ValueKind} {v.GetRawText()}";
}
