using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Hrm.Runtime.Threading;

namespace Hrm.Runtime.Backends.Cpu;

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

    /// <summary>
    /// The row stride of A when the kernel of <paramref name="path"/> has an instantiation that reads it in place
    /// (GemmJob.RowStrideKernel), else 0. Vector512: the Sudoku widths; Vector256: the quickstart's (64, and 256 in
    /// the SwiGLU).
    /// A 2-epoch quickstart on AVX2 (Zen 3, `perf`) spent 9.7% of its time packing A per tile (PackMicroPanel); read
    /// in place, three alternating pairs of 3-epoch quickstarts with `--profile`: MatmulForward 0.86-0.95 → 0.61-0.65
    /// ms a call, MatmulRopeForward 1.04-1.14 → 0.87-0.92, MatmulSwiGluForward 2.75-2.92 → 2.56-2.62, MatmulBackward
    /// (its dinp) 3.09-3.34 → 3.02-3.06; the checkpoint after 281 steps byte for byte the same. Session 38 added 192
    /// and 512 (the dinp of the q/k/v and gate/up projections, dout read in place; PackMicroPanel was still 4.1% of a
    /// `perf` profile, all of it there), with 8-float copies in the dweight's doutᵀ packing (DoutTRows, 4.9%):
    /// MatmulBackward 3.29-3.87 → 2.71-3.36 ms a call in five alternating pairs (median -16%), checkpoint the same.
    /// </summary>
    private static int InPlaceStride(GemmPath path, nint stride) => path switch
    {
        GemmPath.Vector512 when stride is 512 or 1536 or 3072 => (int)stride,
        GemmPath.Vector256 when stride is 64 or 192 or 256 or 512 => (int)stride,
        _ => 0,
    };

    private static int MrOf(GemmPath path) => path == GemmPath.Vector512 ? 14 : 6;

    private static int NrOf(GemmPath path) => path == GemmPath.Vector512 ? 32 : 16;

    /// <summary>Columns per packed panel (NR) on <paramref name="path"/>.</summary>
    internal static int PanelWidth(GemmPath path) => NrOf(path);
}
