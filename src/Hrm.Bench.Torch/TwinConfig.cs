using System.Globalization;
using System.Text.Json;

namespace Hrm.Bench.Torch;

/// <summary>
/// The architecture as the twin reads it from a checkpoint's <c>__metadata__["config"]</c> (the reference's
/// <c>arch</c> keys, spec 1.x). Parsed here on purpose rather than through Hrm.Runtime, so that the twin shares
/// no model code with the runtime it checks.
/// </summary>
public sealed record TwinConfig
{
    public int HiddenSize { get; init; } = 512;
    public int NumHeads { get; init; } = 8;
    public double Expansion { get; init; } = 4.0;
    public int HCycles { get; init; } = 2;
    public int LCycles { get; init; } = 2;
    public int HLayers { get; init; } = 4;
    public int LLayers { get; init; } = 4;
    public int HaltMaxSteps { get; init; } = 16;
    public double HaltExplorationProb { get; init; } = 0.1;
    public int PuzzleEmbNdim { get; init; } = 512;
    public bool LearnedPositions { get; init; }
    public double RopeTheta { get; init; } = 10000.0;
    public double RmsNormEps { get; init; } = 1e-5;
    public int VocabSize { get; init; } = 11;
    public int SeqLen { get; init; } = 81;
    public int NumPuzzleIdentifiers { get; init; } = 1;

    /// <summary>d_h.</summary>
    public int HeadDim => HiddenSize / NumHeads;

    /// <summary>P = ceil(puzzle_emb_ndim / D) (spec 1.3).</summary>
    public int PrefixLen => (PuzzleEmbNdim + HiddenSize - 1) / HiddenSize;

    /// <summary>S = L + P.</summary>
    public int TotalSeqLen => SeqLen + PrefixLen;

    /// <summary>SwiGLU width: ceil_to_multiple(round(expansion·D·2/3), 256) (spec 1.4).</summary>
    public int Intermediate => ((int)Math.Round(Expansion * HiddenSize * 2.0 / 3.0, MidpointRounding.ToEven) + 255) / 256 * 256;

    /// <summary>Parses the JSON object of reference <c>arch</c> keys; absent keys keep the hrm_v1 defaults.</summary>
    public static TwinConfig Parse(string json)
    {
        using JsonDocument doc = JsonDocument.Parse(json);
        var c = new TwinConfig();
        foreach (JsonProperty p in doc.RootElement.EnumerateObject())
        {
            JsonElement v = p.Value;
            c = p.Name switch
            {
                "hidden_size" => c with { HiddenSize = v.GetInt32() },
                "num_heads" => c with { NumHeads = v.GetInt32() },
                "expansion" => c with { Expansion = Num(v) },
                "H_cycles" => c with { HCycles = v.GetInt32() },
                "L_cycles" => c with { LCycles = v.GetInt32() },
                "H_layers" => c with { HLayers = v.GetInt32() },
                "L_layers" => c with { LLayers = v.GetInt32() },
                "halt_max_steps" => c with { HaltMaxSteps = v.GetInt32() },
                "halt_exploration_prob" => c with { HaltExplorationProb = Num(v) },
                "puzzle_emb_ndim" => c with { PuzzleEmbNdim = v.GetInt32() },
                "pos_encodings" => c with { LearnedPositions = v.GetString() == "learned" },
                "rope_theta" => c with { RopeTheta = Num(v) },
                "rms_norm_eps" => c with { RmsNormEps = Num(v) },
                "vocab_size" => c with { VocabSize = v.GetInt32() },
                "seq_len" => c with { SeqLen = v.GetInt32() },
                "num_puzzle_identifiers" => c with { NumPuzzleIdentifiers = v.GetInt32() },
                _ => c,
            };
        }
        return c;
    }

    private static double Num(JsonElement v) => v.ValueKind == JsonValueKind.String
        ? double.Parse(v.GetString()!, CultureInfo.InvariantCulture)
        : v.GetDouble();
}
