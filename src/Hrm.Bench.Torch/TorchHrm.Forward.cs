using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Hrm.Bench.Torch;

public sealed partial class TorchHrm
{
    /// <summary>Logits (B, L, V) and Q logits (B, 2: halt, continue) of one segment.</summary>
    public readonly record struct SegmentOutput(Tensor Logits, Tensor Q);

    /// <summary>
    /// One segment (spec 1.7): the input embedding, H_cycles × L_cycles updates without gradient except the last L
    /// call and the last H call, which autograd records when <paramref name="grad"/>; then the heads. The carry is
    /// replaced by the detached new state. <paramref name="tokens"/> (B, L) int64; <paramref name="puzzleRows"/>
    /// (B, Pd), a leaf with requires_grad when its gradient is wanted. The caller owns (disposes) the outputs.
    /// </summary>
    public SegmentOutput Segment(TwinCarry carry, Tensor tokens, Tensor puzzleRows, bool grad)
    {
        TwinConfig c = Config;
        using DisposeScope scope = NewDisposeScope();
        Tensor zH = carry.ZH, zL = carry.ZL;
        Tensor x;
        using (set_grad_enabled(grad)) x = Embed(tokens, puzzleRows);   // (B, S, D)
        using (no_grad())
        {
            for (int i = 0; i < c.HCycles; i++)
            {
                for (int j = 0; j < c.LCycles; j++)
                {
                    if (i == c.HCycles - 1 && j == c.LCycles - 1) continue;
                    zL = Module("L", c.LLayers, zL, zH + x);
                }
                if (i != c.HCycles - 1) zH = Module("H", c.HLayers, zH, zL);
            }
        }
        Tensor logits, q;
        using (set_grad_enabled(grad))
        {
            zL = Module("L", c.LLayers, zL, zH + x);
            zH = Module("H", c.HLayers, zH, zL);
            logits = F.linear(zH, _t[TwinNames.LmHead]).narrow(1, c.PrefixLen, c.SeqLen);      // (B, L, V)
            q = F.linear(zH.select(1, 0), _t[TwinNames.QHeadWeight], _t[TwinNames.QHeadBias]); // (B, 2)
        }
        carry.Replace(zH.detach(), zL.detach());
        return new SegmentOutput(scope.MoveToOuter(logits), scope.MoveToOuter(q));
    }

    /// <summary>x = sqrt(D) · concat(puzzle rows padded to P·D, E_tok[tokens]) (spec 1.2); (B, S, D).</summary>
    private Tensor Embed(Tensor tokens, Tensor puzzleRows)
    {
        TwinConfig c = Config;
        long b = tokens.shape[0], d = c.HiddenSize;
        Tensor emb = _t[TwinNames.EmbedTokens].index_select(0, tokens.flatten()).view(b, c.SeqLen, d);
        if (c.PrefixLen > 0)
        {
            Tensor pz = puzzleRows;
            long pad = c.PrefixLen * d - c.PuzzleEmbNdim;
            if (pad > 0) pz = F.pad(pz, [0, pad]);
            emb = cat([pz.view(b, c.PrefixLen, d), emb], 1);
        }
        if (c.LearnedPositions) emb = 0.707106781 * (emb + _t[TwinNames.EmbedPos]);
        return Math.Sqrt(d) * emb;
    }

    /// <summary>Module(z, inj): h = z + inj, then every block (spec 1.6).</summary>
    private Tensor Module(string level, int layers, Tensor z, Tensor injection)
    {
        Tensor h = z + injection;
        for (int i = 0; i < layers; i++) h = Block(TwinNames.Block(level, i), h);
        return h;
    }

    /// <summary>Post-norm block (spec 1.4): h = RMSNorm(h + Attn(h)); h = RMSNorm(h + SwiGLU(h)).</summary>
    private Tensor Block(string prefix, Tensor h)
    {
        TwinConfig c = Config;
        long b = h.shape[0], s = h.shape[1], nh = c.NumHeads, hd = c.HeadDim;
        Tensor qkv = F.linear(h, _t[prefix + TwinNames.Qkv]).view(b, s, 3 * nh, hd);   // (B, S, 3·NH, d_h)
        Tensor q = qkv.narrow(2, 0, nh), k = qkv.narrow(2, nh, nh), v = qkv.narrow(2, 2 * nh, nh);
        if (!c.LearnedPositions)
        {
            q = Rope(q);
            k = Rope(k);
        }
        // Non-causal, no mask, scale 1/sqrt(d_h) (the default).
        Tensor att = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2));
        att = att.transpose(1, 2).reshape(b, s, c.HiddenSize);                          // (B, S, D)
        h = RmsNorm(h + F.linear(att, _t[prefix + TwinNames.OProj]));
        Tensor[] gateUp = F.linear(h, _t[prefix + TwinNames.GateUp]).chunk(2, -1);     // gate, up: (B, S, I)
        return RmsNorm(h + F.linear(F.silu(gateUp[0]) * gateUp[1], _t[prefix + TwinNames.Down]));
    }

    /// <summary>Rotate-half RoPE on (B, S, NH, d_h): x·cos + [−x2 | x1]·sin.</summary>
    private Tensor Rope(Tensor x)
    {
        long half = Config.HeadDim / 2;
        Tensor rotated = cat([-x.narrow(-1, half, half), x.narrow(-1, 0, half)], -1);
        return x * _cos + rotated * _sin;
    }

    /// <summary>RMSNorm without weight: x · rsqrt(mean(x²) + eps) over the last dimension.</summary>
    private Tensor RmsNorm(Tensor x) => x * rsqrt(x.square().mean([-1L], keepdim: true) + Config.RmsNormEps);
}
