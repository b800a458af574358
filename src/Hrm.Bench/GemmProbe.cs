using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Threading;

namespace Hrm.Bench;

/// <summary>
/// Throughput probe of the CPU GEMM (not a BenchmarkDotNet benchmark): GFLOP/s of MatmulForward and
/// MatmulBackward on the HRM shapes with a 2-thread pool, next to the machine's FMA peak measured with a
/// register-only FMA loop (Vector512, or Vector256 where the machine has no 512-bit vectors). Rows: batch 64, 32
/// and 1 of the Sudoku config (M = B·82), the same weights every call; the quickstart preset's at batch 64 (M =
/// 64·82 = 5,248: small weights over long M); then batch 1 as a solve sees it, with the weights streaming from
/// memory.
/// </summary>
public static unsafe class GemmProbe
{
    private const int Threads = 2;
    private const int Runs = 10;

    /// <summary>Measures and prints the table to <paramref name="output"/>.</summary>
    public static void Run(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        using var pool = new WorkerPool(Threads);
        output.WriteLine($"GEMM path: {Gemm.Best}");
        // The peak loop runs at the widest accelerated width of 512 and 256 bits (a narrower machine: %peak n/a).
        int width = Vector512.IsHardwareAccelerated ? 512
            : Vector256.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Fma.IsSupported ? 256 : 0;
        double peak1 = width > 0 ? FmaPeak(pool, 1, width) : double.NaN;
        double peak2 = width > 0 ? FmaPeak(pool, Threads, width) : double.NaN;
        output.WriteLine(double.IsNaN(peak1)
            ? "FMA peak: not measured (no 512-bit vectors, nor 256-bit ones with FMA, here): %peak shows NaN"
            : Inv($"FMA peak (Vector{width}, 12 accumulators): {peak1:F1} GFLOP/s on 1 thread, ") +
              Inv($"{peak2:F1} on {Threads}"));
        output.WriteLine("GFLOP/s: median of 10 runs (best run in brackets); backward = dinp + dweight (4·MNK flops)");
        output.WriteLine(Inv($"{"M",6} {"K",6} {"N",6} {"forward",16} {"%peak",6} {"backward",16} {"%peak",6}"));
        foreach (int m in (int[])[64 * 82, 32 * 82, 82])
        {
            foreach ((int k, int n) in ((int, int)[])[(512, 1536), (512, 512), (512, 3072), (1536, 512)])
                ShapeRow(output, pool, peak2, m, k, n);
        }
        // The quickstart preset (width 64, SwiGLU 256, batch 64 of 81 cells + 1 puzzle-embedding position): dweight
        // over long M into small weights (Gemm.DweightGroups).
        output.WriteLine("Quickstart shapes (width 64, batch 64: M = 5,248):");
        foreach ((int k, int n) in ((int, int)[])[(64, 192), (64, 64), (64, 512), (256, 64)])
            ShapeRow(output, pool, peak2, 64 * 82, k, n);
        output.WriteLine(Inv(
            $"Batch 1 as in a solve (M = 82, a different weight each call, {StreamedBytes >> 20} MiB of weight copies cycled, so they come from memory):"));
        foreach ((int k, int n) in ((int, int)[])[(512, 1536), (512, 512), (512, 3072), (1536, 512)])
        {
            double fwd = StreamedForward(pool, 82, k, n);
            output.WriteLine(Inv($"{82,6} {k,6} {n,6} {fwd,16:F1} {100 * fwd / peak2,5:F0}%"));
        }
    }

    /// <summary>One row of the table: forward and backward GFLOP/s of (M,K) · (N,K)ᵀ, and their shares of the peak.
    /// </summary>
    private static void ShapeRow(TextWriter output, WorkerPool pool, double peak2, int m, int k, int n)
    {
        (double fwd, double fwdBest, double bwd, double bwdBest) = Shape(pool, m, k, n);
        double pf = 100 * fwd / peak2, pb = 100 * bwd / peak2;
        string f = Inv($"{fwd:F1} ({fwdBest:F1})"), b = Inv($"{bwd:F1} ({bwdBest:F1})");
        output.WriteLine(Inv($"{m,6} {k,6} {n,6} {f,16} {pf,5:F0}% {b,16} {pb,5:F0}%"));
    }

    /// <summary>About the Sudoku model's 27M fp32 weights: more than a segment's worth, read once per call.</summary>
    private const long StreamedBytes = 128L << 20;

    /// <summary>Median forward GFLOP/s when every call multiplies by the next of enough weight copies.</summary>
    private static double StreamedForward(WorkerPool pool, int m, int k, int n)
    {
        int copies = (int)Math.Max(2, StreamedBytes / ((long)n * k * sizeof(float)));
        var ws = new float*[copies];
        float* x = Alloc((long)m * k, 1), y = Alloc((long)m * n, 3);
        try
        {
            for (int i = 0; i < copies; i++) ws[i] = Alloc((long)n * k, 10 + i);
            var xs = new Span<float>(x, m * k);
            var ys = new Span<float>(y, m * n);
            var times = new double[3 * copies];
            for (int r = -copies; r < times.Length; r++)
            {
                var w = new Span<float>(ws[(r + copies) % copies], n * k);
                long t0 = Stopwatch.GetTimestamp();
                CpuOps.MatmulForward(ys, xs, w, m, k, n, pool);
                if (r >= 0) times[r] = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            }
            return 2.0 * m * k * n / Median(times) / 1e9;
        }
        finally
        {
            NativeMemory.AlignedFree(x);
            NativeMemory.AlignedFree(y);
            foreach (float* w in ws) NativeMemory.AlignedFree(w);
        }
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private static (double Fwd, double FwdBest, double Bwd, double BwdBest) Shape(WorkerPool pool, int m, int k, int n)
    {
        float* x = Alloc((long)m * k, 1), w = Alloc((long)n * k, 2), y = Alloc((long)m * n, 3);
        float* dy = Alloc((long)m * n, 4), dx = Alloc((long)m * k, 5), dw = Alloc((long)n * k, 6);
        try
        {
            var xs = new Span<float>(x, m * k);
            var ws = new Span<float>(w, n * k);
            var ys = new Span<float>(y, m * n);
            var dys = new Span<float>(dy, m * n);
            var dxs = new Span<float>(dx, m * k);
            var dws = new Span<float>(dw, n * k);
            double flops = 2.0 * m * k * n;
            var times = new double[Runs];
            for (int r = -2; r < Runs; r++)
            {
                long t0 = Stopwatch.GetTimestamp();
                CpuOps.MatmulForward(ys, xs, ws, m, k, n, pool);
                if (r >= 0) times[r] = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            }
            double fwd = flops / Median(times) / 1e9, fwdBest = flops / times[0] / 1e9;
            for (int r = -2; r < Runs; r++)
            {
                dws.Clear();
                long t0 = Stopwatch.GetTimestamp();
                CpuOps.MatmulBackward(dxs, dws, dys, xs, ws, m, k, n, pool);
                if (r >= 0) times[r] = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            }
            double bwd = 2 * flops / Median(times) / 1e9, bwdBest = 2 * flops / times[0] / 1e9;
            return (fwd, fwdBest, bwd, bwdBest);
        }
        finally
        {
            NativeMemory.AlignedFree(x);
            NativeMemory.AlignedFree(w);
            NativeMemory.AlignedFree(y);
            NativeMemory.AlignedFree(dy);
            NativeMemory.AlignedFree(dx);
            NativeMemory.AlignedFree(dw);
        }
    }

    private static float* Alloc(long n, int seed)
    {
        var p = (float*)NativeMemory.AlignedAlloc((nuint)(n * sizeof(float)), 64);
        var rng = new Random(seed);
        for (long i = 0; i < n; i++) p[i] = (float)(rng.NextDouble() * 2 - 1);
        return p;
    }

    /// <summary>Sorts <paramref name="a"/> ascending and returns its median.</summary>
    private static double Median(double[] a)
    {
        Array.Sort(a);
        return a.Length % 2 == 1 ? a[a.Length / 2] : 0.5 * (a[a.Length / 2 - 1] + a[a.Length / 2]);
    }

    /// <summary>
    /// GFLOP/s of <paramref name="threads"/> threads each running the register-only FMA loop at
    /// <paramref name="width"/> bits (512 or 256).
    /// </summary>
    private static double FmaPeak(WorkerPool pool, int threads, int width)
    {
        const long iters = 20_000_000;
        float* sink = stackalloc float[16 * Threads];
        var job = new PeakJob { Iterations = iters / 10, Sink = sink, Wide = width == 512 };
        pool.Run(&job, threads); // warm-up (JIT, clocks)
        job.Iterations = iters;
        double best = 0;
        for (int r = 0; r < 3; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            pool.Run(&job, threads);
            double s = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            best = Math.Max(best, threads * iters * 12.0 * (width / 32) * 2 / s / 1e9);
        }
        return best;
    }

    private struct PeakJob : IParallelJob
    {
        public long Iterations;
        public float* Sink;
        public bool Wide;

        public readonly void Execute(int index)
        {
            if (Wide) Run512(index);
            else Run256(index);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
        private readonly void Run512(int index)
        {
            Vector512<float> m = Vector512.Create(0.999999f), a = Vector512.Create(1e-7f);
            Vector512<float> c0 = Vector512.Create(0.01f * index), c1 = Vector512.Create(0.1f);
            Vector512<float> c2 = Vector512.Create(0.2f);
            Vector512<float> c3 = Vector512.Create(0.3f), c4 = Vector512.Create(0.4f), c5 = Vector512.Create(0.5f);
            Vector512<float> c6 = Vector512.Create(0.6f), c7 = Vector512.Create(0.7f), c8 = Vector512.Create(0.8f);
            Vector512<float> c9 = Vector512.Create(0.9f), c10 = Vector512.Create(1.0f), c11 = Vector512.Create(1.1f);
            for (long i = 0; i < Iterations; i++)
            {
                c0 = Vector512.FusedMultiplyAdd(c0, m, a);
                c1 = Vector512.FusedMultiplyAdd(c1, m, a);
                c2 = Vector512.FusedMultiplyAdd(c2, m, a);
                c3 = Vector512.FusedMultiplyAdd(c3, m, a);
                c4 = Vector512.FusedMultiplyAdd(c4, m, a);
                c5 = Vector512.FusedMultiplyAdd(c5, m, a);
                c6 = Vector512.FusedMultiplyAdd(c6, m, a);
                c7 = Vector512.FusedMultiplyAdd(c7, m, a);
                c8 = Vector512.FusedMultiplyAdd(c8, m, a);
                c9 = Vector512.FusedMultiplyAdd(c9, m, a);
                c10 = Vector512.FusedMultiplyAdd(c10, m, a);
                c11 = Vector512.FusedMultiplyAdd(c11, m, a);
            }
            Vector512<float> s = ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11));
            s.Store(Sink + 16 * (index % Threads));
        }

        /// <summary>Run512's loop on Vector256 (AVX2 machines): 12 chains of 8 lanes.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
        private readonly void Run256(int index)
        {
            Vector256<float> m = Vector256.Create(0.999999f), a = Vector256.Create(1e-7f);
            Vector256<float> c0 = Vector256.Create(0.01f * index), c1 = Vector256.Create(0.1f);
            Vector256<float> c2 = Vector256.Create(0.2f);
            Vector256<float> c3 = Vector256.Create(0.3f), c4 = Vector256.Create(0.4f), c5 = Vector256.Create(0.5f);
            Vector256<float> c6 = Vector256.Create(0.6f), c7 = Vector256.Create(0.7f), c8 = Vector256.Create(0.8f);
            Vector256<float> c9 = Vector256.Create(0.9f), c10 = Vector256.Create(1.0f), c11 = Vector256.Create(1.1f);
            for (long i = 0; i < Iterations; i++)
            {
                c0 = Vector256.FusedMultiplyAdd(c0, m, a);
                c1 = Vector256.FusedMultiplyAdd(c1, m, a);
                c2 = Vector256.FusedMultiplyAdd(c2, m, a);
                c3 = Vector256.FusedMultiplyAdd(c3, m, a);
                c4 = Vector256.FusedMultiplyAdd(c4, m, a);
                c5 = Vector256.FusedMultiplyAdd(c5, m, a);
                c6 = Vector256.FusedMultiplyAdd(c6, m, a);
                c7 = Vector256.FusedMultiplyAdd(c7, m, a);
                c8 = Vector256.FusedMultiplyAdd(c8, m, a);
                c9 = Vector256.FusedMultiplyAdd(c9, m, a);
                c10 = Vector256.FusedMultiplyAdd(c10, m, a);
                c11 = Vector256.FusedMultiplyAdd(c11, m, a);
            }
            Vector256<float> s = ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11));
            s.Store(Sink + 16 * (index % Threads));
        }
    }
}
