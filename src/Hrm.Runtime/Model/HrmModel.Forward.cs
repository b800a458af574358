using Hrm.Runtime.Config;
using Hrm.Runtime.Memory;
using static Hrm.Runtime.Memory.ParameterLayout;

namespace Hrm.Runtime.Model;

public sealed partial class HrmModel
{
    /// <summary>
    /// Stages a batch: token rows (B·L, ids in [0, V)) and puzzle identifiers (B, in [0, NP)) are checked,
    /// uploaded, and the puzzle rows gathered from the table.
    /// </summary>
    public void SetInputs(ReadOnlySpan<int> tokens, ReadOnlySpan<int> puzzleIds)
    {
        Workspace ws = Ws;
        int l = Config.SeqLen;
        if (tokens.Length != ws.Batch * l)
            throw new ArgumentException($"inputs: expected {ws.Batch}·{l} = {ws.Batch * l} tokens, got {tokens.Length}");
        if (puzzleIds.Length != ws.Batch)
            throw new ArgumentException($"puzzle identifiers: expected {ws.Batch}, got {puzzleIds.Length}");
        CheckInputValues(tokens, puzzleIds);
        _b.UploadInts(tokens, ws.Tokens);
        _b.UploadInts(puzzleIds, ws.PuzzleIds);
        if (Config.PuzzleEmbNdim > 0)
            _b.GatherRows(ws.PuzzleRows, Param(Names.PuzzleEmb), ws.PuzzleIds, ws.Batch, Config.PuzzleEmbNdim);
    }

    /// <summary>
    /// One segment (the reference's inner forward) on the staged inputs: H_cycles × L_cycles updates of the carry
    /// (z_H, z_L) in place, the last L and last H call recorded when <paramref name="record"/>, then
    /// logits (B,L,V) and Q logits (B,2) into the workspace.
    /// </summary>
    public void Segment(bool record) => Segment(Ws.ZH, Ws.ZL, record, Ws.Logits, Ws.Q);

    internal void Segment(Buf zH, Buf zL, bool record, Buf logits, Buf q) =>
        Segment(zH, zL, record, logits, q, qOnly: false);

    /// <summary>
    /// The Q-target segment of training: a no-grad segment of which only the Q logits (B,2) are used. They read z_H at
    /// position 0 alone, so the last block of the last H call runs its attention for every position (keys and values)
    /// and everything after it (o_proj, norms, MLP) on the B position-0 rows only. Bitwise the Q logits of a whole
    /// segment: every op treats rows independently and the CPU GEMM reduces each element in the same order for any
    /// row count (see the model tests). z_H is left stale after the last block (the caller discards it).
    /// </summary>
    internal void TargetSegment(Buf zH, Buf zL, Buf q) => Segment(zH, zL, record: false, Buf.Empty, q, qOnly: true);

    private void Segment(Buf zH, Buf zL, bool record, Buf logits, Buf q, bool qOnly)
    {
        Workspace ws = Ws;
        HrmConfig cfg = Config;
        if (record && !ws.Training) throw new InvalidOperationException("recording needs Reserve(batch, training: true)");
        if (qOnly && (record || ws.First == null)) throw new InvalidOperationException("the Q-target segment is for training");
        int batch = ws.Batch, t = cfg.TotalSeqLen, c = cfg.HiddenSize, p = cfg.PuzzleEmbLen;
        Buf pos = cfg.PosEncodings == PosEncoding.Learned ? Param(Names.EmbedPos) : Buf.Empty;
        _b.EmbeddingForward(ws.X, ws.Tokens, ws.PuzzleRows, Param(Names.EmbedTokens), pos,
            batch, cfg.SeqLen, p, cfg.PuzzleEmbNdim, c, cfg.VocabSize, cfg.EmbedScale);
        for (int i = 0; i < cfg.HCycles; i++)
        {
            _b.Add(ws.Inj, zH, ws.X); // z_H + x: the same for all L calls of this H cycle
            for (int j = 0; j < cfg.LCycles; j++)
            {
                if (i == cfg.HCycles - 1 && j == cfg.LCycles - 1) continue;
                RunModule(_l, zL, ws.Inj, null);
            }
            if (i != cfg.HCycles - 1) RunModule(_h, zH, zL, null);
        }
        // The 1-step gradient: only these two calls are differentiated (Inj is still z_H + x of the last H cycle).
        RunModule(_l, zL, ws.Inj, record ? ws.LActs : null);
        if (qOnly)
        {
            RunModule(_h, zH, zL, null, firstRowsOut: ws.FirstOut);
            _b.QHeadForward(q, ws.FirstOut, Param(Names.QHeadWeight), Param(Names.QHeadBias), batch, 1, c);
            return;
        }
        RunModule(_h, zH, zL, record ? ws.HActs : null);
        _b.LmHeadForward(logits, zH, Param(Names.LmHead), batch, t, p, c, cfg.VocabSize);
        _b.QHeadForward(q, zH, Param(Names.QHeadWeight), Param(Names.QHeadBias), batch, t, c);
    }

    /// <summary>
    /// z ← blocks(z + inj); recorded into <paramref name="acts"/> or run through the ping-pong scratch. With
    /// <paramref name="firstRowsOut"/> (B, C), the last block's output is computed at position 0 only, into it.
    /// </summary>
    private void RunModule(BlockWeights[] blocks, Buf z, Buf inj, ModuleActs? acts, Buf firstRowsOut = default)
    {
        Workspace ws = Ws;
        int n = blocks.Length;
        if (acts != null)
        {
            _b.Add(acts.Stream[0], z, inj);
            for (int i = 0; i < n; i++)
                BlockForward(blocks[i], acts.Stream[i], acts.Stream[i + 1], acts.Blocks[i], record: true);
            _b.Copy(z, acts.Stream[n]);
            return;
        }
        if (firstRowsOut.IsEmpty && TryFusedModule(blocks, z, inj)) return;
        _b.Add(ws.Ping, z, inj);
        Buf cur = ws.Ping;
        for (int i = 0; i < n; i++)
        {
            Buf dst = i == n - 1 ? z : (cur == ws.Ping ? ws.Pong : ws.Ping);
            if (i == n - 1 && !firstRowsOut.IsEmpty) BlockForwardFirstRows(blocks[i], cur, firstRowsOut);
            else BlockForward(blocks[i], cur, dst, ws.Scratch, record: false);
            cur = dst;
        }
    }

    /// <summary>z ← blocks(z + inj) as the backend's one fused op, where it has one for this model (false: it did nothing).
    /// </summary>
    private bool TryFusedModule(BlockWeights[] blocks, Buf z, Buf inj)
    {
        HrmConfig cfg = Config;
        Workspace ws = Ws;
        bool rope = cfg.PosEncodings == PosEncoding.Rope;
        return _b.TryFusedModuleForward(z, inj, ReferenceEquals(blocks, _h) ? _hW : _lW,
            rope ? ws.RopeCos : Buf.Empty, rope ? ws.RopeSin : Buf.Empty, ws.Batch, cfg.TotalSeqLen, cfg.NumHeads,
            cfg.HeadDim, cfg.Intermediate, (float)cfg.RmsNormEps);
    }

    /// <summary>
    /// <see cref="BlockForward"/> (no record) with the output at position 0 of each sequence only: QKV and attention
    /// for every position, then the B position-0 rows of the attention output and of the input are gathered and
    /// o_proj, both norms and the MLP run on those rows. output (B, C).
    /// </summary>
    private void BlockForwardFirstRows(in BlockWeights w, Buf inp, Buf output)
    {
        HrmConfig cfg = Config;
        Workspace ws = Ws;
        BlockActs a = ws.Scratch, f = ws.First!;
        int batch = ws.Batch, t = cfg.TotalSeqLen, c = cfg.HiddenSize, nh = cfg.NumHeads, hs = cfg.HeadDim;
        int rows = batch * t, inter = cfg.Intermediate;
        float eps = (float)cfg.RmsNormEps;
        QkvAttentionForward(w, inp, a, keepRotated: false);                     // (B, T, 3C), (B, T, C)
        _b.GatherRows(f.Att, a.Att, ws.FirstRows, batch, c);                    // (B, C)
        _b.GatherRows(ws.FirstIn, inp, ws.FirstRows, batch, c);                 // (B, C)
        _b.MatmulForward(ws.FirstTmp, f.Att, w.O, batch, c, c);                 // (B, C) o_proj
        _b.AddRmsNormForward(f.H1, f.Rstd1, ws.FirstIn, ws.FirstTmp, batch, c, eps);
        _b.MatmulSwiGluForward(f.Act, f.GateUp, f.H1, w.GateUp, batch, c, inter); // (B, I)
        _b.MatmulForward(ws.FirstTmp, f.Act, w.Down, batch, inter, c);          // (B, C) down_proj
        _b.AddRmsNormForward(output, f.Rstd2, f.H1, ws.FirstTmp, batch, c, eps); // (B, C)
    }

    /// <summary>
    /// a.Qkv (B, T, 3C) = inp · Wqkvᵀ, with Q and K rotated when the positions are rotary (as the backward expects of
    /// an fp32 qkv), then the attention: a.Att (B, T, C), a.Lse (B, NH, T). RoPE goes with the GEMM or with the
    /// attention, as the backend prefers (<see cref="Backends.IHrmBackend.PrefersRopeInAttention"/>). Without
    /// <paramref name="keepRotated"/> (a forward that is not recorded, or a recorded bf16 qkv, which the backward
    /// rotates again: <see cref="Backends.IHrmBackend.Bf16QkvRecorded"/>) a.Qkv need not hold the rotated Q and K
    /// afterwards.
    /// </summary>
    private void QkvAttentionForward(in BlockWeights w, Buf inp, BlockActs a, bool keepRotated)
    {
        HrmConfig cfg = Config;
        Workspace ws = Ws;
        int batch = ws.Batch, t = cfg.TotalSeqLen, c = cfg.HiddenSize, nh = cfg.NumHeads, hs = cfg.HeadDim;
        if (cfg.PosEncodings != PosEncoding.Rope)
        {
            _b.MatmulForward(a.Qkv, inp, w.Qkv, batch * t, c, 3 * c);
            _b.AttentionForward(a.Att, a.Lse, a.Qkv, batch, t, nh, hs);
        }
        else if (_b.PrefersRopeInAttention)
        {
            _b.MatmulForward(a.Qkv, inp, w.Qkv, batch * t, c, 3 * c);
            _b.RopeAttentionForward(a.Att, a.Lse, a.Qkv, ws.RopeCos, ws.RopeSin, batch, t, nh, hs, keepRotated);
        }
        else
        {
            _b.MatmulRopeForward(a.Qkv, inp, w.Qkv, ws.RopeCos, ws.RopeSin, batch, t, c, nh, hs);
            _b.AttentionForward(a.Att, a.Lse, a.Qkv, batch, t, nh, hs);
        }
    }

    /// <summary>Post-norm block: h1 = RMSNorm(inp + Attn(inp)); out = RMSNorm(h1 + SwiGLU(h1)).</summary>
    /// <remarks>With <paramref name="record"/> everything the backward reads is kept in <paramref name="a"/> (the gate/up
    /// product too, which the fused GEMM + SwiGLU otherwise need not write). After the attention the rows go in chunks
    /// where the backend asks for them (<see cref="Backends.IHrmBackend.BlockChunkRows"/>).</remarks>
    private void BlockForward(in BlockWeights w, Buf inp, Buf output, BlockActs a, bool record)
    {
        Workspace ws = Ws;
        int rows = ws.Batch * Config.TotalSeqLen;
        // (B, T, 3C), (B, T, C), (B, NH, T); a bf16 recorded qkv (Bf16QkvRecorded) stays unrotated: the backward
        // rotates it again, as the forward does
        QkvAttentionForward(w, inp, a, keepRotated: record && !ws.Bf16RecordedQkv);
        int chunk = _b.BlockChunkRows(rows, Config.TotalSeqLen, Config.HeadDim, record);
        if (chunk <= 0 || chunk >= rows) chunk = rows;
        for (int r0 = 0; r0 < rows; r0 += chunk)
            AfterAttention(w, inp, output, a, record, r0, Math.Min(chunk, rows - r0));
    }

    /// <summary>
    /// A block after its attention on rows [<paramref name="r0"/>, r0 + n) of B·T (each row on its own): o_proj, the
    /// add + RMSNorm into h1, the gate/up GEMM + SwiGLU, down_proj, the add + RMSNorm into output. Recorded, every
    /// buffer the backward reads keeps the rows' own place; otherwise h1, gate/up and the SwiGLU output are scratch
    /// and every chunk uses their first n rows (<see cref="Backends.IHrmBackend.BlockChunkRows"/>: the same bytes each
    /// time). Tmp is always scratch.
    /// </summary>
    private void AfterAttention(in BlockWeights w, Buf inp, Buf output, BlockActs a, bool record, int r0, int n)
    {
        HrmConfig cfg = Config;
        int c = cfg.HiddenSize, inter = cfg.Intermediate;
        float eps = (float)cfg.RmsNormEps;
        long kept = record ? r0 : 0;                                            // the rows of the kept buffers
        Buf tmp = Ws.Tmp.Slice(0, (long)n * c);                                // (n, C)
        Buf att = a.Att.Slice((long)r0 * c, (long)n * c), x = inp.Slice((long)r0 * c, (long)n * c); // (n, C)
        Buf h1 = a.H1.Slice(kept * c, (long)n * c), rstd1 = a.Rstd1.Slice(r0, n);                 // (n, C), (n)
        Buf act = a.Act.Slice(kept * inter, (long)n * inter);                                      // (n, I)
        Buf gateUp = a.GateUp.Slice(kept * 2 * inter, 2L * n * inter);                             // (n, 2I)
        _b.MatmulForward(tmp, att, w.O, n, c, c);
        _b.AddRmsNormForward(h1, rstd1, x, tmp, n, c, eps);
        // gateUp kept for the backward when recording
        _b.MatmulSwiGluForward(act, gateUp, h1, w.GateUp, n, c, inter, keepGateUp: record);
        _b.MatmulForward(tmp, act, w.Down, n, inter, c);
        _b.AddRmsNormForward(output.Slice((long)r0 * c, (long)n * c), a.Rstd2.Slice(r0, n), h1, tmp, n, c, eps);
    }
}
