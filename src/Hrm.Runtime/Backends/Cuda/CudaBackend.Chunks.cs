using Hrm.Runtime.Memory;

namespace Hrm.Runtime.Backends.Cuda;

/// <summary>
/// Row chunks that keep intermediates in the GPU's L2 cache (50 MB on an H200) between the op that writes them and the
/// op that reads them, instead of a round trip through device memory: the gate/up GEMM and its SwiGLU inside
/// <see cref="MatmulSwiGluForward"/> (<see cref="CudaBackendOptions.SwiGluChunkRows"/>; their (B·T, 2I) bf16 product
/// is a block's largest intermediate, 387 MB at Sudoku's batch 768), and the model's whole block after the attention
/// (<see cref="BlockChunkRows"/>, <see cref="CudaBackendOptions.BlockChunkRows"/>).
/// </summary>
public sealed unsafe partial class CudaBackend
{
    /// <summary>Chunk rows are a multiple of this, so every chunk's bf16 operands and outputs start 256-byte aligned
    /// (at any width) where the whole buffer does.</summary>
    private const int ChunkAlign = 128;

    /// <inheritdoc/>
    /// <remarks>
    /// The GEMM, then the SwiGLU kernel; with <see cref="CudaBackendOptions.SwiGluChunkRows"/> and bf16 intermediates,
    /// both per chunk of rows (<see cref="SwiGluChunk"/>). Without <paramref name="keepGateUp"/> every chunk's product
    /// goes to the first rows of gateUp (the same bytes each time: they stay in L2); with it, to the chunk's own rows.
    /// Each row's result is the unchunked op's up to the order of the GEMM's sums (cuBLASLt may pick another algorithm
    /// for the chunk's row count).
    /// </remarks>
    public void MatmulSwiGluForward(Buf act, Buf gateUp, Buf inp, Buf weight, int m, int k, int inter,
        bool keepGateUp = false)
    {
        int chunk = SwiGluChunk(m, IsBf16(gateUp));
        if (chunk == 0 || k <= 0 || inter <= 0)
        {
            MatmulForward(gateUp, inp, weight, m, k, 2 * inter);
            SwiGluForward(act, gateUp, m, inter);
            return;
        }
        Enter();
        MatmulDims(m, k, 2 * inter);
        NeedBf16Ok(act, (long)m * inter, nameof(act));
        NeedBf16Ok(gateUp, 2L * m * inter, nameof(gateUp));
        NeedBf16Ok(inp, (long)m * k, nameof(inp));
        Need(weight, 2L * inter * k, nameof(weight));
        if (!IsBf16(act))
            throw new ArgumentException("act and gateUp: both bf16 (bf16 intermediates) or both float", nameof(act));
        // The whole input in bf16 once (itself, its producer's copy or one conversion): the chunks slice it.
        Buf x = new((nint)OperandBf16(inp, (long)m * k), (long)m * k, sizeof(ushort)); // (M, K) bf16
        for (int r0 = 0; r0 < m; r0 += chunk)
        {
            int rows = Math.Min(chunk, m - r0);
            Buf gu = gateUp.Slice(keepGateUp ? 2L * r0 * inter : 0, 2L * rows * inter); // (rows, 2I) bf16
            MatmulForward(gu, x.Slice((long)r0 * k, (long)rows * k), weight, rows, k, 2 * inter);
            SwiGluForward(act.Slice((long)r0 * inter, (long)rows * inter), gu, rows, inter);
        }
    }

    /// <inheritdoc/>
    /// <remarks><see cref="CudaBackendOptions.BlockChunkRows"/>, rounded and split as <see cref="EvenChunk"/> says, for
    /// the blocks that are not recorded and keep a bf16 residual stream (<see cref="Bf16StreamForward"/>): there every
    /// op reads its bf16 operands as they are. Elsewhere 0: a producer's bf16 copy of an fp32 output (the attention
    /// output, the stream; <see cref="TakeShadow"/>) would cover one chunk, and later chunks would convert theirs
    /// again.
    /// </remarks>
    public int BlockChunkRows(int rows, int t, int hs, bool record) =>
        record || !Bf16StreamForward(t, hs) ? 0 : EvenChunk(rows, Options.BlockChunkRows);

    /// <summary>
    /// Rows per chunk of <see cref="MatmulSwiGluForward"/> on <paramref name="m"/> rows, or 0 for one GEMM and one
    /// SwiGLU (<see cref="EvenChunk"/> of <see cref="CudaBackendOptions.SwiGluChunkRows"/>); only for a bf16 gate/up
    /// product (bf16 intermediates).
    /// </summary>
    internal int SwiGluChunk(int m, bool bf16GateUp) =>
        bf16GateUp && Bf16Intermediates ? EvenChunk(m, Options.SwiGluChunkRows) : 0;

    /// <summary>
    /// Rows per chunk for <paramref name="m"/> rows and an option of <paramref name="limit"/> rows, or 0 for all rows
    /// at once (the option 0 or less, or no more rows than a chunk): the option rounded down to a multiple of
    /// <see cref="ChunkAlign"/> (at least that), then the rows split evenly over as few chunks as that allows, in
    /// multiples of <see cref="ChunkAlign"/> too (so at most two row counts: two GEMM plans per shape).
    /// </summary>
    internal static int EvenChunk(int m, int limit)
    {
        if (limit <= 0) return 0;
        limit = Math.Max(ChunkAlign, limit / ChunkAlign * ChunkAlign);
        if (m <= limit) return 0;
        int chunks = (m + limit - 1) / limit;
        int even = (m + chunks - 1) / chunks;
        return (even + ChunkAlign - 1) / ChunkAlign * ChunkAlign;
    }
}
