using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Hrm.Runtime.Threading;
using static Hrm.Runtime.Backends.Cpu.CpuOpsSupport;

namespace Hrm.Runtime.Backends.Cpu;

/// <summary>
/// SIMD, multi-threaded fp32 versions of the <see cref="Reference.ReferenceOps"/> (same shapes, semantics and
/// validation; float instead of double). Every op takes a trailing <see cref="WorkerPool"/>, dispatches
/// unmanaged job structs holding raw pointers, allocates nothing per call, and gives bitwise-identical results for
/// a given thread count. Activation gradients are written (=), parameter gradients accumulated (+=).
/// </summary>
public static unsafe partial class CpuOps
{
    private const long ElementwiseMinWork = 64 * 1024;

    /// <summary>dst = a + b elementwise (dst may be a or b itself).</summary>
    public static void Add(Span<float> dst, ReadOnlySpan<float> a, ReadOnlySpan<float> b, WorkerPool pool)
    {
        Check(a, dst.Length, nameof(a));
        Check(b, dst.Length, nameof(b));
        fixed (float* pd = dst, pa = a, pb = b)
        {
            var job = new StreamJob { Dst = pd, A = pa, B = pb, N = dst.Length, Kind = StreamKind.Add };
            job.Parts = Tasks(pool, dst.Length, 1, ElementwiseMinWork);
            pool.Run(&job, job.Parts);
        }
    }

    /// <summary>dst = value everywhere.</summary>
    public static void Fill(Span<float> dst, float value, WorkerPool pool)
    {
        fixed (float* pd = dst)
        {
            var job = new StreamJob { Dst = pd, N = dst.Length, Value = value, Kind = StreamKind.Fill };
            job.Parts = Tasks(pool, dst.Length, 1, ElementwiseMinWork);
            pool.Run(&job, job.Parts);
        }
    }

    /// <summary>dst = src (same length; overlapping spans are copied as by <see cref="Span{T}.CopyTo"/>).</summary>
    public static void Copy(Span<float> dst, ReadOnlySpan<float> src, WorkerPool pool)
    {
        Check(src, dst.Length, nameof(src));
        if (dst.Overlaps(src))
        {
            src.CopyTo(dst);
            return;
        }
        fixed (float* pd = dst, ps = src)
        {
            var job = new StreamJob { Dst = pd, A = ps, N = dst.Length, Kind = StreamKind.Copy };
            job.Parts = Tasks(pool, dst.Length, 1, ElementwiseMinWork);
            pool.Run(&job, job.Parts);
        }
    }

    /// <summary>Rows b with halted[b] != 0 of z (B,T,C) become init (C) at every position.</summary>
    public static void ResetCarry(Span<float> z, ReadOnlySpan<float> init, ReadOnlySpan<int> halted,
        int batch, int t, int c, WorkerPool pool)
    {
        NonNegative(batch);
        NonNegative(t);
        NonNegative(c);
        Check(z, (long)batch * t * c, nameof(z));
        Check(init, c, nameof(init));
        Check(halted, batch, nameof(halted));
        fixed (float* pz = z, pi = init)
        fixed (int* ph = halted)
        {
            var job = new ResetCarryJob { Z = pz, Init = pi, Halted = ph, Rows = (long)batch * t, T = t, C = c };
            job.Parts = Tasks(pool, job.Rows, c, ElementwiseMinWork);
            pool.Run(&job, job.Parts);
        }
    }

    private enum StreamKind
    {
        Add,
        Fill,
        Copy,
    }

    private struct StreamJob : IParallelJob
    {
        public float* Dst;
        public float* A;
        public float* B;
        public long N;
        public float Value;
        public StreamKind Kind;
        public int Parts;

        public readonly void Execute(int index)
        {
            // Chunk boundaries on 16-float multiples keep every part on full vectors except the very last.
            long blocks = (N + 15) / 16;
            long start = Split(blocks, Parts, index) * 16, end = Math.Min(N, Split(blocks, Parts, index + 1) * 16);
            if (start >= end) return;
            float* d = Dst + start;
            nuint n = (nuint)(end - start);
            switch (Kind)
            {
                case StreamKind.Add:
                    AddRange(d, A + start, B + start, n);
                    break;
                case StreamKind.Fill:
                    new Span<float>(d, checked((int)n)).Fill(Value);
                    break;
                default:
                    Buffer.MemoryCopy(A + start, d, n * sizeof(float), n * sizeof(float));
                    break;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AddRange(float* d, float* a, float* b, nuint n)
    {
        nuint i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 64 <= n; i += 64)
            {
                (Vector512.Load(a + i) + Vector512.Load(b + i)).Store(d + i);
                (Vector512.Load(a + i + 16) + Vector512.Load(b + i + 16)).Store(d + i + 16);
                (Vector512.Load(a + i + 32) + Vector512.Load(b + i + 32)).Store(d + i + 32);
                (Vector512.Load(a + i + 48) + Vector512.Load(b + i + 48)).Store(d + i + 48);
            }
            for (; i + 16 <= n; i += 16) (Vector512.Load(a + i) + Vector512.Load(b + i)).Store(d + i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= n; i += 8) (Vector256.Load(a + i) + Vector256.Load(b + i)).Store(d + i);
        }
        if (SimdMath.Narrow128)
        {
            for (; i + 4 <= n; i += 4) (Vector128.Load(a + i) + Vector128.Load(b + i)).Store(d + i);
        }
        for (; i < n; i++) d[i] = a[i] + b[i];
    }

    private struct ResetCarryJob : IParallelJob
    {
        public float* Z;
        public float* Init;
        public int* Halted;
        public long Rows;
        public int T;
        public int C;
        public int Parts;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int index)
        {
            long end = Split(Rows, Parts, index + 1);
            nuint bytes = (nuint)C * sizeof(float);
            for (long r = Split(Rows, Parts, index); r < end; r++)
            {
                if (Halted[r / T] != 0) Buffer.MemoryCopy(Init, Z + r * C, bytes, bytes);
            }
        }
    }
}
