namespace Hrm.Bench.Torch;

/// <summary>The reference's state-dict keys (spec 1.1), spelled out again for the twin.</summary>
public static class TwinNames
{
    public const string EmbedTokens = "model.inner.embed_tokens.embedding_weight";
    public const string EmbedPos = "model.inner.embed_pos.embedding_weight";
    public const string LmHead = "model.inner.lm_head.weight";
    public const string QHeadWeight = "model.inner.q_head.weight";
    public const string QHeadBias = "model.inner.q_head.bias";
    public const string PuzzleEmb = "model.inner.puzzle_emb.weights";
    public const string HInit = "model.inner.H_init";
    public const string LInit = "model.inner.L_init";

    /// <summary>Prefix of block <paramref name="i"/> of module <paramref name="level"/> ("H" or "L").</summary>
    public static string Block(string level, int i) => $"model.inner.{level}_level.layers.{i}.";

    public const string Qkv = "self_attn.qkv_proj.weight";
    public const string OProj = "self_attn.o_proj.weight";
    public const string GateUp = "mlp.gate_up_proj.weight";
    public const string Down = "mlp.down_proj.weight";

    /// <summary>Every stored tensor for <paramref name="c"/> with its shape; buffers are flagged.</summary>
    public static List<(string Name, long[] Shape, bool Buffer)> Expected(TwinConfig c)
    {
        long d = c.HiddenSize, v = c.VocabSize, inter = c.Intermediate;
        var list = new List<(string, long[], bool)>
        {
            (EmbedTokens, [v, d], false),
            (LmHead, [v, d], false),
            (QHeadWeight, [2, d], false),
            (QHeadBias, [2], false),
        };
        if (c.LearnedPositions) list.Add((EmbedPos, [c.TotalSeqLen, d], false));
        foreach ((string level, int layers) in new[] { ("H", c.HLayers), ("L", c.LLayers) })
        {
            for (int i = 0; i < layers; i++)
            {
                list.Add((Block(level, i) + Qkv, [3 * d, d], false));
                list.Add((Block(level, i) + OProj, [d, d], false));
                list.Add((Block(level, i) + GateUp, [2 * inter, d], false));
                list.Add((Block(level, i) + Down, [d, inter], false));
            }
        }
        if (c.PuzzleEmbNdim > 0) list.Add((PuzzleEmb, [c.NumPuzzleIdentifiers, c.PuzzleEmbNdim], true));
        list.Add((HInit, [d], true));
        list.Add((LInit, [d], true));
        return list;
    }
}
