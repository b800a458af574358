using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Hrm.Runtime.Threading;

namespace Hrm.Runtime.Backends.Cpu;

// The packing of Gemm.cs's operands: A into MR-row micro-panels, B into NR-column panels, the dweight chunks.
internal static unsafe partial class Gemm
{
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
            bool v512 = _path == GemmPath.Vector512, v256 = _path == GemmPath.Vector256;
            for (int mi = m0; mi < m1; mi++)
            {
                float* d = _aDst + (nint)mi * kl * mr, s = _dout + mi * mr;
                int cw = Math.Min(mr, n - mi * mr), p = 0;
                if (v512 && mi * 14 + 16 <= n)
                {
                    // A 16-float store spills two floats into the next row's slot, written next (not on the last row).
                    for (; p < kl - 1; p++) Vector512.Store(Vector512.Load(s + (nint)p * n), d + (nint)p * 14);
                }
                else if (v256 && mi * 6 + 8 <= n)
                {
                    for (; p < kl - 1; p++) Vector256.Store(Vector256.Load(s + (nint)p * n), d + (nint)p * 6);
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
            bool v512 = _path == GemmPath.Vector512, v256 = _path == GemmPath.Vector256;
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
                else if (v256 && p + 1 < p1)
                {
                    // The same on Vector256 (MR 6): an 8-float store, two floats into row p+1.
                    for (; mi * 6 + 8 <= n; mi++)
                        Vector256.Store(Vector256.Load(s + mi * 6), _aDst + ((nint)mi * kl + p) * 6);
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
        if (path is GemmPath.Vector512 or GemmPath.Vector256)
        {
            // tb×tb register transposes (16×16, 8×8 on Vector256) for full groups of tb source rows; scalar for the p
            // tail. On AVX2 the scalar loop alone was a third of the batch-1 forward GEMMs' time.
            int tb = path == GemmPath.Vector512 ? 16 : 8, pv = red & -tb;
            for (; j + tb <= nr && pj * nr + j + tb <= cols; j += tb)
            {
                float* s = src + (nint)(pj * nr + j) * ld;
                for (int p = 0; p < pv; p += tb)
                {
                    if (tb == 16) GemmKernels.Transpose16x16(s + p, ld, panel + p * nr + j, nr);
                    else GemmKernels.Transpose8x8(s + p, ld, panel + p * nr + j, nr);
                }
                for (int jj = 0; jj < tb; jj++)
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
}
