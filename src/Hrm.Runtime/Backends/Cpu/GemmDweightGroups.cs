using System.Runtime.CompilerServices;
using System.Numerics;
using Hrm.Runtime.Threading;

namespace Hrm.Runtime.Backends.Cpu;

/// <summary>
/// dweight (N,K) += doutᵀ·inp when dweight is small and M is long: the narrow blocks of small models (the quickstart's
/// 64-wide ones: N·K of 4K to 32K floats over M = 64·82 = 5,248 rows). The chunk-by-chunk path runs two pool runs per
/// chunk of at most <see cref="Kc"/> rows (a shared packing, then the few tiles of so small a product), and there
/// the runs' dispatch and waits cost more than the FMAs: 86-170 GFLOP/s of a 442 GFLOP/s peak (`hrm-bench gemm`,
/// quickstart shapes, 2 threads). Here the chunks are cut into <see cref="DweightGroupCount"/> groups of consecutive
/// chunks, and one pool run computes each group's sum into a slot of its own: a thread takes a whole group, packs
/// each of its chunks into its own scratch and runs every tile of it, the chunks in order (the first starts from
/// zero). A second run adds the slots to dweight in group order. The cut depends only on M, so the result is
/// bitwise the same for any thread count; it is not the chunk-by-chunk path's order (that one sums all of M onto
/// dweight in one chain).
/// </summary>
internal static unsafe partial class Gemm
{
    /// <summary>Largest dweight (N·K floats, 256 KiB) that takes the grouped path.</summary>
    internal const int DweightGroupsMaxFloats = 1 << 16;

    /// <summary>Most groups: the slots (groups × N·K floats, at most 4 MiB) and the final adds stay small.</summary>
    internal const int DweightMaxGroups = 16;

    /// <summary>Whether <see cref="Backward"/> computes dweight in groups of chunks (by shape, never by thread count).
    /// </summary>
    internal static bool DweightGroups(int m, int k, int n, GemmPath path) =>
        path != GemmPath.Scalar && m > Kc && (long)n * k <= DweightGroupsMaxFloats;

    /// <summary>Groups of the (equal, at most Kc-row) chunks of M: one per chunk, up to <see cref="DweightMaxGroups"/>.
    /// </summary>
    internal static int DweightGroupCount(int m) => Math.Min((m + Kc - 1) / Kc, DweightMaxGroups);

    /// <summary>dweight (N,K) += doutᵀ (N,M) · inp (M,K) in groups of chunks; the caller holds the scratch gate.
    /// </summary>
    private static void BackwardDweightGroups(float* dweight, float* dout, float* inp, int m, int k, int n,
        WorkerPool pool, GemmPath path, GemmScratch scratch)
    {
        int mr = MrOf(path), nr = NrOf(path);
        int chunks = (m + Kc - 1) / Kc, kc = (m + chunks - 1) / chunks, groups = DweightGroupCount(m);
        nint slot = RoundUp16((nint)n * k);
        // Per thread: doutᵀ micro-panels (+ 16: the packing's 16-float stores may run past the last panel), inp panels,
        // an edge tile.
        nint aFloats = RoundUp16((nint)kc * ((n + mr - 1) / mr) * mr) + 16;
        nint bFloats = RoundUp16((nint)kc * ((k + nr - 1) / nr) * nr);
        var job = new DweightGroupJob
        {
            Path = path, Dout = dout, Inp = inp, M = m, K = k, N = n, ChunkRows = kc, Chunks = chunks, Groups = groups,
            Slots = scratch.Shared(slot * groups), SlotFloats = slot,
            AFloats = aFloats, BFloats = bFloats, Stride = aFloats + bFloats + RoundUp16((nint)mr * nr),
        };
        int threads = Math.Min(pool.ThreadCount, groups), next = 0;
        job.Scratch = scratch.PerThread(job.Stride, threads); // task t uses block t, t < threads
        job.Next = &next;
        pool.Run(&job, threads);
        var add = new SlotSumJob(dweight, job.Slots, slot, (nint)n * k, groups, 4 * pool.ThreadCount);
        pool.Run(&add, add.Tasks);
    }

    /// <summary>One task per pool thread; each claims whole groups until none is left.</summary>
    private struct DweightGroupJob : IParallelJob
    {
        public GemmPath Path;
        public float* Dout, Inp;
        public int M, K, N, ChunkRows, Chunks, Groups;

        /// <summary>Group g's sum, (N,K) row-major, at Slots + g·SlotFloats.</summary>
        public float* Slots;
        public nint SlotFloats;

        /// <summary>Per thread (Stride floats each): packed doutᵀ (AFloats), packed inp (BFloats), an edge tile.
        /// </summary>
        public float* Scratch;
        public nint AFloats, BFloats, Stride;
        public int* Next;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int thread)
        {
            float* ap = Scratch + thread * Stride, bp = ap + AFloats, ct = bp + BFloats;
            int g;
            while ((g = Interlocked.Increment(ref *Next) - 1) < Groups)
            {
                int c0 = (int)((long)g * Chunks / Groups), c1 = (int)((long)(g + 1) * Chunks / Groups);
                for (int c = c0; c < c1; c++) Chunk(c, load: c > c0, Slots + g * SlotFloats, ap, bp, ct);
            }
        }

        /// <summary>Chunk c (rows [c·ChunkRows, ...)): pack it, then every tile of its product into (or onto) the
        /// slot.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly void Chunk(int c, bool load, float* dst, float* ap, float* bp, float* ct)
        {
            int mr = MrOf(Path), nr = NrOf(Path), kk = c * ChunkRows, kl = Math.Min(ChunkRows, M - kk);
            var pack = new ChunkPackJob(Path, ap, bp, Dout + (nint)kk * N, Inp + (nint)kk * K, kl, N, K, maxTasks: 1);
            pack.Execute(0);
            int panels = (K + nr - 1) / nr;
            for (int mi = 0; mi * mr < N; mi++)
            {
                int rh = Math.Min(mr, N - mi * mr);
                float* a = ap + (nint)mi * kl * mr;
                for (int pj = 0; pj < panels; pj++)
                {
                    int cw = Math.Min(nr, K - pj * nr);
                    KernelTile(Path, a, bp + (nint)pj * kl * nr, dst + (nint)mi * mr * K + pj * nr, K, ct, rh, cw, kl,
                        load, null, 0);
                }
            }
        }
    }

    /// <summary>dst[i] += slot 0[i] + slot 1[i] + ... (in slot order, one chain per element), ranges of i per task.
    /// </summary>
    private readonly struct SlotSumJob : IParallelJob
    {
        private readonly float* _dst, _slots;
        private readonly nint _stride, _count;
        private readonly int _slotCount;

        public SlotSumJob(float* dst, float* slots, nint stride, nint count, int slotCount, int maxTasks)
        {
            _dst = dst;
            _slots = slots;
            _stride = stride;
            _count = count;
            _slotCount = slotCount;
            Tasks = (int)Math.Max(1, Math.Min(maxTasks, count / 1024));
        }

        public int Tasks { get; }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(int index)
        {
            nint i0 = (nint)((long)index * _count / Tasks), i1 = (nint)((long)(index + 1) * _count / Tasks), i = i0;
            for (; i + Vector<float>.Count <= i1; i += Vector<float>.Count)
            {
                Vector<float> s = Vector.Load(_dst + i);
                for (int g = 0; g < _slotCount; g++) s += Vector.Load(_slots + g * _stride + i);
                s.Store(_dst + i);
            }
            for (; i < i1; i++)
            {
                float s = _dst[i];
                for (int g = 0; g < _slotCount; g++) s += _slots[g * _stride + i];
                _dst[i] = s;
            }
        }
    }
}
