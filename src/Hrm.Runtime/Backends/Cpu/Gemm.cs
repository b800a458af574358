using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Hrm.Runtime.Threading;

namespace Hrm.Runtime.Backends.Cpu;

/// <summary>Instruction set of the GEMM (tests force the fallbacks through the internal entry points).</summary>
internal enum GemmPath
{
    /// <summary>Plain scalar loops.</summary>
    Scalar,

    /// <summary>6×16 micro-kernel on Vector128 (FMA where the machine has it): arm64, x64 without AVX2.</summary>
    Vector128,

    /// <summary>6×16 micro-kernel on Vector256 with FMA.</summary>
    Vector256,

    /// <summary>14×32 micro-kernel on Vector512.</summary>
    Vector512,
}

/// <summary>
/// The GEMM behind <see cref="CpuOps.MatmulForward"/> and <see cref="CpuOps.MatmulBackward"/>, on raw
/// pointers (the public methods validate and pin). All three products are cast into one form,
/// C (rows×cols) (+)= A (rows×red) · B (red×cols), computed in MR×NR register tiles (14×32 on Vector512) from
/// A packed into MR-row micro-panels (MR floats per reduction step) and B packed into NR-column panels:
/// <list type="bullet">
/// <item>forward: C = out (M,N); A = inp, read in place or packed per tile (once for all tiles when the columns are cut into several
/// groups); B = Wᵀ, packed once per call (16×16 transposes) or kept across calls (<see cref="PackedPanels"/>); with
/// few rows (batch-1 inference) B is packed panel by panel inside the tiles instead (GemmFewRows.cs);</item>
/// <item>dinp: C = dinp (M,K); A = dout, read in place or packed per tile; B = W, packed once per call;</item>
/// <item>dweight: C = dweight (N,K), accumulated; M is cut into equal chunks of at most <see cref="Kc"/> rows, and for each chunk
/// doutᵀ and inp are packed by all threads (rows of dout and inp read contiguously), then the tiles run; a small
/// dweight over several chunks is summed in groups of chunks instead, a group per thread (GemmDweightGroups.cs).</item>
/// </list>
/// The parallel unit is a tile of C (up to <see cref="MaxMicroPerTask"/> micro-panels × a group of panels) for one
/// reduction chunk of <see cref="Kc"/>: a product with a longer reduction runs one pass over all tiles per chunk. Each pool
/// thread owns the tiles of its share of the rows (as the row-parallel ops and the attention split them, so what it
/// reads was mostly written by its own core) and, when done, takes the others' remaining tiles (robust to a
/// descheduled thread; <see cref="TileQueue"/>). Every C element belongs to one tile and its
/// reduction runs in order, in fixed chunks of <see cref="Kc"/> (or, for a grouped dweight, in groups cut by M
/// alone, added in group order), so results are bitwise identical for any thread count, tile split or claiming order.
/// </summary>
internal static unsafe partial class Gemm
{
    /// <summary>Reduction chunk.</summary>
    internal const int Kc = 512;
    /// <summary>Packed B per column group: a block a thread's tiles share while it stays in L2 (2 MiB per core).</summary>
    private const int GroupBytes = 1 << 20;

    /// <summary>
    /// Most MR-row micro-panels per task. A 512-step B panel (64 KiB) does not stay in L1 from one micro-panel to the
    /// next anyway, so taller tiles save little, and smaller ones leave less of a tile for one thread alone at the end
    /// of each pass. 2 against 4, `profile-train`, seven alternating pairs: the GEMM ops 1.3% faster per step (five of
    /// seven pairs), step 3,242 vs 3,276 ms on average.
    /// </summary>
    internal const int MaxMicroPerTask = 2;

    /// <summary>The fastest path this machine supports.</summary>
    internal static GemmPath Best =>
        Vector512.IsHardwareAccelerated ? GemmPath.Vector512
        : Vector256.IsHardwareAccelerated && Fma.IsSupported ? GemmPath.Vector256
        : Vector128.IsHardwareAccelerated ? GemmPath.Vector128
        : GemmPath.Scalar;

    /// <summary>out (M,N) = inp (M,K) · weight (N,K)ᵀ.</summary>
    internal static void Forward(float* output, float* inp, float* weight, int m, int k, int n, WorkerPool pool,
        GemmPath path, PackedPanels? kept = null) => ForwardCore(output, inp, weight, m, k, n, pool, path, kept, default);

    /// <summary>
    /// qkv (M,3C) = inp (M,K) · weight (3C,K)ᵀ, then Q and K (columns 0..2C) rotated in place as
    /// <see cref="CpuOps.RopeForward"/> does, with rows b·T + t at position t. In the general GEMM each tile rotates
    /// its block right after computing it (column groups cut at head boundaries), while it is still in its core's
    /// cache; with few rows, or heads that no whole number of panels holds, the product then the separate pass.
    /// Bitwise the same as those two.
    /// </summary>
    internal static void ForwardRope(float* qkv, float* inp, float* weight, int m, int k, int n, float* cos,
        float* sin, int t, int hs, WorkerPool pool, GemmPath path, PackedPanels? kept = null) =>
        ForwardCore(qkv, inp, weight, m, k, n, pool, path, kept, new RopeEpilogue(cos, sin, t, hs, 2 * (n / 3)));

    private static void ForwardCore(float* output, float* inp, float* weight, int m, int k, int n, WorkerPool pool,
        GemmPath path, PackedPanels? kept, RopeEpilogue rope)
    {
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            new Span<float>(output, checked(m * n)).Clear();
            return;
        }
        bool fused = rope.Cos != null && path != GemmPath.Scalar && !FewRows(m, k, path) && rope.Hs % 2 == 0;
        if (path == GemmPath.Scalar)
        {
            var sj = new ScalarJob(ScalarMode.Forward, output, inp, weight, m, k, n, m, pool.ThreadCount);
            pool.Run(&sj, sj.Tasks);
        }
        else
        {
            GemmScratch scratch = GemmScratch.For(pool);
            lock (scratch.Gate)
            {
                if (FewRows(m, k, path))
                {
                    ForwardFewRows(output, inp, weight, m, k, n, pool, path, scratch, kept);
                }
                else
                {
                    float* packed = PackWeight(scratch, pool, path, weight, k, n, swiGlu: false, kept);
                    var job = new GemmJob(path, rows: m, cols: n, red: k, accumulate: false)
                    {
                        A = inp, ARowStride = k,
                        B = packed,
                        C = output, Ldc = n,
                        Rope = fused ? rope : default,
                    };
                    RunGemm(ref job, pool, scratch);
                }
            }
        }
        if (rope.Cos != null && !fused) RopeEpilogue.Pass(output, rope, m, n, pool);
    }

    /// <summary>
    /// The packed Wᵀ panels of a forward product: the kept copy when it is valid (nothing to do), else packed now,
    /// into the kept copy (then valid) or into the shared scratch. SwiGLU: the gate panels of weight (2I,K), then the
    /// up panels (the layout of <see cref="PackedPanelFloats"/>, the few-rows path's too).
    /// </summary>
    private static float* PackWeight(GemmScratch scratch, WorkerPool pool, GemmPath path, float* weight, int k,
        int cols, bool swiGlu, PackedPanels? kept)
    {
        if (kept != null && kept.Floats < PackedPanelFloats(k, cols, swiGlu, path))
            throw new ArgumentException("packed panels: too small for this weight", nameof(kept));
        if (kept is { Valid: true }) return kept.Panels;
        int nr = NrOf(path);
        nint panelFloats = (nint)((cols + nr - 1) / nr) * k * nr;
        float* dst = kept != null ? kept.Panels : scratch.Shared((swiGlu ? 2 : 1) * panelFloats);
        PackB(dst, pool, path, weight, k, red: k, cols: cols, transposed: true);
        if (swiGlu) PackB(dst + panelFloats, pool, path, weight + (nint)cols * k, k, red: k, cols: cols, transposed: true);
        if (kept != null) kept.Valid = true;
        return dst;
    }

    /// <summary>
    /// act (M,I) = SiLU(inp·Wgᵀ)·(inp·Wuᵀ), weight (2I,K) = [Wg; Wu], without writing the (M,2I) product unless
    /// <paramref name="gateUp"/> is given (then it gets it too), when the sizes take the few-rows path or K &lt;= Kc;
    /// otherwise (and for few rows with gateUp) returns false having done nothing (the caller runs
    /// <see cref="Forward"/> and the SwiGLU). Bitwise the same as those two.
    /// </summary>
    internal static bool TryForwardSwiGlu(float* act, float* inp, float* weight, int m, int k, int inter,
        WorkerPool pool, GemmPath path, PackedPanels? packed = null, float* gateUp = null)
    {
        if (m == 0 || k == 0 || inter == 0 || path == GemmPath.Scalar) return false;
        bool few = FewRows(m, k, path);
        if (few ? gateUp != null : k > Kc) return false; // the general fused tiles hold one reduction chunk
        GemmScratch scratch = GemmScratch.For(pool);
        lock (scratch.Gate)
        {
            if (few)
            {
                ForwardSwiGluFewRows(act, inp, weight, m, k, inter, pool, path, scratch, packed);
                return true;
            }
            float* panels = PackWeight(scratch, pool, path, weight, k, inter, swiGlu: true, packed);
            var job = new GemmJob(path, rows: m, cols: inter, red: k, accumulate: false)
            {
                A = inp, ARowStride = k,
                B = panels, SwiGlu = true,
                C = act, Ldc = inter,
                GateUp = gateUp,
            };
            RunGemm(ref job, pool, scratch);
        }
        return true;
    }

    /// <summary>dinp (M,K) = dout·weight, or += with <paramref name="accumulate"/> (skipped when null); dweight
    /// (N,K) += doutᵀ·inp.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Backward(float* dinp, float* dweight, float* dout, float* inp, float* weight,
        int m, int k, int n, WorkerPool pool, GemmPath path, bool accumulate = false)
    {
        if (m == 0 || k == 0) return; // dinp is empty; dweight gets += 0 (or is empty)
        if (path == GemmPath.Scalar)
        {
            if (dinp != null)
            {
                var sd = new ScalarJob(accumulate ? ScalarMode.DinpAdd : ScalarMode.Dinp, dinp, dout, weight, m, k, n,
                    m, pool.ThreadCount);
                pool.Run(&sd, sd.Tasks);
            }
            var sw = new ScalarJob(ScalarMode.Dweight, dweight, dout, inp, m, k, n, n, pool.ThreadCount);
            pool.Run(&sw, sw.Tasks);
            return;
        }
        if (n == 0)
        {
            if (dinp != null && !accumulate) new Span<float>(dinp, checked(m * k)).Clear();
            return;
        }
        GemmScratch scratch = GemmScratch.For(pool);
        lock (scratch.Gate)
        {
            if (dinp != null)
            {
                int nrw = NrOf(path);
                float* packedW = scratch.Shared((nint)((k + nrw - 1) / nrw) * n * nrw);
                PackB(packedW, pool, path, weight, k, red: n, cols: k, transposed: false);
                var jd = new GemmJob(path, rows: m, cols: k, red: n, accumulate: accumulate)
                {
                    A = dout, ARowStride = n,
                    B = packedW,
                    C = dinp, Ldc = k,
                };
                RunGemm(ref jd, pool, scratch);
            }
            if (DweightGroups(m, k, n, path)) BackwardDweightGroups(dweight, dout, inp, m, k, n, pool, path, scratch);
            else BackwardDweightChunks(dweight, dout, inp, m, k, n, pool, path, scratch);
        }
    }

    /// <summary>dweight (N,K) += doutᵀ (N,M) · inp (M,K) chunk by chunk: each chunk of M packed by the whole pool, then
    /// its GEMM onto dweight; the caller holds the scratch gate.</summary>
    private static void BackwardDweightChunks(float* dweight, float* dout, float* inp, int m, int k, int n,
        WorkerPool pool, GemmPath path, GemmScratch scratch)
    {
        int mr = MrOf(path), nr = NrOf(path);
        // Chunks of equal size (at most Kc rows): each costs a pass over dweight and a packing, whatever its size,
        // so no short last chunk (2,624 rows: 6 x 438, not 5 x 512 + 64). The reduction order is the same.
        int chunks = (m + Kc - 1) / Kc, kc = (m + chunks - 1) / chunks;
        nint aChunk = (nint)kc * ((n + mr - 1) / mr) * mr, bChunk = (nint)kc * ((k + nr - 1) / nr) * nr;
        float* packedA = scratch.Shared(aChunk + bChunk);
        float* packedB = packedA + aChunk;
        for (int kk = 0; kk < m; kk += kc)
        {
            int kl = Math.Min(kc, m - kk);
            var pack = new ChunkPackJob(path, packedA, packedB, dout + (nint)kk * n, inp + (nint)kk * k, kl, n, k,
                4 * pool.ThreadCount);
            pool.Run(&pack, pack.Tasks);
            var jw = new GemmJob(path, rows: n, cols: k, red: kl, accumulate: true)
            {
                A = packedA, APacked = true, AMicroStride = (nint)kl * mr,
                B = packedB,
                C = dweight, Ldc = k,
            };
            RunGemm(ref jw, pool, scratch);
        }
    }

    private static int MrOf(GemmPath path) => path == GemmPath.Vector512 ? 14 : 6;

    private static int NrOf(GemmPath path) => path == GemmPath.Vector512 ? 32 : 16;

    /// <summary>Columns per packed panel (NR) on <paramref name="path"/>.</summary>
    internal static int PanelWidth(GemmPath path) => NrOf(path);

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
        job.RowStrideKernel = !job.APacked && colGroups < 2 && job.Path == GemmPath.Vector512 && job.Cols % job.Nr == 0
            ? job.ARowStride switch { 512 => 512, 1536 => 1536, 3072 => 3072, _ => 0 } : 0;
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

        /// <summary>C (14×32, row stride ldc) (+)= the 14 rows of A at <paramref name="a"/> (in place, RowStrideKernel
        /// apart) times the packed B panel, kl steps.</summary>
        private readonly void RowKernel(float* a, float* b, float* c, nint ldc, int kl, bool load)
        {
            if (RowStrideKernel == 512) GemmKernels.Kernel512<GemmKernels.RowStride512>(a, b, 32, c, ldc, kl, load, null, 0, 1);
            else if (RowStrideKernel == 1536) GemmKernels.Kernel512<GemmKernels.RowStride1536>(a, b, 32, c, ldc, kl, load, null, 0, 1);
            else GemmKernels.Kernel512<GemmKernels.RowStride3072>(a, b, 32, c, ldc, kl, load, null, 0, 1);
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

    /// <summary>
    /// Rows r..r+MR (zero past <paramref name="rows"/>), reduction kk..kk+kl of the row-major A (row stride lda) into
    /// dst[p·MR + i]. On Vector512, with 16 rows available, 16×16 transposes with a destination stride of MR: each
    /// writes two floats past its MR, which the next step (or the next micro-panel, or the scratch slack) overwrites.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PackMicroPanel(GemmPath path, float* dst, float* a, nint lda, int rows, int r, int kk, int kl)
    {
        int mr = MrOf(path), rh = Math.Min(mr, rows - r);
        float* src = a + r * lda + kk;
        int pv = 0;
        if (path == GemmPath.Vector512 && r + 16 <= rows)
        {
            pv = kl & ~15;
            for (int p = 0; p < pv; p += 16) GemmKernels.Transpose16x16(src + p, lda, dst + p * mr, mr);
        }
        for (int i = 0; i < rh; i++)
        {
            float* s = src + i * lda;
            for (int p = pv; p < kl; p++) dst[p * mr + i] = s[p];
        }
        for (int i = rh; i < mr; i++)
        {
            for (int p = pv; p < kl; p++) dst[p * mr + i] = 0f;
        }
    }

    /// <summary>
    /// Packs one chunk of rows (kl rows of dout (·,N) and inp (·,K)) for the dweight product: doutᵀ into MR-row
    /// micro-panels (dst[mi][p][i] = dout[p, mi·MR + i]) and inp into NR-column panels. Tasks own row ranges of inp,
    /// and of dout too unless it is wide (then ranges of micro-panels).
    /// </summary>
    private readonly struct ChunkPackJob : IParallelJob
    {
        private readonly GemmPath _path;
        private readonly float* _aDst, _bDst, _dout, _inp;
        private readonly int _rows, _n, _k;

        public ChunkPackJob(GemmPath path, float* aDst, float* bDst, float* dout, float* inp, int rows, int n, int k,
            int maxTasks)
        {
            _path = path;
            _aDst = aDst;
            _bDst = bDst;
            _dout = dout;
            _inp = inp;
            _rows = rows;
            _n = n;
            _k = k;
            Tasks = Math.Max(1, Math.Min(rows / 8, maxTasks));
        }

        public int Tasks { get; }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(int index)
        {
            int p0 = (int)((long)index * _rows / Tasks), p1 = (int)((long)(index + 1) * _rows / Tasks);
            int mr = MrOf(_path), micro = (_n + mr - 1) / mr;
            // Wide dout (QKV, gate/up): doutᵀ by micro-panel ranges, so that a task's stores stream into one
            // micro-panel at a time instead of scattering over all N/MR of them (24 KB apart) for every row.
            // `hrm-bench gemm`, two A/B runs: backward of the 1536- and 3072-wide shapes 3-6% faster; for N = 512 the
            // row order was as fast or faster (up to 12% at M = 5248).
            if (_n >= 1024) DoutTMicroPanels((int)((long)index * micro / Tasks), (int)((long)(index + 1) * micro / Tasks));
            else DoutTRows(p0, p1);
            PackRows(_bDst, _inp, _k, _rows, _k, NrOf(_path), p0, p1);
        }

        /// <summary>doutᵀ micro-panels m0..m1, each written front to back (rows in order).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void DoutTMicroPanels(int m0, int m1)
        {
            int mr = MrOf(_path), n = _n, kl = _rows;
            bool v512 = _path == GemmPath.Vector512;
            for (int mi = m0; mi < m1; mi++)
            {
                float* d = _aDst + (nint)mi * kl * mr, s = _dout + mi * mr;
                int cw = Math.Min(mr, n - mi * mr), p = 0;
                if (v512 && mi * 14 + 16 <= n)
                {
                    // A 16-float store spills two floats into the next row's slot, written next (not on the last row).
                    for (; p < kl - 1; p++) Vector512.Store(Vector512.Load(s + (nint)p * n), d + (nint)p * 14);
                }
                for (; p < kl; p++)
                {
                    float* dp = d + (nint)p * mr, sp = s + (nint)p * n;
                    int i = 0;
                    for (; i < cw; i++) dp[i] = sp[i];
                    for (; i < mr; i++) dp[i] = 0f;
                }
            }
        }

        /// <summary>Rows p0..p1 of doutᵀ (14 floats of the row into every micro-panel).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void DoutTRows(int p0, int p1)
        {
            int mr = MrOf(_path), n = _n, kl = _rows;
            bool v512 = _path == GemmPath.Vector512;
            for (int p = p0; p < p1; p++)
            {
                // A 16-float store spills two floats into row p+1 of the same micro-panel, which this task writes next
                // (so not on its last row).
                float* s = _dout + (nint)p * n;
                int mi = 0;
                if (v512 && p + 1 < p1)
                {
                    for (; mi * 14 + 16 <= n; mi++)
                        Vector512.Store(Vector512.Load(s + mi * 14), _aDst + ((nint)mi * kl + p) * 14);
                }
                for (; mi * mr < n; mi++)
                {
                    float* d = _aDst + ((nint)mi * kl + p) * mr;
                    int cw = Math.Min(mr, n - mi * mr), i = 0;
                    for (; i < cw; i++) d[i] = s[mi * mr + i];
                    for (; i < mr; i++) d[i] = 0f;
                }
            }
        }
    }

    /// <summary>
    /// Rows r0..r1 of a row-major B (row stride ld, <paramref name="cols"/> columns, <paramref name="red"/> rows)
    /// into NR-column panels: dst[panel][p][j] = src[p·ld + panel·NR + j], zero past cols.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackRows(float* dst, float* src, nint ld, int red, int cols, int nr, int r0, int r1)
    {
        int full = cols / nr;
        nint panelSize = (nint)red * nr;
        for (int p = r0; p < r1; p++)
        {
            float* s = src + p * ld;
            float* d = dst + (nint)p * nr;
            int pj = 0;
            if (nr == 32 && Vector512.IsHardwareAccelerated)
            {
                for (; pj < full; pj++, s += 32, d += panelSize)
                {
                    Vector512.Store(Vector512.Load(s), d);
                    Vector512.Store(Vector512.Load(s + 16), d + 16);
                }
            }
            else if (nr == 16 && Vector256.IsHardwareAccelerated)
            {
                for (; pj < full; pj++, s += 16, d += panelSize)
                {
                    Vector256.Store(Vector256.Load(s), d);
                    Vector256.Store(Vector256.Load(s + 8), d + 8);
                }
            }
            else if (nr == 16 && Vector128.IsHardwareAccelerated)
            {
                for (; pj < full; pj++, s += 16, d += panelSize)
                {
                    Vector128.Store(Vector128.Load(s), d);
                    Vector128.Store(Vector128.Load(s + 4), d + 4);
                    Vector128.Store(Vector128.Load(s + 8), d + 8);
                    Vector128.Store(Vector128.Load(s + 12), d + 12);
                }
            }
            for (; pj < full; pj++, s += nr, d += panelSize)
            {
                for (int j = 0; j < nr; j++) d[j] = s[j];
            }
            if (pj * nr < cols)
            {
                int cw = cols - pj * nr, j = 0;
                for (; j < cw; j++) d[j] = s[j];
                for (; j < nr; j++) d[j] = 0f;
            }
        }
    }

    /// <summary>
    /// Packs B (red×cols) into column panels of NR, zero-padded, at <paramref name="dst"/> (panels·red·NR floats):
    /// dst[panel][p][j] = B(p, panel·NR + j), where B(p, j) = src[j·ld + p] when <paramref name="transposed"/>
    /// (W of the forward pass) and src[p·ld + j] otherwise.
    /// </summary>
    private static void PackB(float* dst, WorkerPool pool, GemmPath path, float* src, int ld, int red, int cols,
        bool transposed)
    {
        int nr = NrOf(path);
        int panels = (cols + nr - 1) / nr;
        var job = new PackJob(dst, src, ld, red, cols, nr, panels, transposed, path, 4 * pool.ThreadCount);
        pool.Run(&job, job.Tasks);
    }

    /// <summary>See <see cref="PackB"/>. Transposed packing splits panels between tasks, direct packing rows.</summary>
    private readonly struct PackJob : IParallelJob
    {
        private readonly float* _dst, _src;
        private readonly nint _ld;
        private readonly int _red, _cols, _nr, _panels;
        private readonly bool _transposed;
        private readonly GemmPath _path;

        public PackJob(float* dst, float* src, nint ld, int red, int cols, int nr, int panels, bool transposed,
            GemmPath path, int maxTasks)
        {
            _dst = dst;
            _src = src;
            _ld = ld;
            _red = red;
            _cols = cols;
            _nr = nr;
            _panels = panels;
            _transposed = transposed;
            _path = path;
            Tasks = Math.Max(1, Math.Min(transposed ? panels : red / 16, maxTasks));
        }

        public int Tasks { get; }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(int index)
        {
            if (_transposed)
            {
                int p0 = (int)((long)index * _panels / Tasks), p1 = (int)((long)(index + 1) * _panels / Tasks);
                for (int pj = p0; pj < p1; pj++) PackTransposedPanel(pj);
            }
            else
            {
                int r0 = (int)((long)index * _red / Tasks), r1 = (int)((long)(index + 1) * _red / Tasks);
                PackRows(_dst, _src, _ld, _red, _cols, _nr, r0, r1);
            }
        }

        private void PackTransposedPanel(int pj) =>
            PackPanelTransposed(_path, _dst + (nint)pj * _red * _nr, _src, _ld, _red, _cols, pj);
    }

    /// <summary>
    /// Panel pj of Bᵀ (B(p, j) = src[j·ld + p], <paramref name="cols"/> source rows, zero past them) into
    /// panel[p·NR + j]: source rows pj·NR.. (contiguous along p) become columns.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackPanelTransposed(GemmPath path, float* panel, float* src, nint ld, int red, int cols, int pj)
    {
        int nr = NrOf(path);
        int j = 0;
        if (path == GemmPath.Vector512)
        {
            // 16×16 register transposes for full groups of 16 source rows; scalar for the p tail.
            int pv = red & ~15;
            for (; j + 16 <= nr && pj * nr + j + 16 <= cols; j += 16)
            {
                float* s = src + (nint)(pj * nr + j) * ld;
                for (int p = 0; p < pv; p += 16) GemmKernels.Transpose16x16(s + p, ld, panel + p * nr + j, nr);
                for (int jj = 0; jj < 16; jj++)
                {
                    for (int p = pv; p < red; p++) panel[p * nr + j + jj] = s[jj * ld + p];
                }
            }
        }
        for (; j < nr; j++)
        {
            int row = pj * nr + j;
            float* d = panel + j;
            if (row < cols)
            {
                float* s = src + row * ld;
                for (int p = 0; p < red; p++) d[p * nr] = s[p];
            }
            else
            {
                for (int p = 0; p < red; p++) d[p * nr] = 0f;
            }
        }
    }

    private enum ScalarMode
    {
        Forward,
        Dinp,
        DinpAdd,
        Dweight,
    }

    /// <summary>Scalar fallback: tasks own contiguous ranges of output rows.</summary>
    private readonly struct ScalarJob : IParallelJob
    {
        private readonly ScalarMode _mode;
        private readonly float* _c, _x, _y;
        private readonly int _m, _k, _n, _rows;

        public ScalarJob(ScalarMode mode, float* c, float* x, float* y, int m, int k, int n, int rows, int threads)
        {
            _mode = mode;
            _c = c;
            _x = x;
            _y = y;
            _m = m;
            _k = k;
            _n = n;
            _rows = rows;
            Tasks = Math.Min(rows, 4 * threads);
        }

        public int Tasks { get; }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(int index)
        {
            int r0 = (int)((long)index * _rows / Tasks), r1 = (int)((long)(index + 1) * _rows / Tasks);
            int m = _m, k = _k, n = _n;
            for (int r = r0; r < r1; r++)
            {
                switch (_mode)
                {
                    case ScalarMode.Forward: // c = out, x = inp, y = weight
                        for (int j = 0; j < n; j++)
                        {
                            float* xr = _x + (nint)r * k, wr = _y + (nint)j * k;
                            float s = 0f;
                            for (int t = 0; t < k; t++) s += xr[t] * wr[t];
                            _c[(nint)r * n + j] = s;
                        }
                        break;
                    case ScalarMode.Dinp or ScalarMode.DinpAdd: // c = dinp, x = dout, y = weight
                    {
                        float* dr = _c + (nint)r * k;
                        if (_mode == ScalarMode.Dinp)
                        {
                            for (int t = 0; t < k; t++) dr[t] = 0f;
                        }
                        for (int j = 0; j < n; j++)
                        {
                            float g = _x[(nint)r * n + j];
                            float* wr = _y + (nint)j * k;
                            for (int t = 0; t < k; t++) dr[t] += g * wr[t];
                        }
                        break;
                    }
                    default: // Dweight: c = dweight, x = dout, y = inp; row r of dweight
                    {
                        float* dr = _c + (nint)r * k;
                        for (int i = 0; i < m; i++)
                        {
                            float g = _x[(nint)i * n + r];
                            float* xr = _y + (nint)i * k;
                            for (int t = 0; t < k; t++) dr[t] += g * xr[t];
                        }
                        break;
                    }
                }
            }
        }
    }
}
