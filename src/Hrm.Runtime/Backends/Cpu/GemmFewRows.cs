using System.Runtime.CompilerServices;
using Hrm.Runtime.Threading;

namespace Hrm.Runtime.Backends.Cpu;

/// <summary>
/// The forward product for few rows (batch-1 inference: M = 82 for Sudoku), where the weights, not the rows,
/// are the traffic: each W is read from memory once per call and used for only M rows. The general path packs the
/// whole Wᵀ into shared scratch in a pass of its own and then streams the packed copy back, so every weight
/// crosses the memory bus three times and nothing overlaps the FMAs. Here every thread packs all of A once into
/// its own scratch (A is small), then, panel by panel of its columns, transposes the panel's NR weight rows into
/// an L2-resident buffer and runs all MR-row micro-panels on it while each kernel call prefetches a share of the
/// next panel's weight rows (contiguous in W; Vector512 kernel only). Measured in docs/benchmarks.md (2026-11-29
/// notes): 1.3x on the batch-1 forward GEMMs. Same tiles, same reduction order (chunks of <see cref="Kc"/>,
/// p in order), so the results are bitwise identical to the general path, for any thread count.
/// </summary>
internal static unsafe partial class Gemm
{
    /// <summary>Most floats of packed A (all rows, all of K) one thread keeps: 1 MiB, half of a 2 MiB L2.</summary>
    internal const int FewRowsMaxPackedA = 1 << 18;

    /// <summary>Whether <see cref="Forward"/> takes the few-rows path for these sizes.</summary>
    internal static bool FewRows(int m, int k, GemmPath path)
    {
        int mr = MrOf(path);
        return path != GemmPath.Scalar && (long)(m + mr - 1) / mr * mr * k <= FewRowsMaxPackedA;
    }

    /// <summary>out (M,N) = inp (M,K) · weight (N,K)ᵀ for few rows; the caller holds the scratch gate.</summary>
    private static void ForwardFewRows(float* output, float* inp, float* weight, int m, int k, int n, WorkerPool pool,
        GemmPath path, GemmScratch scratch, PackedPanels? packed)
    {
        var job = new FewRowsJob(path, output, inp, weight, m, k, n, swiGlu: false, packed);
        RunFewRows(ref job, pool, scratch, packed);
    }

    /// <summary>Floats of the packed panels of a (cols, red) weight, or of a (2·cols, red) one for SwiGLU.</summary>
    internal static long PackedPanelFloats(int red, int cols, bool swiGlu, GemmPath path)
    {
        int nr = NrOf(path);
        return (swiGlu ? 2L : 1L) * ((cols + nr - 1) / nr) * red * nr;
    }

    /// <summary>
    /// act (M,I) = SiLU(inp·Wgᵀ)·(inp·Wuᵀ) for few rows, weight (2I,K) = [Wg; Wu]: the gate and up panels of the same
    /// columns run back to back into per-thread tiles and the SwiGLU is applied there, so the (M,2I) product is never
    /// written. Bitwise what <see cref="Forward"/> then CpuOps.SwiGluForward give (same tiles, same reduction order,
    /// the same activation code on the same column ranges). The caller holds the scratch gate.
    /// </summary>
    private static void ForwardSwiGluFewRows(float* act, float* inp, float* weight, int m, int k, int inter,
        WorkerPool pool, GemmPath path, GemmScratch scratch, PackedPanels? packed)
    {
        var job = new FewRowsJob(path, act, inp, weight, m, k, inter, swiGlu: true, packed);
        RunFewRows(ref job, pool, scratch, packed);
    }

    private static void RunFewRows(ref FewRowsJob job, WorkerPool pool, GemmScratch scratch, PackedPanels? packed)
    {
        int threads = pool.ThreadCount;
        job.Tiles = Math.Min(job.ColPanels, 4 * threads);
        job.Scratch = scratch.PerThread(job.ScratchStride, threads);
        int next = 0;
        job.Next = &next;
        fixed (FewRowsJob* pj = &job) pool.Run(pj, Math.Min(threads, job.Tiles));
        if (packed != null) packed.Valid = true; // every panel was packed by the thread that computed it
    }

    /// <summary>
    /// Tiles are groups of column panels, claimed dynamically; a thread packs A on its first claim. In SwiGLU mode a
    /// column panel is a gate panel and the up panel of the same columns.
    /// </summary>
    private struct FewRowsJob : IParallelJob
    {
        private readonly GemmPath _path;
        private readonly bool _swiGlu;
        private readonly int _mr, _nr, _rows, _cols, _red, _rowMicro;

        /// <summary>out (rows, cols); inp (rows, red); weight (cols, red), or (2·cols, red) = [gate; up] for SwiGLU.</summary>
        private readonly float* _out, _inp, _weight;

        /// <summary>
        /// Per thread: packed A [chunks][rowMicro][kl·MR], one B panel [red·NR], an edge tile [MR·NR]; for SwiGLU also
        /// the gate and up tiles of one panel [rowMicro·MR·NR] each.
        /// </summary>
        private readonly nint _apFloats, _bpFloats, _ctFloats, _tileFloats;

        /// <summary>Kept panels (slot s at s·red·NR; SwiGLU: gate panels, then up panels), or null.</summary>
        private readonly float* _packed;
        private readonly bool _packedValid;

        public FewRowsJob(GemmPath path, float* output, float* inp, float* weight, int rows, int red, int cols,
            bool swiGlu, PackedPanels? packed)
        {
            _swiGlu = swiGlu;
            if (packed != null)
            {
                if (packed.Floats < PackedPanelFloats(red, cols, swiGlu, path))
                    throw new ArgumentException("packed panels: too small for this weight", nameof(packed));
                _packed = packed.Panels;
                _packedValid = packed.Valid;
            }
            _path = path;
            _mr = MrOf(path);
            _nr = NrOf(path);
            _out = output;
            _inp = inp;
            _weight = weight;
            _rows = rows;
            _red = red;
            _cols = cols;
            _rowMicro = (rows + _mr - 1) / _mr;
            ColPanels = (cols + _nr - 1) / _nr;
            // + 16: the 16-row transposes of the packing write two floats past a micro-panel.
            _apFloats = RoundUp16((nint)_rowMicro * _mr * red) + 16;
            _bpFloats = RoundUp16((nint)red * _nr);
            _ctFloats = RoundUp16((nint)_mr * _nr);
            _tileFloats = swiGlu ? RoundUp16((nint)_rowMicro * _mr * _nr) : 0;
            ScratchStride = _apFloats + _bpFloats + _ctFloats + 2 * _tileFloats;
        }

        public int ColPanels { get; }

        public nint ScratchStride { get; }

        public int Tiles;
        public int* Next;
        public float* Scratch;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int thread)
        {
            float* ap = Scratch + thread * ScratchStride;
            float* bp = ap + _apFloats;
            float* ct = bp + _bpFloats;
            int tile = Interlocked.Increment(ref *Next) - 1;
            if (tile >= Tiles) return;
            for (int kk = 0; kk < _red; kk += Kc)
            {
                int kl = Math.Min(Kc, _red - kk);
                for (int mi = 0; mi < _rowMicro; mi++)
                    PackMicroPanel(_path, PackedA(ap, mi, kk, kl), _inp, _red, _rows, mi * _mr, kk, kl);
            }
            while (tile < Tiles)
            {
                int pan1 = FirstPanel(tile + 1), next = tile;
                for (int pj = FirstPanel(tile); pj < pan1; pj++)
                {
                    // The last panel of a tile claims the next tile, so that it can prefetch that tile's first panel.
                    if (pj == pan1 - 1) next = Interlocked.Increment(ref *Next) - 1;
                    int prefetch = pj < pan1 - 1 ? pj + 1 : next < Tiles ? FirstPanel(next) : -1;
                    if (_swiGlu) SwiGluPanel(pj, prefetch, ap, bp, ct);
                    else Panel(_weight, pj, pj, _out + (nint)pj * _nr, _cols, NextPanel(_weight, prefetch, prefetch),
                        ap, bp, ct);
                }
                tile = next;
            }
        }

        private readonly int FirstPanel(int tile) => (int)((long)tile * ColPanels / Tiles);

        private readonly float* PackedA(float* ap, int mi, int kk, int kl) =>
            ap + (nint)_rowMicro * _mr * kk + (nint)mi * _mr * kl;

        /// <summary>
        /// What to prefetch for panel <paramref name="pj"/> of a (cols, red) weight (kept in <paramref name="slot"/>):
        /// its kept panel when valid, else its weight rows; start and 64-byte lines (none when pj is negative).
        /// </summary>
        private readonly (nint Start, long Lines) NextPanel(float* weight, int pj, int slot) => pj < 0 ? (0, 0)
            : _packedValid ? ((nint)(_packed + (nint)slot * _red * _nr), (long)_red * _nr * sizeof(float) / 64)
            : ((nint)(weight + (nint)pj * _nr * _red),
                (long)Math.Min(_nr, _cols - pj * _nr) * _red * sizeof(float) / 64);

        /// <summary>
        /// SwiGLU mode, panel pj: the gate panel into one tile, the up panel into the other (prefetching the up panel,
        /// then panel <paramref name="prefetch"/>'s gate rows), then act[:, columns] = SiLU(gate)·up.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly void SwiGluPanel(int pj, int prefetch, float* ap, float* bp, float* ct)
        {
            float* gate = ct + _ctFloats, up = gate + _tileFloats, upWeight = _weight + (nint)_cols * _red;
            Panel(_weight, pj, pj, gate, _nr, NextPanel(upWeight, pj, ColPanels + pj), ap, bp, ct);
            Panel(upWeight, pj, ColPanels + pj, up, _nr, NextPanel(_weight, prefetch, prefetch), ap, bp, ct);
            int c0 = pj * _nr, cw = Math.Min(_nr, _cols - c0);
            for (int r = 0; r < _rows; r++)
                CpuOps.SwiGluRow(_out + (nint)r * _cols + c0, gate + (nint)r * _nr, up + (nint)r * _nr, cw);
        }

        /// <summary>
        /// Column panel pj of a (cols, red) weight into output (row stride ldc, the panel's first column): pack its
        /// weight rows (into bp, or into kept slot <paramref name="slot"/>, unless that is already valid), then every
        /// micro-panel and reduction chunk on it, while the kernel calls prefetch the lines of
        /// <paramref name="next"/> (the next panel's weight rows or kept panel, one contiguous block).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly void Panel(float* weight, int pj, int slot, float* output, nint ldc,
            (nint Start, long Lines) next, float* ap, float* bp, float* ct)
        {
            int mr = _mr, nr = _nr;
            if (_packed != null) bp = _packed + (nint)slot * _red * nr;
            if (!_packedValid) PackPanelTransposed(_path, bp, weight, _red, _red, _cols, pj);
            int cw = Math.Min(nr, _cols - pj * nr);
            byte* pf = (byte*)next.Start;
            int calls = _rowMicro * ((_red + Kc - 1) / Kc), call = 0;
            for (int kk = 0; kk < _red; kk += Kc)
            {
                int kl = Math.Min(Kc, _red - kk);
                for (int mi = 0; mi < _rowMicro; mi++, call++)
                {
                    // Each kernel call prefetches its share of the next panel's lines.
                    long l0 = next.Lines * call / calls, l1 = next.Lines * (call + 1) / calls;
                    int r = mi * mr;
                    KernelTile(_path, PackedA(ap, mi, kk, kl), bp + (nint)kk * nr, output + (nint)r * ldc, ldc,
                        ct, Math.Min(mr, _rows - r), cw, kl, load: kk > 0, pf + l0 * 64, (int)Math.Min(l1 - l0, kl));
                }
            }
        }
    }
}
