using Hrm.Runtime.Memory;

namespace Hrm.Runtime.Model;

/// <summary>
/// What one transformer block keeps between forward and backward (or uses as scratch). R = B·T rows. With
/// <c>bf16Inter</c> (<see cref="Backends.IHrmBackend.Bf16Intermediates"/>) GateUp and Act hold bf16 elements, with
/// <c>bf16Qkv</c> (<see cref="Backends.IHrmBackend.Bf16QkvForward"/> in the no-grad scratch,
/// <see cref="Backends.IHrmBackend.Bf16QkvRecorded"/> in the recorded blocks) Qkv too (unrotated), with
/// <c>bf16Stream</c> (<see cref="Backends.IHrmBackend.Bf16StreamForward"/>, likewise) Att and H1.
/// </summary>
internal sealed class BlockActs
{
    public BlockActs(ActivationPlan plan, string prefix, int batch, int t, int c, int nh, int inter, bool bf16Inter,
        bool bf16Qkv = false, bool bf16Stream = false)
    {
        int r = batch * t;
        Qkv = bf16Qkv ? plan.CarveBf16(prefix + ".qkv", batch, t, 3 * c) : plan.Carve(prefix + ".qkv", batch, t, 3 * c);
        Att = bf16Stream ? plan.CarveBf16(prefix + ".att", batch, t, c) : plan.Carve(prefix + ".att", batch, t, c);
        Lse = plan.Carve(prefix + ".lse", batch, nh, t);
        H1 = bf16Stream ? plan.CarveBf16(prefix + ".h1", batch, t, c) : plan.Carve(prefix + ".h1", batch, t, c);
        Rstd1 = plan.Carve(prefix + ".rstd1", r);
        GateUp = bf16Inter ? plan.CarveBf16(prefix + ".gate_up", batch, t, 2 * inter)
            : plan.Carve(prefix + ".gate_up", batch, t, 2 * inter);
        Act = bf16Inter ? plan.CarveBf16(prefix + ".act", batch, t, inter) : plan.Carve(prefix + ".act", batch, t, inter);
        Rstd2 = plan.Carve(prefix + ".rstd2", r);
    }

    public Buf Qkv { get; }     // (B, T, 3C) after RoPE when recorded in fp32; bf16 and unrotated where the backend
                                // allows it (Bf16QkvForward: the no-grad scratch; Bf16QkvRecorded: recorded blocks)

    public Buf Att { get; }     // (B, T, C) attention output before o_proj (bf16 in the bf16 no-grad scratch)

    public Buf Lse { get; }     // (B, NH, T) softmax log-sum-exp

    public Buf H1 { get; }      // (B, T, C) RMSNorm(inp + attn) (bf16 in the bf16 no-grad scratch)

    public Buf Rstd1 { get; }   // (B·T)

    public Buf GateUp { get; }  // (B, T, 2I) float or bf16

    public Buf Act { get; }     // (B, T, I) SiLU(gate)·up, float or bf16

    public Buf Rstd2 { get; }   // (B·T)
}

/// <summary>Recorded activations of one module call: the residual stream at every block boundary, and blocks.</summary>
internal sealed class ModuleActs
{
    public ModuleActs(ActivationPlan plan, string prefix, int layers, int batch, int t, int c, int nh, int inter,
        bool bf16Inter, bool bf16Qkv)
    {
        Stream = new Buf[layers + 1];
        for (int i = 0; i <= layers; i++) Stream[i] = plan.Carve($"{prefix}.stream{i}", batch, t, c);
        Blocks = new BlockActs[layers];
        for (int i = 0; i < layers; i++)
            Blocks[i] = new BlockActs(plan, $"{prefix}.block{i}", batch, t, c, nh, inter, bf16Inter, bf16Qkv);
    }

    public Buf[] Stream { get; }        // (B, T, C) each; Stream[0] = z + injection, Stream[i+1] = block i output

    public BlockActs[] Blocks { get; }
}
