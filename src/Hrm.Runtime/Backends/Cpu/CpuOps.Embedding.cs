using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Hrm.Runtime.Backends.Reference;
using Hrm.Runtime.Threading;
using static Hrm.Runtime.Backends.Cpu.CpuOpsSupport;

namespace Hrm.Runtime.Backends.Cpu;

public static unsafe partial class CpuOps
{
    /// <summary>
    /// x (B,T,C) = scale · [puzzle prefix (P positions, the row zero-padded from Pd to P·C) ; E_tok[tokens]],
    /// and with a learned table (T,C): scale · 0.707106781 · (emb + pos). tokens (B,L); puzzleRows (B,Pd).
    /// </summary>
    public static void EmbeddingForward(Span<float> x, ReadOnlySpan<int> tokens, ReadOnlySpan<float> puzzleRows,
        ReadOnlySpan<float> tokTable, ReadOnlySpan<float> posTable, int batch, int l, int p, int pd, int c,
        int v, float scale, WorkerPool pool)
    {
        CheckEmbeddingDims(batch, l, p, pd, c, v);
        int t = l + p;
        Check(x, (long)batch * t * c, nameof(x));
        Check(tokens, (long)batch * l, nameof(tokens));
        Check(puzzleRows, (long)batch * pd, nameof(puzzleRows));
        Check(tokTable, (long)v * c, nameof(tokTable));
        if (!posTable.IsEmpty) Check(posTable, (long)t * c, nameof(posTable));
        CheckTokens(tokens, v);
        fixed (float* px = x, pPuz = puzzleRows, pTok = tokTable, pPos = posTable)
        fixed (int* pIds = tokens)
        {
            var job = new EmbeddingForwardJob
            {
                X = px, Tokens = pIds, Puzzle = pPuz, TokTable = pTok, PosTable = posTable.IsEmpty ? null : pPos,
                Rows = (long)batch * t, T = t, L = l, P = p, Pd = pd, C = c,
                F = posTable.IsEmpty ? scale : (float)(scale * ReferenceOps.LearnedPosScale),
            };
            job.Parts = Tasks(pool, job.Rows, c);
            pool.Run(&job, job.Parts);
        }
    }

    /// <summary>
    /// Backward of <see cref="EmbeddingForward"/>: dTokTable (V,C) +=, dPuzzleRows (B,Pd) =, dPosTable (T,C) +=
    /// (when not empty; its presence also selects the learned scale). Parallel over channel chunks, so the
    /// scatter-adds never race and each element accumulates in (batch, position) order.
    /// </summary>
    public static void EmbeddingBackward(Span<float> dTokTable, Span<float> dPuzzleRows, Span<float> dPosTable,
        ReadOnlySpan<float> dx, ReadOnlySpan<int> tokens, int batch, int l, int p, int pd, int c, int v,
        float scale, WorkerPool pool)
    {
        CheckEmbeddingDims(batch, l, p, pd, c, v);
        int t = l + p;
        Check(dx, (long)batch * t * c, nameof(dx));
        Check(tokens, (long)batch * l, nameof(tokens));
        Check(dPuzzleRows, (long)batch * pd, nameof(dPuzzleRows));
        Check(dTokTable, (long)v * c, nameof(dTokTable));
        if (!dPosTable.IsEmpty) Check(dPosTable, (long)t * c, nameof(dPosTable));
        CheckTokens(tokens, v);
        fixed (float* pTok = dTokTable, pPuz = dPuzzleRows, pPos = dPosTable, pdx = dx)
        fixed (int* pIds = tokens)
        {
            var job = new EmbeddingBackwardJob
            {
                DTok = pTok, DPuzzle = pPuz, DPos = dPosTable.IsEmpty ? null : pPos, Dx = pdx, Tokens = pIds,
                Batch = batch, T = t, L = l, P = p, Pd = pd, C = c,
                F = dPosTable.IsEmpty ? scale : (float)(scale * ReferenceOps.LearnedPosScale),
            };
            // Channel chunks of whole 16-float blocks; each task also writes the puzzle gradient of some batch rows.
            int blocks = (c + 15) / 16;
            job.Parts = Tasks(pool, blocks, 16L * batch * t);
            if (job.Parts == 0 && batch > 0 && pd > 0) job.Parts = 1;
            job.Blocks = blocks;
            pool.Run(&job, job.Parts);
        }
    }

    /// <summary>dst (N,W) = table (R,W)[ids (N)]; ids outside [0, R) throw.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GatherRows(Span<float> dst, ReadOnlySpan<float> table, ReadOnlySpan<int> ids, int w,
        WorkerPool pool)
    {
        NonNegative(w);
        Check(dst, (long)ids.Length * w, nameof(dst));
        int rows = w == 0 ? 0 : table.Length / w;
        for (int n = 0; n < ids.Length; n++)
        {
            if ((uint)ids[n] >= (uint)rows)
            {
                throw new ArgumentOutOfRangeException(nameof(ids),
                    $"puzzle identifier {ids[n]} at row {n} is outside [0, {rows})");
            }
        }
        fixed (float* pd = dst, pt = table)
        fixed (int* pi = ids)
        {
            var job = new GatherRowsJob { Dst = pd, Table = pt, Ids = pi, N = ids.Length, W = w };
            job.Parts = Tasks(pool, ids.Length, w, ElementwiseMinWork);
            pool.Run(&job, job.Parts);
        }
    }

    private static void CheckEmbeddingDims(int batch, int l, int p, int pd, int c, int v)
    {
        NonNegative(batch);
        NonNegative(l);
        NonNegative(p);
        NonNegative(pd);
        NonNegative(c);
        NonNegative(v);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CheckTokens(ReadOnlySpan<int> tokens, int v)
    {
        for (int i = 0; i < tokens.Length; i++)
        {
            int id = tokens[i];
            if ((uint)id >= (uint)v)
            {
                throw new ArgumentOutOfRangeException(nameof(tokens),
                    $"token {id} at flat index {i} is outside [0, {v})");
            }
        }
    }

    private struct EmbeddingForwardJob : IParallelJob
    {
        public float* X;
        public int* Tokens;
        public float* Puzzle;
        public float* TokTable;
        public float* PosTable; // null: no learned positions
        public long Rows;
        public int T;
        public int L;
        public int P;
        public int Pd;
        public int C;
        public float F;
        public int Parts;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int index)
        {
            long end = Split(Rows, Parts, index + 1);
            for (long r = Split(Rows, Parts, index); r < end; r++)
            {
                int b = (int)(r / T), pos = (int)(r % T);
                float* row = X + r * C;
                float* posRow = PosTable == null ? null : PosTable + (long)pos * C;
                if (pos >= P)
                {
                    float* e = TokTable + (long)Tokens[(long)b * L + pos - P] * C;
                    if (posRow == null) SimdMath.Scale(row, e, F, C);
                    else SimdMath.ScaledSum(row, e, posRow, F, C);
                    continue;
                }
                // Puzzle prefix: flat index pos·C + i into the (zero-padded) puzzle row.
                long first = (long)pos * C;
                int have = (int)Math.Clamp(Pd - first, 0, C);
                float* src = Puzzle + (long)b * Pd + first;
                if (posRow == null)
                {
                    SimdMath.Scale(row, src, F, have);
                    new Span<float>(row + have, C - have).Clear();
                }
                else
                {
                    SimdMath.ScaledSum(row, src, posRow, F, have);
                    SimdMath.Scale(row + have, posRow + have, F, C - have);
                }
            }
        }
    }

    private struct EmbeddingBackwardJob : IParallelJob
    {
        public float* DTok;
        public float* DPuzzle;
        public float* DPos; // null: no learned positions
        public float* Dx;
        public int* Tokens;
        public int Batch;
        public int T;
        public int L;
        public int P;
        public int Pd;
        public int C;
        public float F;
        public int Blocks;
        public int Parts;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int index)
        {
            // dPuzzleRows (=): batch rows split over the tasks; entries beyond P·C get no gradient.
            long puzzleSpan = Math.Min(Pd, (long)P * C);
            int bEnd = (int)Split(Batch, Parts, index + 1);
            for (int b = (int)Split(Batch, Parts, index); b < bEnd; b++)
            {
                float* dst = DPuzzle + (long)b * Pd;
                SimdMath.Scale(dst, Dx + (long)b * T * C, F, (int)puzzleSpan);
                new Span<float>(dst + puzzleSpan, (int)(Pd - puzzleSpan)).Clear();
            }

            int c0 = (int)Split(Blocks, Parts, index) * 16, c1 = Math.Min(C, (int)Split(Blocks, Parts, index + 1) * 16);
            int n = c1 - c0;
            if (n <= 0) return;
            for (int b = 0; b < Batch; b++)
            {
                for (int pos = 0; pos < T; pos++)
                {
                    float* g = Dx + ((long)b * T + pos) * C + c0;
                    if (pos >= P)
                        SimdMath.Axpy(DTok + (long)Tokens[(long)b * L + pos - P] * C + c0, g, F, n);
                    if (DPos != null)
                        SimdMath.Axpy(DPos + (long)pos * C + c0, g, F, n);
                }
            }
        }
    }

    private struct GatherRowsJob : IParallelJob
    {
        public float* Dst;
        public float* Table;
        public int* Ids;
        public int N;
        public int W;
        public int Parts;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int index)
        {
            int end = (int)Split(N, Parts, index + 1);
            nuint bytes = (nuint)W * sizeof(float);
            for (int n = (int)Split(N, Parts, index); n < end; n++)
                Buffer.MemoryCopy(Table + (long)Ids[n] * W, Dst + (long)n * W, bytes, bytes);
        }
    }
}
