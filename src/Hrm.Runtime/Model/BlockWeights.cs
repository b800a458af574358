using Hrm.Runtime.Memory;

namespace Hrm.Runtime.Model;

/// <summary>Views of one block's four weights and their gradients.</summary>
internal readonly record struct BlockWeights(
    Buf Qkv,     // (3C, C)
    Buf O,       // (C, C)
    Buf GateUp,  // (2I, C)
    Buf Down,    // (C, I)
    Buf DQkv,
    Buf DO,
    Buf DGateUp,
    Buf DDown);
