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

    /// <summary>6×16 micro-kernel on Vector256 with FMA.</summary>
    Vector256,

    /// <summary>14×32 micro-kernel on Vector512.</summary>
    Vector512,
}

/// <summary>
/// The GEMM behind <see cref="CpuOps.MatmulForward"/> and <see cref="CpuOps.MatmulBackward"/>, on raw
/// pointers (the public methods validate and pin). All three products are cast into one form,
/// C (rows×cols) (+)= A (rows×red) · B (red×cols) with B and C contiguous along cols:
/// <list type="bullet">
/// <item>forward: C = out (M,N), A = inp (M,K), B = Wᵀ, packed once per call into 32-column panels;</item>
/// <item>dinp: C = dinp (M,K), A = dout (M,N), B = W (N,K) read in place;</item>
/// <item>dweight: C = dweight (N,K) accumulated, A = doutᵀ (N,M), B = inp (M,K) read in place.</item>
/// </list>
/// A is packed per task into MR-row micro-panels (zero-padded). Tasks are 2-D blocks of C (row blocks of up to
/// <see cref="MaxMicroPerTask"/> micro-panels × column groups) so that every C element is owned by one task; the
/// reduction runs in fixed chunks of <see cref="Kc"/>, so results are bitwise identical for any thread count.
/// </summary>
internal static unsafe class Gemm
{
    /// <summary>Reduction chunk: A micro-panel (MR×Kc) and B micro-panel (Kc×NR) stay cache-resident.</summary>
    internal const int Kc = 256;

    /// <summary>Most MR-row micro-panels per task (they share every B micro-panel the task loads).</summary>
    internal const int MaxMicroPerTask = 8;

    /// <summary>The fastest path this machine supports.</summary>
    internal static GemmPath Best =>
        Vector512.IsHardwareAccelerated ? GemmPath.Vector512
        : Vector256.IsHardwareAccelerated && Fma.IsSupported ? GemmPath.Vector256
        : GemmPath.Scalar;

    /// <summary>out (M,N) = inp (M,K) · weight (N,K)ᵀ.</summary>
    internal static void Forward(float* output, float* inp, float* weight, int m, int k, int n, WorkerPool pool,
        GemmPath path)
    {
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            new Span<float>(output, checked(m * n)).Clear();
            return;
        }
        if (path == GemmPath.Scalar)
        {
            var sj = new ScalarJob(ScalarMode.Forward, output, inp, weight, m, k, n, m, pool.ThreadCount);
            pool.Run(&sj, sj.Tasks);
            return;
        }
        GemmScratch scratch = GemmScratch.For(pool);
        lock (scratch.Gate)
        {
            int nr = NrOf(path);
            int panels = (n + nr - 1) / nr;
            float* packed = scratch.Shared((nint)panels * nr * k);
            var pack = new PackTransposedJob(packed, weight, n, k, nr, panels, 4 * pool.ThreadCount);
            pool.Run(&pack, pack.Tasks);

            var job = new GemmJob(path, rows: m, cols: n, red: k, accumulate: false)
            {
                A = inp, ARowStride = k, ARedStride = 1,
                B = packed, BPacked = true,
                C = output, Ldc = n,
            };
            RunGemm(ref job, pool, scratch);
        }
    }

    /// <summary>dinp (M,K) = dout·weight (skipped when null); dweight (N,K) += doutᵀ·inp.</summary>
    internal static void Backward(float* dinp, float* dweight, float* dout, float* inp, float* weight,
        int m, int k, int n, WorkerPool pool, GemmPath path)
    {
        if (m == 0 || k == 0) return; // dinp is empty; dweight gets += 0 (or is empty)
        if (path == GemmPath.Scalar)
        {
            if (dinp != null)
            {
                var sd = new ScalarJob(ScalarMode.Dinp, dinp, dout, weight, m, k, n, m, pool.ThreadCount);
                pool.Run(&sd, sd.Tasks);
            }
            var sw = new ScalarJob(ScalarMode.Dweight, dweight, dout, inp, m, k, n, n, pool.ThreadCount);
            pool.Run(&sw, sw.Tasks);
            return;
        }
        if (n == 0)
        {
            if (dinp != null) new Span<float>(dinp, checked(m * k)).Clear();
            return;
        }
        GemmScratch scratch = GemmScratch.For(pool);
        lock (scratch.Gate)
        {
            if (dinp != null)
            {
                var jd = new GemmJob(path, rows: m, cols: k, red: n, accumulate: false)
                {
                    A = dout, ARowStride = n, ARedStride = 1,
                    B = weight, BRedStride = k,
                    C = dinp, Ldc = k,
                };
                RunGemm(ref jd, pool, scratch);
            }
            var jw = new GemmJob(path, rows: n, cols: k, red: m, accumulate: true)
            {
                A = dout, ARowStride = 1, ARedStride = n,
                B = inp, BRedStride = k,
                C = dweight, Ldc = k,
            };
            RunGemm(ref jw, pool, scratch);
        }
    }

    private static int MrOf(GemmPath path) => path == GemmPath.Vector512 ? 14 : 6;

    private static int NrOf(GemmPath path) => path == GemmPath.Vector512 ? 32 : 16;

    /// <summary>Chooses the task grid and scratch, then runs the job on the pool.</summary>
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
            // Prefer splitting columns while groups keep >= 4 panels (A is then packed once per 4+ panels),
            // then rows, then columns down to single panels.
            if (colPanels / (colGroups * 2) >= 4) colGroups *= 2;
            else if (rowBlocks < rowMicro) rowBlocks = Math.Min(rowMicro, rowBlocks * 2);
            else if (colGroups < colPanels) colGroups = Math.Min(colPanels, colGroups * 2);
            else break;
        }
        // Static round-robin assignment: make the task count a multiple of the thread count where possible.
        int tasks = rowBlocks * colGroups;
        if (tasks % threads != 0 && colGroups == 1)
        {
            int rounded = (rowBlocks + threads - 1) / threads * threads;
            if (rounded <= rowMicro) rowBlocks = rounded;
        }
        job.RowMicro = rowMicro;
        job.RowBlocks = rowBlocks;
        job.ColPanels = colPanels;
        job.ColGroups = colGroups;
        int maxMicro = (rowMicro + rowBlocks - 1) / rowBlocks;
        int kc = Math.Min(Kc, job.Red);
        job.ApFloats = RoundUp16((nint)maxMicro * job.Mr * kc);
        job.ScratchStride = job.ApFloats + RoundUp16((nint)kc * job.Nr) + RoundUp16((nint)job.Mr * job.Nr);
        job.Threads = threads;
        job.Scratch = scratch.PerThread(job.ScratchStride, threads);
        fixed (GemmJob* p = &job) pool.Run(p, rowBlocks * colGroups);
    }

    private static nint RoundUp16(nint x) => (x + 15) & ~(nint)15;

    /// <summary>One 2-D block of C per task; see <see cref="Gemm"/>.</summary>
    private struct GemmJob : IParallelJob
    {
        public readonly GemmPath Path;
        public readonly int Mr, Nr, Rows, Cols, Red;
        public readonly bool Accumulate;
        public float* A;
        public nint ARowStride, ARedStride;
        public float* B;
        public nint BRedStride;
        public bool BPacked;
        public float* C;
        public nint Ldc;
        public int RowMicro, RowBlocks, ColPanels, ColGroups, Threads;
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

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int index)
        {
            int rb = index / ColGroups, cg = index - rb * ColGroups;
            int mic0 = (int)((long)rb * RowMicro / RowBlocks), mic1 = (int)((long)(rb + 1) * RowMicro / RowBlocks);
            int pan0 = (int)((long)cg * ColPanels / ColGroups), pan1 = (int)((long)(cg + 1) * ColPanels / ColGroups);
            if (mic0 == mic1 || pan0 == pan1) return;
            int mr = Mr, nr = Nr;
            float* ap = Scratch + index % Threads * ScratchStride;
            float* bt = ap + ApFloats;
            float* ct = bt + RoundUp16((nint)Math.Min(Kc, Red) * nr);
            for (int kk = 0; kk < Red; kk += Kc)
            {
                int kl = Math.Min(Kc, Red - kk);
                bool load = Accumulate || kk > 0;
                for (int mi = mic0; mi < mic1; mi++) PackA(ap + (nint)(mi - mic0) * mr * kl, mi * mr, kk, kl);
                for (int pj = pan0; pj < pan1; pj++)
                {
                    int c0 = pj * nr, cw = Math.Min(nr, Cols - c0);
                    float* bp;
                    nint bs;
                    if (BPacked)
                    {
                        bp = B + ((nint)pj * Red + kk) * nr;
                        bs = nr;
                    }
                    else if (cw == nr)
                    {
                        bp = B + kk * BRedStride + c0;
                        bs = BRedStride;
                    }
                    else
                    {
                        PackBTail(bt, B + kk * BRedStride + c0, BRedStride, kl, cw, nr);
                        bp = bt;
                        bs = nr;
                    }
                    for (int mi = mic0; mi < mic1; mi++)
                    {
                        int r = mi * mr, rh = Math.Min(mr, Rows - r);
                        float* a = ap + (nint)(mi - mic0) * mr * kl;
                        float* cp = C + r * Ldc + c0;
                        if (rh == mr && cw == nr)
                        {
                            Kernel(a, bp, bs, cp, Ldc, kl, load);
                        }
                        else
                        {
                            if (load)
                            {
                                for (int i = 0; i < mr; i++)
                                {
                                    for (int j = 0; j < nr; j++)
                                        ct[i * nr + j] = i < rh && j < cw ? cp[i * Ldc + j] : 0f;
                                }
                            }
                            Kernel(a, bp, bs, ct, nr, kl, load);
                            for (int i = 0; i < rh; i++)
                            {
                                for (int j = 0; j < cw; j++) cp[i * Ldc + j] = ct[i * nr + j];
                            }
                        }
                    }
                }
            }
        }

        private readonly void Kernel(float* a, float* b, nint bs, float* c, nint ldc, int kc, bool load)
        {
            if (Path == GemmPath.Vector512) GemmKernels.Kernel512(a, b, bs, c, ldc, kc, load);
            else GemmKernels.Kernel256(a, b, bs, c, ldc, kc, load);
        }

        /// <summary>Rows r..r+MR (zero past Rows), reduction kk..kk+kl of A into dst[p*MR + i].</summary>
        private readonly void PackA(float* dst, int r, int kk, int kl)
        {
            int mr = Mr, rh = Math.Min(mr, Rows - r);
            if (ARedStride == 1)
            {
                for (int i = 0; i < rh; i++)
                {
                    float* src = A + r * ARowStride + i * ARowStride + kk;
                    for (int p = 0; p < kl; p++) dst[p * mr + i] = src[p];
                }
                for (int i = rh; i < mr; i++)
                {
                    for (int p = 0; p < kl; p++) dst[p * mr + i] = 0f;
                }
            }
            else
            {
                for (int p = 0; p < kl; p++)
                {
                    float* src = A + (kk + p) * ARedStride + r * ARowStride;
                    float* d = dst + p * mr;
                    int i = 0;
                    for (; i < rh; i++) d[i] = src[i * ARowStride];
                    for (; i < mr; i++) d[i] = 0f;
                }
            }
        }

        /// <summary>A partial column panel (cw &lt; NR columns, kl rows of stride ld) zero-padded to NR.</summary>
        private static void PackBTail(float* dst, float* src, nint ld, int kl, int cw, int nr)
        {
            for (int p = 0; p < kl; p++)
            {
                float* s = src + p * ld;
                float* d = dst + p * nr;
                int j = 0;
                for (; j < cw; j++) d[j] = s[j];
                for (; j < nr; j++) d[j] = 0f;
            }
        }
    }

    /// <summary>Packs W (N,K) into panels of NR columns of Wᵀ: dst[panel][p][j] = W[panel·NR + j, p], zero-padded.</summary>
    private readonly struct PackTransposedJob : IParallelJob
    {
        private readonly float* _dst, _w;
        private readonly int _n, _k, _nr, _panels;

        public PackTransposedJob(float* dst, float* w, int n, int k, int nr, int panels, int maxTasks)
        {
            _dst = dst;
            _w = w;
            _n = n;
            _k = k;
            _nr = nr;
            _panels = panels;
            Tasks = Math.Min(panels, maxTasks);
        }

        public int Tasks { get; }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(int index)
        {
            int p0 = (int)((long)index * _panels / Tasks), p1 = (int)((long)(index + 1) * _panels / Tasks);
            int k = _k, nr = _nr;
            for (int pj = p0; pj < p1; pj++)
            {
                float* panel = _dst + (nint)pj * k * nr;
                for (int j = 0; j < nr; j++)
                {
                    int row = pj * nr + j;
                    float* d = panel + j;
                    if (row < _n)
                    {
                        float* s = _w + (nint)row * k;
                        for (int p = 0; p < k; p++) d[p * nr] = s[p];
                    }
                    else
                    {
                        for (int p = 0; p < k; p++) d[p * nr] = 0f;
                    }
                }
            }
        }
    }

    private enum ScalarMode
    {
        Forward,
        Dinp,
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
                    case ScalarMode.Dinp: // c = dinp, x = dout, y = weight
                    {
                        float* dr = _c + (nint)r * k;
                        for (int t = 0; t < k; t++) dr[t] = 0f;
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
