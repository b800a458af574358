using Hrm.Runtime.Config;

namespace Hrm.Runtime.Memory;

/// <summary>Whether a tensor is trained by the dense optimiser (and has a gradient) or is a stored buffer.</summary>
public enum TensorKind
{
    /// <summary>A dense parameter: counted in num_params, has a gradient, updated by AdamATan2.</summary>
    Parameter,

    /// <summary>A persistent buffer: saved in checkpoints, no dense gradient (puzzle table, H_init, L_init).</summary>
    Buffer,
}

/// <summary>One tensor of the layout: reference state-dict key, shape, offset (elements) into the region.</summary>
public sealed record TensorEntry(string Name, int[] Shape, TensorKind Kind, bool StoredAsBf16, long Offset)
{
    /// <summary>Element count.</summary>
    public long Count => Shape.Aggregate(1L, (a, d) => a * d);

    /// <summary>Shape as "[a, b]".</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

/// <summary>
/// The table of every stored tensor, named with the reference's state-dict keys, laid out in one region:
/// dense parameters first (so the gradient region is a prefix of the same table), then buffers.
/// Offsets are aligned to 16 elements (64 bytes of fp32).
/// </summary>
public sealed class ParameterLayout
{
    /// <summary>Offsets are multiples of this many elements.</summary>
    public const int AlignElements = 16;

    private readonly Dictionary<string, TensorEntry> _byName = new(StringComparer.Ordinal);

    /// <summary>Builds the layout for <paramref name="config"/>.</summary>
    public ParameterLayout(HrmConfig config)
    {
        config.Validate();
        Config = config;
        int c = config.HiddenSize, v = config.VocabSize, inter = config.Intermediate;
        var entries = new List<TensorEntry>();
        long offset = 0;
        void Add(string name, TensorKind kind, bool bf16, params int[] shape)
        {
            var e = new TensorEntry(name, shape, kind, bf16, offset);
            entries.Add(e);
            offset += (e.Count + AlignElements - 1) / AlignElements * AlignElements;
        }
        Add(Names.EmbedTokens, TensorKind.Parameter, false, v, c);
        Add(Names.LmHead, TensorKind.Parameter, false, v, c);
        Add(Names.QHeadWeight, TensorKind.Parameter, false, 2, c);
        Add(Names.QHeadBias, TensorKind.Parameter, false, 2);
        if (config.PosEncodings == PosEncoding.Learned)
            Add(Names.EmbedPos, TensorKind.Parameter, false, config.TotalSeqLen, c);
        foreach ((string level, int layers) in new[] { ("H", config.HLayers), ("L", config.LLayers) })
        {
            for (int i = 0; i < layers; i++)
            {
                Add(Names.Qkv(level, i), TensorKind.Parameter, false, 3 * c, c);
                Add(Names.OProj(level, i), TensorKind.Parameter, false, c, c);
                Add(Names.GateUp(level, i), TensorKind.Parameter, false, 2 * inter, c);
                Add(Names.Down(level, i), TensorKind.Parameter, false, c, inter);
            }
        }
        DenseElements = offset;
        if (config.PuzzleEmbNdim > 0)
            Add(Names.PuzzleEmb, TensorKind.Buffer, false, config.NumPuzzleIdentifiers, config.PuzzleEmbNdim);
        Add(Names.HInit, TensorKind.Buffer, true, c);
        Add(Names.LInit, TensorKind.Buffer, true, c);
        TotalElements = offset;
        Entries = entries;
        foreach (TensorEntry e in entries) _byName.Add(e.Name, e);
    }

    /// <summary>The architecture this layout was built for.</summary>
    public HrmConfig Config { get; }

    /// <summary>Every tensor, in layout order.</summary>
    public IReadOnlyList<TensorEntry> Entries { get; }

    /// <summary>Elements (with alignment padding) of the dense-parameter prefix = size of the gradient region.</summary>
    public long DenseElements { get; }

    /// <summary>Elements (with padding) of the whole region.</summary>
    public long TotalElements { get; }

    /// <summary>The reference's logged num_params: dense parameters without padding.</summary>
    public long ParameterCount => Entries.Where(e => e.Kind == TensorKind.Parameter).Sum(e => e.Count);

    /// <summary>True when the layout has a tensor called <paramref name="name"/>.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The entry called <paramref name="name"/>.</summary>
    public TensorEntry this[string name] => _byName.TryGetValue(name, out TensorEntry? e)
        ? e
        : throw new KeyNotFoundException($"no tensor '{name}' in the layout of this config");

    /// <summary>The reference's state-dict keys.</summary>
    public static class Names
    {
        /// <summary>Prefix of every key.</summary>
        public const string Inner = "model.inner.";

        /// <summary>Token embedding (V,C).</summary>
        public const string EmbedTokens = Inner + "embed_tokens.embedding_weight";

        /// <summary>Output head (V,C).</summary>
        public const string LmHead = Inner + "lm_head.weight";

        /// <summary>Q head weight (2,C).</summary>
        public const string QHeadWeight = Inner + "q_head.weight";

        /// <summary>Q head bias (2).</summary>
        public const string QHeadBias = Inner + "q_head.bias";

        /// <summary>Learned positions (T,C).</summary>
        public const string EmbedPos = Inner + "embed_pos.embedding_weight";

        /// <summary>Puzzle-embedding table (NP,Pd).</summary>
        public const string PuzzleEmb = Inner + "puzzle_emb.weights";

        /// <summary>Initial z_H (C), bf16 in the reference.</summary>
        public const string HInit = Inner + "H_init";

        /// <summary>Initial z_L (C), bf16 in the reference.</summary>
        public const string LInit = Inner + "L_init";

        /// <summary>Fused QKV projection (3C,C) of block i of level "H" or "L".</summary>
        public static string Qkv(string level, int i) => $"{Inner}{level}_level.layers.{i}.self_attn.qkv_proj.weight";

        /// <summary>Attention output projection (C,C).</summary>
        public static string OProj(string level, int i) => $"{Inner}{level}_level.layers.{i}.self_attn.o_proj.weight";

        /// <summary>SwiGLU gate+up projection (2I,C).</summary>
        public static string GateUp(string level, int i) => $"{Inner}{level}_level.layers.{i}.mlp.gate_up_proj.weight";

        /// <summary>SwiGLU down projection (C,I).</summary>
        public static string Down(string level, int i) => $"{Inner}{level}_level.layers.{i}.mlp.down_proj.weight";
    }
}
