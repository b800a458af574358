using Hrm.Runtime.Config;
using Hrm.Runtime.Memory;

namespace Hrm.Runtime.Model;

/// <summary>
/// Every buffer a segment forward (and, when training, the 1-step backward) uses, carved from one float region
/// and one int region by an <see cref="ActivationPlan"/>. Only the last L call and the last H call are recorded,
/// so nothing here depends on H_cycles or L_cycles. The no-grad cycles run through Ping/Pong and Scratch.
/// </summary>
internal sealed class Workspace
{
    public Workspace(ActivationPlan plan, HrmConfig cfg, int batch, bool training, bool bf16Inter, bool bf16Qkv = false,
        bool bf16Stream = false, bool bf16RecordedQkv = false)
    {
        int t = cfg.TotalSeqLen, l = cfg.SeqLen, c = cfg.HiddenSize, nh = cfg.NumHeads, hs = cfg.HeadDim;
        int inter = cfg.Intermediate, v = cfg.VocabSize, pd = Math.Max(cfg.PuzzleEmbNdim, 0);
        Batch = batch;
        Training = training;
        Bf16Intermediates = bf16Inter;
        Bf16Qkv = bf16Qkv;
        Bf16Stream = bf16Stream;
        Bf16RecordedQkv = training && bf16RecordedQkv;
        Tokens = plan.CarveInts("tokens", batch, l);
        PuzzleIds = plan.CarveInts("puzzle_ids", batch);
        Halted = plan.CarveInts("halted", batch);
        PuzzleRows = plan.Carve("puzzle_rows", batch, pd);
        RopeCos = plan.Carve("rope_cos", t, hs);
        RopeSin = plan.Carve("rope_sin", t, hs);
        ZH = plan.Carve("carry.z_H", batch, t, c);
        ZL = plan.Carve("carry.z_L", batch, t, c);
        X = plan.Carve("x", batch, t, c);
        Inj = plan.Carve("inj", batch, t, c);
        // With bf16Stream the no-grad forwards keep their residual stream in bf16 (as the reference's bf16 forward does).
        Ping = bf16Stream ? plan.CarveBf16("ping", batch, t, c) : plan.Carve("ping", batch, t, c);
        Pong = bf16Stream ? plan.CarveBf16("pong", batch, t, c) : plan.Carve("pong", batch, t, c);
        Tmp = bf16Inter ? plan.CarveBf16("tmp", batch, t, c) : plan.Carve("tmp", batch, t, c);
        Scratch = new BlockActs(plan, "scratch", batch, t, c, nh, inter, bf16Inter, bf16Qkv, bf16Stream);
        Logits = plan.Carve("logits", batch, l, v);
        Q = plan.Carve("q", batch, 2);
        Steps = plan.CarveInts("act.steps", batch);
        Labels = plan.CarveInts("act.labels", batch, l);
        NextTokens = plan.CarveInts("act.next_tokens", batch, l);
        NextLabels = plan.CarveInts("act.next_labels", batch, l);
        NextIds = plan.CarveInts("act.next_ids", batch);
        if (!training) return;
        MinSteps = plan.CarveInts("act.min_steps", batch);
        Target = plan.Carve("act.target", batch);
        ZH2 = plan.Carve("target.z_H", batch, t, c);
        ZL2 = plan.Carve("target.z_L", batch, t, c);
        QNext = plan.Carve("target.q", batch, 2);
        FirstRows = plan.CarveInts("target.first_rows", batch);
        FirstIn = bf16Stream ? plan.CarveBf16("target.first_in", batch, c) : plan.Carve("target.first_in", batch, c);
        FirstTmp = bf16Inter ? plan.CarveBf16("target.first_tmp", batch, c) : plan.Carve("target.first_tmp", batch, c);
        FirstOut = plan.Carve("target.first_out", batch, c);
        First = new BlockActs(plan, "target.first", batch, 1, c, nh, inter, bf16Inter, bf16Qkv: false, bf16Stream);
        LActs = new ModuleActs(plan, "L_level", cfg.LLayers, batch, t, c, nh, inter, bf16Inter, bf16RecordedQkv);
        HActs = new ModuleActs(plan, "H_level", cfg.HLayers, batch, t, c, nh, inter, bf16Inter, bf16RecordedQkv);
        DLogits = plan.Carve("grad.logits", batch, l, v);
        DQ = plan.Carve("grad.q", batch, 2);
        DA = plan.Carve("grad.stream_a", batch, t, c);
        DB = plan.Carve("grad.stream_b", batch, t, c);
        S0 = plan.Carve("grad.s0", batch, t, c);
        S2 = plan.Carve("grad.s2", batch, t, c);
        DQkv = bf16RecordedQkv ? plan.CarveBf16("grad.qkv", batch, t, 3 * c) : plan.Carve("grad.qkv", batch, t, 3 * c);
        DGateUp = bf16Inter ? plan.CarveBf16("grad.gate_up", batch, t, 2 * inter)
            : plan.Carve("grad.gate_up", batch, t, 2 * inter);
        DAct = bf16Inter ? plan.CarveBf16("grad.act", batch, t, inter) : plan.Carve("grad.act", batch, t, inter);
        DPuzzleRows = plan.Carve("grad.puzzle_rows", batch, pd);
    }

    public int Batch { get; }

    public bool Training { get; }

    /// <summary>Tmp, FirstTmp, DGateUp, DAct and the blocks' GateUp and Act hold bf16
    /// (<see cref="Backends.IHrmBackend.Bf16Intermediates"/>).</summary>
    public bool Bf16Intermediates { get; }

    /// <summary>Scratch.Qkv (the no-grad forwards' q/k/v product) holds bf16 (<see cref="Backends.IHrmBackend.Bf16QkvForward"/>).</summary>
    public bool Bf16Qkv { get; }

    /// <summary>The no-grad forwards keep their attention output and residual stream in bf16
    /// (<see cref="Backends.IHrmBackend.Bf16StreamForward"/>): Scratch.Att, Scratch.H1, Ping, Pong and the Q-target's
    /// FirstIn and First.Att/H1 hold bf16; the carry (z_H, z_L) and everything recorded stay fp32 (but the recorded
    /// q/k/v: <see cref="Bf16RecordedQkv"/>).</summary>
    public bool Bf16Stream { get; }

    /// <summary>The recorded blocks' Qkv (the GEMM's product, unrotated) and DQkv hold bf16
    /// (<see cref="Backends.IHrmBackend.Bf16QkvRecorded"/>; training workspaces only).</summary>
    public bool Bf16RecordedQkv { get; }

    public Buf Tokens { get; }       // (B, L) int
    public Buf PuzzleIds { get; }    // (B) int
    public Buf Halted { get; }       // (B) int, ACT carry: 1 = halted at the last call (reset at the next)
    public Buf PuzzleRows { get; }   // (B, Pd) rows of the puzzle table for this batch
    public Buf RopeCos { get; }      // (T, HS)
    public Buf RopeSin { get; }      // (T, HS)
    public Buf ZH { get; }           // (B, T, C) carry z_H (detached between segments)
    public Buf ZL { get; }           // (B, T, C) carry z_L
    public Buf X { get; }            // (B, T, C) input embedding
    public Buf Inj { get; }          // (B, T, C) z_H + x for L calls
    public Buf Ping { get; }         // (B, T, C) no-grad residual stream (bf16 with Bf16Stream)
    public Buf Pong { get; }         // (B, T, C) no-grad residual stream (bf16 with Bf16Stream)
    public Buf Tmp { get; }          // (B, T, C) o_proj / down_proj output before the residual add
    public BlockActs Scratch { get; }
    public Buf Logits { get; }       // (B, L, V)
    public Buf Q { get; }            // (B, 2) [halt, continue]
    public Buf Steps { get; }        // (B) int, ACT carry: segments each row has run on its data
    public Buf Labels { get; }       // (B, L) int, ACT carry: the labels of each row's data (Tokens, PuzzleIds: its inputs)
    public Buf NextTokens { get; }   // (B, L) int, the new batch an ACT call offers halted rows
    public Buf NextLabels { get; }   // (B, L) int
    public Buf NextIds { get; }      // (B) int

    // Training only.
    public Buf MinSteps { get; }     // (B) int, this call's exploration minimum per row (0 = none)
    public Buf Target { get; }       // (B) Q-continue bootstrap targets
    public Buf ZH2 { get; }          // (B, T, C) copy of the carry for the Q-target forward
    public Buf ZL2 { get; }          // (B, T, C)
    public Buf QNext { get; }        // (B, 2) Q logits of the Q-target forward
    public Buf FirstRows { get; }    // (B) int, b·T: the row of position 0 of each sequence in (B·T, C)
    public Buf FirstIn { get; }      // (B, C) position-0 rows of the Q-target's last block input (bf16 with Bf16Stream)
    public Buf FirstTmp { get; }     // (B, C) o_proj / down_proj output there
    public Buf FirstOut { get; }     // (B, C) its output at position 0 (all the Q head reads)
    public BlockActs? First { get; } // the Q-target's last block on position 0 alone (T = 1; Qkv, Lse unused)
    public ModuleActs? LActs { get; }
    public ModuleActs? HActs { get; }
    public Buf DLogits { get; }      // (B, L, V) upstream gradient
    public Buf DQ { get; }           // (B, 2) upstream gradient
    public Buf DA { get; }           // (B, T, C) residual-stream gradient (ping)
    public Buf DB { get; }           // (B, T, C) residual-stream gradient (pong)
    public Buf S0 { get; }           // (B, T, C) block-backward scratch: d(h1 + mlp), then dh1
    public Buf S2 { get; }           // (B, T, C) block-backward scratch: datt
    public Buf DQkv { get; }         // (B, T, 3C)
    public Buf DGateUp { get; }      // (B, T, 2I)
    public Buf DAct { get; }         // (B, T, I)
    public Buf DPuzzleRows { get; }  // (B, Pd) per-row puzzle-embedding gradients for the sparse optimiser
}
