using System.Runtime.CompilerServices;
using Hrm.Runtime.Threading;

namespace Hrm.Runtime.Backends.Cpu;

// The tiled product of Gemm.cs: the task grid, A packed once per call or per tile, the tile job and its
// micro-kernel calls.
internal static unsafe partial class Gemm
{
    /// <summary>Chooses the task grid and scratch, then runs the job on the pool.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunGemm(ref GemmJob job, WorkerPool pool, GemmScratch scratch)
    {
        int threads = pool.ThreadCount;
        int target = 4 * threads;
        int rowMicro = (job.Rows + job.Mr - 1) / job.Mr;
        int colPanels = (job.Cols + job.Nr - 1) / job.Nr;
        int rowBlocks = (rowMicro + MaxMicroPerTask - 1) / MaxMicroPerTask;
        int colGroups = 1;
        while (rowBlocks * colGroups < target)
        {
            // At least 4 tiles per thread: prefer splitting columns while groups keep >= 4 panels (A is packed once
            // per tile and chunk), then rows, then columns down to single panels.
            if (colPanels / (colGroups * 2) >= 4) colGroups *= 2;
            else if (rowBlocks < rowMicro) rowBlocks = Math.Min(rowMicro, rowBlocks * 2);
            else if (colGroups < colPanels) colGroups = Math.Min(colPanels, colGroups * 2);
            else break;
        }
        // Column groups whose packed B chunk (Kc x columns) fits in about 1 MiB, taken group by group (tiles run
        // the row blocks of one group in turn), so consecutive tiles reuse B from L2 instead of streaming all of it
        // from L3 once per row block. `hrm-bench profile-train`, three A/B pairs: training step 3.73-3.79 → 3.67-3.74 s.
        int panelBytes = Math.Min(Kc, job.Red) * job.Nr * sizeof(float) * (job.SwiGlu ? 2 : 1); // SwiGLU: gate + up
        int panelsPerGroup = Math.Max(1, GroupBytes / panelBytes);
        colGroups = Math.Max(colGroups, (colPanels + panelsPerGroup - 1) / panelsPerGroup);
        // RoPE: groups of whole heads (a head's two halves rotate together), in units of lcm(HS, NR) columns.
        job.PanelUnit = job.Rope.Cos != null ? job.Rope.Hs / Gcd(job.Rope.Hs, job.Nr) : 1;
        colGroups = Math.Min(colGroups, (colPanels + job.PanelUnit - 1) / job.PanelUnit);
        // Row blocks in a multiple of the threads: each owns the same number, hence (blocks cut in proportion) the
        // same rows to within one micro-panel. 47 blocks of 4 micro-panels gave one thread a whole tile more than the
        // other (2,624 rows: 24 vs 23 tiles: a tile's time idle at the end of every call). `profile-train`, three
        // alternating pairs: the four GEMM ops 0-4% faster per call, step 3,392-3,530 → 3,375-3,398 ms.
        if (rowBlocks % threads != 0) rowBlocks = Math.Min(rowMicro, (rowBlocks + threads - 1) / threads * threads);
        job.RowMicro = rowMicro;
        job.RowBlocks = rowBlocks;
        job.ColPanels = colPanels;
        job.ColGroups = colGroups;
        int maxMicro = (rowMicro + rowBlocks - 1) / rowBlocks;
        int kc = Math.Min(Kc, job.Red);
        // Tiles pack their A rows once per column group: with several groups, pack all of A once instead.
        // `hrm-bench gemm`, two A/B runs, best of 10: [2624|5248, 512] x [512, 1536|3072] 1-8% faster.
        // One column group (o_proj, down, dinp): each tile would pack its rows of A once; the kernel reads them in
        // place instead when A's row stride is one it has an instantiation for (whole micro-panels; the ragged last
        // one is packed). `profile-train`, three alternating pairs: MatmulForward 6.90-6.98 → 6.74-6.90 ms per call,
        // MatmulBackward 25.0-25.3 → 24.9-25.1. With several groups A is packed once for all (PrePackA): reading it in
        // place there was as fast as packing (the in-place kernel is a little slower than the packed one).
        job.RowStrideKernel = !job.APacked && colGroups < 2 && job.Cols % job.Nr == 0
            ? InPlaceStride(job.Path, job.ARowStride) : 0;
        if (!job.APacked && colGroups >= 2) PrePackA(ref job, pool, scratch);
        // + 16: the 16-row transposes of PackA write two floats past a micro-panel.
        job.ApFloats = job.APacked ? 0 : RoundUp16((nint)maxMicro * job.Mr * kc) + 16;
        job.ScratchStride = job.ApFloats + 2 * RoundUp16((nint)job.Mr * job.Nr); // edge tile; SwiGLU: gate, up
        job.Tiles = rowBlocks * colGroups;
        job.Scratch = scratch.PerThread(job.ScratchStride, threads);
        int workers = Math.Min(threads, job.Tiles);
        // Each worker owns the row blocks of its share of the rows (as the row-parallel ops and the attention split
        // them, so most of what it reads next was written by its own core) and takes its tiles group by group; when
        // done it takes the others' remaining tiles from their ends (robust to a descheduled thread).
        job.Workers = workers;
        long* queues = stackalloc long[workers];
        job.Queues = queues;
        // One pass over all the tiles per reduction chunk (a pool run each; SwiGLU jobs have one chunk): a tile that
        // ran all its chunks in turn was 4-7% slower at K = 1536 than three K = 512 products of the same size (a
        // scratch probe, [2624, 1536] x [1536, 512], 2 threads: 10.6 vs 10.1-10.3 ms per call; chunk by chunk
        // 10.1-10.3). `profile-train`, three alternating pairs: MatmulForward (o_proj and down) 7.24-7.35 → 6.94-7.26
        // ms per call. The same reduction order, so the same bits.
        for (int kk = 0; kk < job.Red; kk += Kc)
        {
            job.Chunk = kk;
            for (int t = 0; t < workers; t++)
                queues[t] = TileQueue.Create(OwnedRowBlocks(rowBlocks, workers, t).Count * colGroups);
            fixed (GemmJob* p = &job) pool.Run(p, workers);
        }
    }

    /// <summary>Row blocks [Start, Start + Count) owned by worker <paramref name="t"/> of <paramref name="workers"/>.</summary>
    private static (int Start, int Count) OwnedRowBlocks(int rowBlocks, int workers, int t)
    {
        int r0 = (int)((long)t * rowBlocks / workers), r1 = (int)((long)(t + 1) * rowBlocks / workers);
        return (r0, r1 - r0);
    }

    private static nint RoundUp16(nint x) => (x + 15) & ~(nint)15;

    private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);

    /// <summary>
    /// Packs all of A into micro-panels once (shared scratch) when the tiles would each pack their rows once per
    /// column group; the job then reads them (APacked).
    /// </summary>
    private static void PrePackA(ref GemmJob job, WorkerPool pool, GemmScratch scratch)
    {
        nint stride = RoundUp16((nint)job.Red * job.Mr) + 16; // + 16: the transposes' two-float spill
        float* dst = scratch.SharedA(stride * job.RowMicro);
        var pack = new APackJob(job.Path, dst, stride, job.A, job.ARowStride, job.Rows, job.Red, job.RowMicro,
            pool.ThreadCount);
        pool.Run(&pack, pack.Tasks);
        job.A = dst;
        job.APacked = true;
        job.AMicroStride = stride;
    }

    private readonly struct APackJob : IParallelJob
    {
        private readonly GemmPath _path;
        private readonly float* _dst, _a;
        private readonly nint _stride, _lda;
        private readonly int _rows, _red, _rowMicro, _threads;

        public APackJob(GemmPath path, float* dst, nint stride, float* a, nint lda, int rows, int red, int rowMicro,
            int threads)
        {
            _path = path;
            _dst = dst;
            _stride = stride;
            _a = a;
            _lda = lda;
            _rows = rows;
            _red = red;
            _rowMicro = rowMicro;
            _threads = threads;
            Tasks = Math.Max(1, Math.Min(rowMicro, 4 * threads));
        }

        public int Tasks { get; }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(int index)
        {
            // Task i runs on thread i mod T: give each thread a contiguous share of the rows (the GEMM's tiles take
            // theirs from the same share).
            index = CpuOpsSupport.ThreadMajor(index, Tasks, _threads);
            int m0 = (int)((long)index * _rowMicro / Tasks), m1 = (int)((long)(index + 1) * _rowMicro / Tasks);
            int mr = MrOf(_path);
            for (int mi = m0; mi < m1; mi++)
            {
                for (int kk = 0; kk < _red; kk += Kc)
                {
                    int kl = Math.Min(Kc, _red - kk);
                    PackMicroPanel(_path, _dst + mi * _stride + (nint)kk * mr, _a, _lda, _rows, mi * mr, kk, kl);
                }
            }
        }
    }

    /// <summary>Tiles of C (2-D blocks), claimed dynamically by one task per pool thread.</summary>
    private struct GemmJob : IParallelJob
    {
        public readonly GemmPath Path;
        public readonly int Mr, Nr, Rows, Cols, Red;
        public readonly bool Accumulate;

        /// <summary>Row-major A (rows×red, row stride ARowStride), or pre-packed micro-panels when APacked.</summary>
        public float* A;
        public nint ARowStride;
        public bool APacked;

        /// <summary>APacked: floats from one micro-panel to the next (chunk kk of micro-panel mi at mi·AMicroStride + kk·MR).</summary>
        public nint AMicroStride;

        /// <summary>Packed B: panel j at B + j·Red·NR, NR floats per reduction step.</summary>
        public float* B;

        /// <summary>
        /// C = SwiGLU of the product: B holds the gate panels then the up panels (ColPanels each) and the tiles of
        /// one reduction chunk (Red &lt;= Kc) go through the per-thread scratch into SiLU(gate)·up.
        /// </summary>
        public bool SwiGlu;

        /// <summary>SwiGLU only: (Rows, 2·Cols) row-major, gets the product too when not null.</summary>
        public float* GateUp;

        /// <summary>When its tables are set: each tile rotates the Q/K heads of its block once computed.</summary>
        public RopeEpilogue Rope;

        /// <summary>Column groups start at multiples of this many panels (whole heads for <see cref="Rope"/>).</summary>
        public int PanelUnit;
        public float* C;
        public nint Ldc;
        public int RowMicro, RowBlocks, ColPanels, ColGroups, Tiles;

        /// <summary>When not 0, A's row stride (512, 1536 or 3072): whole micro-panels read A in place
        /// (<see cref="GemmKernels.Kernel512{TA}"/> with the matching row offsets), only a ragged last one is packed.</summary>
        public int RowStrideKernel;

        /// <summary>The reduction chunk [Chunk, Chunk + Kc) this pass over the tiles computes.</summary>
        public int Chunk;

        /// <summary>
        /// Per worker, its <see cref="TileQueue"/> of owned tiles, claimed at the front by the owner and at the back by
        /// the others (which thread computes a tile does not change its result).
        /// </summary>
        public long* Queues;
        public int Workers;
        public float* Scratch;
        public nint ScratchStride, ApFloats;

        public GemmJob(GemmPath path, int rows, int cols, int red, bool accumulate)
        {
            Path = path;
            Mr = MrOf(path);
            Nr = NrOf(path);
            Rows = rows;
            Cols = cols;
            Red = red;
            Accumulate = accumulate;
        }

        /// <summary>Task <paramref name="thread"/> (one per pool thread) computes tiles until none is left.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int thread)
        {
            float* scratch = Scratch + thread * ScratchStride;
            int q;
            while ((q = TileQueue.Claim(Queues + thread, front: true)) >= 0) Tile(TileOf(thread, q), scratch);
            for (int i = 1; i < Workers; i++)
            {
                int owner = (thread + i) % Workers;
                while ((q = TileQueue.Claim(Queues + owner, front: false)) >= 0) Tile(TileOf(owner, q), scratch);
            }
        }

        /// <summary>Tile of item <paramref name="q"/> of <paramref name="owner"/>'s queue (its row blocks, group-major).</summary>
        private readonly int TileOf(int owner, int q)
        {
            (int start, int count) = OwnedRowBlocks(RowBlocks, Workers, owner);
            return q / count * RowBlocks + start + q % count;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly void Tile(int index, float* ap)
        {
            int cg = index / RowBlocks, rb = index - cg * RowBlocks; // group-major: see RunGemm
            int mic0 = (int)((long)rb * RowMicro / RowBlocks), mic1 = (int)((long)(rb + 1) * RowMicro / RowBlocks);
            int units = (ColPanels + PanelUnit - 1) / PanelUnit;
            int pan0 = PanelUnit * (int)((long)cg * units / ColGroups);
            int pan1 = Math.Min(ColPanels, PanelUnit * (int)((long)(cg + 1) * units / ColGroups));
            if (mic0 == mic1 || pan0 == pan1) return;
            int mr = Mr, nr = Nr;
            float* ct = ap + ApFloats;
            if (SwiGlu)
            {
                SwiGluTile(mic0, mic1, pan0, pan1, ap, ct);
                return;
            }
            int kk = Chunk, kl = Math.Min(Kc, Red - kk);
            bool load = Accumulate || kk > 0;
            if (!APacked)
            {
                for (int mi = mic0; mi < mic1; mi++)
                {
                    if (RowStrideKernel == 0 || mi * mr + mr > Rows) PackA(ap + (nint)(mi - mic0) * mr * kl, mi * mr, kk, kl);
                }
            }
            for (int pj = pan0; pj < pan1; pj++)
            {
                int c0 = pj * nr, cw = Math.Min(nr, Cols - c0);
                float* bp = B + ((nint)pj * Red + kk) * nr;
                for (int mi = mic0; mi < mic1; mi++)
                {
                    int r = mi * mr, rh = Math.Min(mr, Rows - r);
                    if (RowStrideKernel != 0 && rh == mr)
                    {
                        RowKernel(A + r * ARowStride + kk, bp, C + r * Ldc + c0, Ldc, kl, load);
                        continue;
                    }
                    float* a = APacked ? A + mi * AMicroStride + (nint)kk * mr : ap + (nint)(mi - mic0) * mr * kl;
                    KernelTile(Path, a, bp, C + r * Ldc + c0, Ldc, ct, rh, cw, kl, load, null, 0);
                }
            }
            if (Rope.Cos != null && kk + kl == Red)
            {
                int r0 = mic0 * mr, r1 = Math.Min(mic1 * mr, Rows);
                Rope.Rotate(C, Ldc, r0, r1, pan0 * nr, Math.Min(pan1 * nr, Cols));
            }
        }

        /// <summary>
        /// SwiGLU tile (one reduction chunk): per micro-panel and column panel, the gate and up products into the two
        /// scratch tiles, then act = SiLU(gate)·up on the valid rows and columns (CpuOps.SwiGluRow, column ranges
        /// starting at multiples of NR, so every element gets the code the separate op gives it).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly void SwiGluTile(int mic0, int mic1, int pan0, int pan1, float* ap, float* gate)
        {
            int mr = Mr, nr = Nr, kl = Red;
            float* up = gate + RoundUp16((nint)mr * nr);
            if (!APacked)
            {
                for (int mi = mic0; mi < mic1; mi++)
                {
                    if (RowStrideKernel == 0 || mi * mr + mr > Rows) PackA(ap + (nint)(mi - mic0) * mr * kl, mi * mr, 0, kl);
                }
            }
            for (int pj = pan0; pj < pan1; pj++)
            {
                int c0 = pj * nr, cw = Math.Min(nr, Cols - c0);
                float* bg = B + (nint)pj * kl * nr, bu = B + (nint)(ColPanels + pj) * kl * nr;
                for (int mi = mic0; mi < mic1; mi++)
                {
                    int r = mi * mr, rh = Math.Min(mr, Rows - r);
                    // A whole tile with GateUp wanted: the products go straight into it (stored once either way),
                    // else into the scratch tiles. Copying them out of the scratch tiles cost, at [2624, 512] x
                    // [512, 2 x 1536] (a probe, 3 alternating pairs, best of 40): 23.9-24.7 vs 23.4-24.0 ms per call.
                    bool direct = GateUp != null && rh == mr && cw == nr;
                    float* g = direct ? GateUp + (nint)r * 2 * Cols + c0 : gate, u = direct ? g + Cols : up;
                    nint ld = direct ? 2 * Cols : nr;
                    if (RowStrideKernel != 0 && rh == mr)
                    {
                        float* ar = A + r * ARowStride;
                        RowKernel(ar, bg, g, ld, kl, false);
                        RowKernel(ar, bu, u, ld, kl, false);
                    }
                    else
                    {
                        float* a = APacked ? A + mi * AMicroStride : ap + (nint)(mi - mic0) * mr * kl;
                        Kernel(Path, a, bg, g, ld, kl, false, null, 0);
                        Kernel(Path, a, bu, u, ld, kl, false, null, 0);
                    }
                    for (int i = 0; i < rh; i++)
                        CpuOps.SwiGluRow(C + (r + i) * Ldc + c0, g + i * ld, u + i * ld, cw);
                    if (GateUp != null && !direct) StoreGateUp(r, rh, c0, cw, gate, up);
                }
            }
        }

        /// <summary>The gate and up tiles (rh valid rows, cw valid columns) into GateUp at rows r.., columns c0..
        /// and Cols + c0...</summary>
        private readonly void StoreGateUp(int r, int rh, int c0, int cw, float* gate, float* up)
        {
            nuint bytes = (nuint)cw * sizeof(float);
            for (int i = 0; i < rh; i++)
            {
                float* row = GateUp + (nint)(r + i) * 2 * Cols;
                Buffer.MemoryCopy(gate + (nint)i * Nr, row + c0, bytes, bytes);
                Buffer.MemoryCopy(up + (nint)i * Nr, row + Cols + c0, bytes, bytes);
            }
        }

        /// <summary>C (14×32, or 6×16 on Vector256; row stride ldc) (+)= the MR rows of A at <paramref name="a"/> (in
        /// place, RowStrideKernel apart) times the packed B panel, kl steps.</summary>
        private readonly void RowKernel(float* a, float* b, float* c, nint ldc, int kl, bool load)
        {
            if (Path == GemmPath.Vector256) GemmKernels.Kernel256InPlace(a, b, c, ldc, kl, load, RowStrideKernel);
            else GemmKernels.Kernel512InPlace(a, b, c, ldc, kl, load, RowStrideKernel);
        }

        private readonly void PackA(float* dst, int r, int kk, int kl) =>
            PackMicroPanel(Path, dst, A, ARowStride, Rows, r, kk, kl);
    }

    /// <summary>
    /// One MR×NR tile: the kernel straight into C when the tile is whole, else through the tile scratch
    /// <paramref name="ct"/> (rh valid rows, cw valid columns). pf/pfLines: see <see cref="GemmKernels.Kernel512"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void KernelTile(GemmPath path, float* a, float* b, float* cp, nint ldc, float* ct, int rh, int cw,
        int kl, bool load, byte* pf, int pfLines)
    {
        int mr = MrOf(path), nr = NrOf(path);
        if (rh == mr && cw == nr)
        {
            Kernel(path, a, b, cp, ldc, kl, load, pf, pfLines);
            return;
        }
        if (load)
        {
            for (int i = 0; i < mr; i++)
            {
                for (int j = 0; j < nr; j++) ct[i * nr + j] = i < rh && j < cw ? cp[i * ldc + j] : 0f;
            }
        }
        Kernel(path, a, b, ct, nr, kl, load, pf, pfLines);
        for (int i = 0; i < rh; i++)
        {
            for (int j = 0; j < cw; j++) cp[i * ldc + j] = ct[i * nr + j];
        }
    }

    private static void Kernel(GemmPath path, float* a, float* b, float* c, nint ldc, int kc, bool load, byte* pf,
        int pfLines)
    {
        if (path == GemmPath.Vector512) GemmKernels.Kernel512(a, b, 32, c, ldc, kc, load, pf, pfLines);
        else if (path == GemmPath.Vector128) GemmKernels.Kernel128(a, b, 16, c, ldc, kc, load);
        else GemmKernels.Kernel256(a, b, 16, c, ldc, kc, load);
    }
}
