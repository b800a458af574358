namespace Hrm.Runtime.Config;

/// <summary>Positional encoding used by the model (reference field <c>pos_encodings</c>).</summary>
public enum PosEncoding
{
    /// <summary>Rotary embeddings on Q and K (rotate-half pairing).</summary>
    Rope,

    /// <summary>A learned table added to the input embedding.</summary>
    Learned,
}

/// <summary>
/// The architecture of one HRM, field for field the reference's <c>arch</c> section
/// (JSON keys are the reference's snake_case names, see <see cref="HrmConfigJson"/>).
/// Defaults are the reference's <c>hrm_v1.yaml</c>; vocab/seq/puzzle counts default to the Sudoku data.
/// </summary>
public sealed record HrmConfig
{
    /// <summary>D: model width (<c>hidden_size</c>).</summary>
    public int HiddenSize { get; init; } = 512;

    /// <summary>NH: attention heads (<c>num_heads</c>); head size is HiddenSize / NumHeads.</summary>
    public int NumHeads { get; init; } = 8;

    /// <summary>SwiGLU expansion (<c>expansion</c>); intermediate = ceil256(round(expansion·D·2/3)).</summary>
    public double Expansion { get; init; } = 4.0;

    /// <summary>N: H-module updates per segment (<c>H_cycles</c>).</summary>
    public int HCycles { get; init; } = 2;

    /// <summary>T: L-module updates per H update (<c>L_cycles</c>).</summary>
    public int LCycles { get; init; } = 2;

    /// <summary>Blocks in the H module (<c>H_layers</c>).</summary>
    public int HLayers { get; init; } = 4;

    /// <summary>Blocks in the L module (<c>L_layers</c>).</summary>
    public int LLayers { get; init; } = 4;

    /// <summary>M_max: segments per sequence (<c>halt_max_steps</c>).</summary>
    public int HaltMaxSteps { get; init; } = 16;

    /// <summary>Exploration probability in training (<c>halt_exploration_prob</c>).</summary>
    public double HaltExplorationProb { get; init; } = 0.1;

    /// <summary>
    /// Halt on the Q-halt logit alone (<c>no_ACT_continue</c>, the name TRM's reference code uses; not in HRM's): in
    /// training a row halts when q_halt &gt; 0 instead of q_halt &gt; q_continue, there is no continue loss and no
    /// extra no-grad segment for its target (a training step costs about a quarter less). Default false: HRM's rule.
    /// </summary>
    public bool NoActContinue { get; init; }

    /// <summary>
    /// Train the Q head on z_H without letting its gradient reach the trunk (<c>detach_q_head</c>; ours, not in the
    /// reference): the 1-step backward still gives the Q head's weight and bias their gradients, but z_H, the H and L
    /// modules and the embeddings receive the lm_head's gradient only. The forward is unchanged. Measured on the small
    /// CPU Sudoku preset (README): with the reference's coupling, the Q losses (about 20 times the lm loss once the
    /// grids are mostly right) periodically knock the trunk over, exact accuracy falling from 0.89 to 0 within 15
    /// steps at lr 4e-4; detached, no such collapse. Default false: the reference's gradient.
    /// </summary>
    public bool DetachQHead { get; init; }

    /// <summary>Width of the per-puzzle embedding (<c>puzzle_emb_ndim</c>); 0 disables the prefix.</summary>
    public int PuzzleEmbNdim { get; init; } = 512;

    /// <summary>Positional encoding (<c>pos_encodings</c>: rope | learned).</summary>
    public PosEncoding PosEncodings { get; init; } = PosEncoding.Rope;

    /// <summary>RoPE base (<c>rope_theta</c>).</summary>
    public double RopeTheta { get; init; } = 10000.0;

    /// <summary>RMSNorm epsilon (<c>rms_norm_eps</c>).</summary>
    public double RmsNormEps { get; init; } = 1e-5;

    /// <summary>V: token vocabulary (<c>vocab_size</c>).</summary>
    public int VocabSize { get; init; } = 11;

    /// <summary>L: task sequence length without the prefix (<c>seq_len</c>).</summary>
    public int SeqLen { get; init; } = 81;

    /// <summary>Rows of the puzzle-embedding table (<c>num_puzzle_identifiers</c>).</summary>
    public int NumPuzzleIdentifiers { get; init; } = 1;

    /// <summary>HS: head size.</summary>
    public int HeadDim => HiddenSize / NumHeads;

    /// <summary>P: prefix positions, ceil(puzzle_emb_ndim / D).</summary>
    public int PuzzleEmbLen => (PuzzleEmbNdim + HiddenSize - 1) / HiddenSize;

    /// <summary>T: sequence length including the prefix.</summary>
    public int TotalSeqLen => SeqLen + PuzzleEmbLen;

    /// <summary>I: SwiGLU intermediate size (a config that <see cref="Validate"/> accepts keeps it in range).</summary>
    public int Intermediate => (int)IntermediateLong;

    /// <summary>I computed without overflow (checked against <see cref="MaxTensorElements"/> by
    /// <see cref="Validate"/>).</summary>
    private long IntermediateLong
    {
        get
        {
            double raw = Math.Round(Expansion * HiddenSize * 2.0 / 3.0, MidpointRounding.ToEven);
            return raw >= 1 << 30 ? 1L << 30 : ((long)raw + 255) / 256 * 256;
        }
    }

    /// <summary>Most blocks per module, cycles per segment level and segments (<c>H_layers</c>, <c>L_layers</c>,
    /// <c>H_cycles</c>, <c>L_cycles</c>, <c>halt_max_steps</c>): far beyond any published config (4 blocks, 2 cycles,
    /// 16 segments), and a bound, so that a corrupt value is an error rather than hours of work or all of memory.
    /// </summary>
    public const int MaxDepth = 1024;

    /// <summary>Most positions of a sequence, prefix included (ARC and mazes: 900 + 1).</summary>
    public const int MaxSeqLen = 1 << 16;

    /// <summary>Most elements of one weight tensor: what a span (and a safetensors reader) can index.</summary>
    public const long MaxTensorElements = int.MaxValue;

    /// <summary>sqrt(D), the embedding scale.</summary>
    public float EmbedScale => MathF.Sqrt(HiddenSize);

    /// <summary>Throws <see cref="HrmConfigException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        static void Positive(int v, string key)
        {
            if (v <= 0) throw new HrmConfigException(key, $"must be a positive integer, got {v}");
        }
        static void AtMost(long v, long max, string key, string what = "")
        {
            if (v > max) throw new HrmConfigException(key, $"must be at most {max:N0}{what}, got {v:N0}");
        }
        Positive(HiddenSize, "hidden_size");
        Positive(NumHeads, "num_heads");
        Positive(HCycles, "H_cycles");
        Positive(LCycles, "L_cycles");
        Positive(HLayers, "H_layers");
        Positive(LLayers, "L_layers");
        Positive(HaltMaxSteps, "halt_max_steps");
        Positive(VocabSize, "vocab_size");
        Positive(SeqLen, "seq_len");
        Positive(NumPuzzleIdentifiers, "num_puzzle_identifiers");
        AtMost(HCycles, MaxDepth, "H_cycles");
        AtMost(LCycles, MaxDepth, "L_cycles");
        AtMost(HLayers, MaxDepth, "H_layers");
        AtMost(LLayers, MaxDepth, "L_layers");
        AtMost(HaltMaxSteps, MaxDepth, "halt_max_steps");
        AtMost(SeqLen, MaxSeqLen, "seq_len");
        if (HiddenSize % NumHeads != 0)
            throw new HrmConfigException("num_heads", $"hidden_size {HiddenSize} is not divisible by num_heads {NumHeads}");
        if (PosEncodings == PosEncoding.Rope && HeadDim % 2 != 0)
            throw new HrmConfigException("num_heads", $"RoPE needs an even head dim; hidden_size/num_heads = {HeadDim}");
        if (!(Expansion > 0) || double.IsInfinity(Expansion))
            throw new HrmConfigException("expansion", $"must be a positive number, got {Expansion}");
        if (IntermediateLong < 1)
        {
            throw new HrmConfigException("expansion",
                $"gives a SwiGLU width of 0 (round(expansion * hidden_size * 2/3) = 0); it must be at least 1");
        }
        if (IntermediateLong >= 1L << 30)
        {
            throw new HrmConfigException("expansion", $"{Expansion} gives a SwiGLU width of 2^30 or more " +
                "(round(expansion * hidden_size * 2/3)): gate_up_proj would exceed " +
                $"{MaxTensorElements:N0} elements in one tensor");
        }
        if (!(HaltExplorationProb >= 0 && HaltExplorationProb <= 1))
            throw new HrmConfigException("halt_exploration_prob", $"must lie in [0, 1], got {HaltExplorationProb}");
        if (PuzzleEmbNdim < 0)
            throw new HrmConfigException("puzzle_emb_ndim", $"must be >= 0, got {PuzzleEmbNdim}");
        if (!(RopeTheta > 0)) throw new HrmConfigException("rope_theta", $"must be positive, got {RopeTheta}");
        if (!(RmsNormEps > 0)) throw new HrmConfigException("rms_norm_eps", $"must be positive, got {RmsNormEps}");
        if (VocabSize > 256 * 256)
            throw new HrmConfigException("vocab_size", $"must be at most 65536, got {VocabSize}");
        CheckSizes(AtMost);
    }

    /// <summary>The prefix and the largest weight tensors within bounds, computed without overflow.</summary>
    private void CheckSizes(Action<long, long, string, string> atMost)
    {
        long d = HiddenSize, prefix = (PuzzleEmbNdim + d - 1) / d;
        atMost(SeqLen + prefix, MaxSeqLen, "puzzle_emb_ndim",
            " positions with the prefix (seq_len + ceil(puzzle_emb_ndim / hidden_size))");
        const long max = MaxTensorElements;
        string tensor = " elements in one tensor";
        atMost(3 * d * d, max, "hidden_size", tensor + " (the attention's qkv_proj, 3 * hidden_size^2)");
        atMost(2 * IntermediateLong * d, max, "expansion", tensor + " (gate_up_proj, 2 * SwiGLU width * hidden_size)");
        atMost(VocabSize * d, max, "vocab_size", tensor + " (embed_tokens, vocab_size * hidden_size)");
        atMost((long)NumPuzzleIdentifiers * PuzzleEmbNdim, max, "num_puzzle_identifiers",
            tensor + " (the puzzle embeddings, num_puzzle_identifiers * puzzle_emb_ndim)");
    }
}
