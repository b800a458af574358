using Hrm.Runtime.Threading;

namespace Hrm.Runtime.Backends.Cpu;

/// <summary>
/// The rotary embedding of the QKV product, applied by the GEMM's tiles to the blocks they have just computed
/// (<see cref="Gemm.ForwardRope"/>), or as the separate pass when the GEMM cannot. Rows b·T + t are at position t;
/// columns 0..<see cref="RopeCols"/> (Q and K) hold heads of <see cref="Hs"/> floats; cos, sin (T, HS).
/// </summary>
internal readonly unsafe struct RopeEpilogue(float* cos, float* sin, int t, int hs, int ropeCols)
{
    public float* Cos { get; } = cos;
    public float* Sin { get; } = sin;
    public int T { get; } = t;
    public int Hs { get; } = hs;
    public int RopeCols { get; } = ropeCols;

    /// <summary>Rotates the heads that start in columns col0..col1 (col0 a multiple of HS) of rows r0..r1.</summary>
    public void Rotate(float* c, nint ldc, int r0, int r1, int col0, int col1)
    {
        int end = Math.Min(col1, RopeCols), half = Hs / 2;
        for (int r = r0; r < r1; r++)
        {
            nint pos = r % T;
            float* row = c + r * ldc, cs = Cos + pos * Hs, sn = Sin + pos * Hs;
            for (int col = col0; col < end; col += Hs) CpuOps.RopeRotate(row + col, cs, sn, half, 1f);
        }
    }

    /// <summary>The separate pass over all of qkv (M, N) (<see cref="CpuOps.RopeForward"/>).</summary>
    public static void Pass(float* qkv, RopeEpilogue rope, int m, int n, WorkerPool pool)
    {
        int batch = m / rope.T, nh = rope.RopeCols / 2 / rope.Hs;
        CpuOps.RopeForward(new Span<float>(qkv, checked(m * n)),
            new ReadOnlySpan<float>(rope.Cos, checked(rope.T * rope.Hs)),
            new ReadOnlySpan<float>(rope.Sin, checked(rope.T * rope.Hs)), batch, rope.T, nh, rope.Hs, pool);
    }
}
