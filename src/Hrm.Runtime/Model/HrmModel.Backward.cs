using Hrm.Runtime.Config;
using Hrm.Runtime.Memory;
using static Hrm.Runtime.Memory.ParameterLayout;

namespace Hrm.Runtime.Model;

public sealed partial class HrmModel
{
    /// <summary>Upstream gradient of the logits (B,L,V), to be filled by the loss before <see cref="Backward"/>.</summary>
    public Buf LogitsGrad => Ws.DLogits;

    /// <summary>Upstream gradient of the Q logits (B,2).</summary>
    public Buf QGrad => Ws.DQ;

    /// <summary>Puzzle identifiers (B) of the staged batch: the row ids for the sparse optimiser.</summary>
    public Buf PuzzleIdsBuffer => Ws.PuzzleIds;

    /// <summary>Per-row puzzle-embedding gradients (B,Pd) written by <see cref="Backward"/>, for the sparse optimiser.</summary>
    public Buf PuzzleRowsGrad => Ws.DPuzzleRows;

    /// <summary>
    /// The 1-step backward of the last recorded segment: from <see cref="LogitsGrad"/> and <see cref="QGrad"/>
    /// through the heads, the last H call, the last L call and the embedding. Dense gradients accumulate (+=) into
    /// <see cref="Grads"/>; puzzle-row gradients are written to <see cref="PuzzleRowsGrad"/>.
    /// </summary>
    public void Backward()
    {
        Workspace ws = Ws;
        HrmConfig cfg = Config;
        if (!ws.Training) throw new InvalidOperationException("Backward needs Reserve(batch, training: true)");
        ModuleActs hActs = ws.HActs!, lActs = ws.LActs!;
        int batch = ws.Batch, t = cfg.TotalSeqLen, c = cfg.HiddenSize, p = cfg.PuzzleEmbLen, v = cfg.VocabSize;
        Buf zH = hActs.Stream[cfg.HLayers];
        if (cfg.DetachQHead)
        {
            // The Q head first: its dzH lands in DA, which the lm head then overwrites (=, prefix rows zero), so the
            // trunk sees the lm gradient only while the Q head's weight and bias keep theirs.
            _b.QHeadBackward(ws.DA, Grad(Names.QHeadWeight), Grad(Names.QHeadBias), ws.DQ, zH,
                Param(Names.QHeadWeight), batch, t, c);
            _b.LmHeadBackward(ws.DA, Grad(Names.LmHead), ws.DLogits, zH, Param(Names.LmHead), batch, t, p, c, v);
        }
        else
        {
            _b.LmHeadBackward(ws.DA, Grad(Names.LmHead), ws.DLogits, zH, Param(Names.LmHead), batch, t, p, c, v);
            _b.QHeadBackward(ws.DA, Grad(Names.QHeadWeight), Grad(Names.QHeadBias), ws.DQ, zH,
                Param(Names.QHeadWeight), batch, t, c);
        }
        // H call: z_H ← H(z_H + z_L_new). Its input gradient is the gradient of z_L_new (z_H is detached).
        Buf d = ModuleBackward(_h, hActs, ws.DA);
        // L call: z_L ← L(z_L + (z_H + x)). Its input gradient is the gradient of x.
        d = ModuleBackward(_l, lActs, d);
        Buf pos = cfg.PosEncodings == PosEncoding.Learned ? Grad(Names.EmbedPos) : Buf.Empty;
        _b.EmbeddingBackward(Grad(Names.EmbedTokens), ws.DPuzzleRows, pos, d, ws.Tokens,
            batch, cfg.SeqLen, p, cfg.PuzzleEmbNdim, c, v, cfg.EmbedScale);
    }

    /// <summary>Backward through a recorded module call; returns the buffer holding d(stream[0]).</summary>
    private Buf ModuleBackward(BlockWeights[] blocks, ModuleActs acts, Buf dout)
    {
        Workspace ws = Ws;
        Buf cur = dout;
        for (int i = blocks.Length - 1; i >= 0; i--)
        {
            Buf dst = cur == ws.DA ? ws.DB : ws.DA;
            BlockBackward(blocks[i], acts.Stream[i], acts.Stream[i + 1], acts.Blocks[i], cur, dst);
            cur = dst;
        }
        return cur;
    }

    /// <summary>Exact reverse of <see cref="BlockForward"/>: dinp (B,T,C) from dout (B,T,C); weight grads +=. The two
    /// residual gradient sums (dh1 = d(h1 + mlp) + the MLP's input gradient, dinp = d(inp + attn) + the attention's)
    /// are the input-gradient GEMMs accumulating into the other term (<c>accumulate</c>): no Add, no third
    /// buffer.</summary>
    private void BlockBackward(in BlockWeights w, Buf inp, Buf output, BlockActs a, Buf dout, Buf dinp)
    {
        HrmConfig cfg = Config;
        Workspace ws = Ws;
        int batch = ws.Batch, t = cfg.TotalSeqLen, c = cfg.HiddenSize, nh = cfg.NumHeads, hs = cfg.HeadDim;
        int rows = batch * t, inter = cfg.Intermediate;
        _b.RmsNormBackward(ws.S0, dout, output, a.Rstd2, rows, c);              // d(h1 + mlp)     (B, T, C)
        _b.MatmulBackward(ws.DAct, w.DDown, ws.S0, a.Act, w.Down, rows, inter, c); // (B, T, I)
        _b.SwiGluBackward(ws.DGateUp, ws.DAct, a.GateUp, rows, inter);          // (B, T, 2I)
        _b.MatmulBackward(ws.S0, w.DGateUp, ws.DGateUp, a.H1, w.GateUp, rows, c, 2 * inter, accumulate: true);
        // S0 is now dh1                                                                          (B, T, C)
        _b.RmsNormBackward(dinp, ws.S0, a.H1, a.Rstd1, rows, c);                // d(inp + attn)   (B, T, C)
        _b.MatmulBackward(ws.S2, w.DO, dinp, a.Att, w.O, rows, c, c);           // datt            (B, T, C)
        if (cfg.PosEncodings == PosEncoding.Rope)                                // (B, T, 3C)
            _b.RopeAttentionBackward(ws.DQkv, ws.S2, a.Qkv, a.Att, a.Lse, ws.RopeCos, ws.RopeSin, batch, t, nh, hs);
        else
            _b.AttentionBackward(ws.DQkv, ws.S2, a.Qkv, a.Att, a.Lse, batch, t, nh, hs);
        _b.MatmulBackward(dinp, w.DQkv, ws.DQkv, inp, w.Qkv, rows, c, 3 * c, accumulate: true); // dinp (B, T, C)
    }
}
