using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Hrm.Runtime.Threading;
using static Hrm.Runtime.Backends.Cpu.CpuOpsSupport;

namespace Hrm.Runtime.Backends.Cpu;

public static unsafe partial class CpuOps
{
    // Least work per RoPE task: one batch-1 Sudoku call (82 rows x 2C = 84K) runs as one task. Split in two it was
    // slower (batch-1 solve on 2 threads, hrm-bench profile, 5 alternating runs: 0.030-0.034 ms per call as one
    // task, 0.042-0.074 as two): the rows come from the QKV GEMM, which both cores wrote, and moving half of them
    // to the other core costs more than the rotation saves.
    private const long RopeMinWork = 256 * 1024;

    /// <summary>
    /// Rotate-half RoPE in place on the Q and K parts of qkv (B,T,3C): x' = x·cos + rot(x)·sin with
    /// rot([x1|x2]) = [−x2|x1]; cos, sin are (T,HS).
    /// </summary>
    public static void RopeForward(Span<float> qkv, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin,
        int batch, int t, int nh, int hs, WorkerPool pool) => Rope(qkv, cos, sin, batch, t, nh, hs, false, pool);

    /// <summary>The transpose of <see cref="RopeForward"/> applied in place to dqkv (B,T,3C).</summary>
    public static void RopeBackward(Span<float> dqkv, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin,
        int batch, int t, int nh, int hs, WorkerPool pool) => Rope(dqkv, cos, sin, batch, t, nh, hs, true, pool);

    private static void Rope(Span<float> qkv, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin,
        int batch, int t, int nh, int hs, bool transpose, WorkerPool pool)
    {
        NonNegative(batch);
        NonNegative(t);
        NonNegative(nh);
        NonNegative(hs);
        long c = (long)nh * hs;
        Check(qkv, 3L * batch * t * c, nameof(qkv));
        Check(cos, (long)t * hs, nameof(cos));
        Check(sin, (long)t * hs, nameof(sin));
        fixed (float* pq = qkv, pc = cos, ps = sin)
        {
            var job = new RopeJob
            {
                Qkv = pq, Cos = pc, Sin = ps, Rows = (long)batch * t, T = t, Nh = nh, Hs = hs,
                Sign = transpose ? -1f : 1f,
            };
            job.Parts = Tasks(pool, job.Rows, 2 * c, RopeMinWork);
            pool.Run(&job, job.Parts);
        }
    }

    private struct RopeJob : IParallelJob
    {
        public float* Qkv;
        public float* Cos;
        public float* Sin;
        public long Rows;
        public int T;
        public int Nh;
        public int Hs;
        public float Sign;
        public int Parts;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int index)
        {
            int half = Hs / 2;
            long c = (long)Nh * Hs;
            long end = Split(Rows, Parts, index + 1);
            for (long r = Split(Rows, Parts, index); r < end; r++)
            {
                long pos = r % T;
                float* cs = Cos + pos * Hs, sn = Sin + pos * Hs;
                float* row = Qkv + r * 3 * c;
                // Q and K of all heads: 2·NH consecutive head vectors of HS floats.
                for (int h = 0; h < 2 * Nh; h++) RopeRotate(row + (long)h * Hs, cs, sn, half, Sign);
            }
        }
    }

    /// <summary>One head vector x (HS = 2·half) rotated in place by one position's cos, sin (HS each).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void RopeRotate(float* x, float* cs, float* sn, int half, float sign)
    {
        // x1' = x1·c1 − x2·(sign·s1); x2' = x2·c2 + x1·(sign·s2)
        float* x2 = x + half;
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> sg = Vector512.Create(sign);
            for (; i <= half - 16; i += 16)
            {
                Vector512<float> a = Vector512.Load(x + i), b = Vector512.Load(x2 + i);
                Vector512<float> s1 = sg * Vector512.Load(sn + i), s2 = sg * Vector512.Load(sn + half + i);
                (a * Vector512.Load(cs + i) - b * s1).Store(x + i);
                (b * Vector512.Load(cs + half + i) + a * s2).Store(x2 + i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> sg = Vector256.Create(sign);
            for (; i <= half - 8; i += 8)
            {
                Vector256<float> a = Vector256.Load(x + i), b = Vector256.Load(x2 + i);
                Vector256<float> s1 = sg * Vector256.Load(sn + i), s2 = sg * Vector256.Load(sn + half + i);
                (a * Vector256.Load(cs + i) - b * s1).Store(x + i);
                (b * Vector256.Load(cs + half + i) + a * s2).Store(x2 + i);
            }
        }
        if (SimdMath.Narrow128)
        {
            Vector128<float> sg = Vector128.Create(sign);
            for (; i <= half - 4; i += 4)
            {
                Vector128<float> a = Vector128.Load(x + i), b = Vector128.Load(x2 + i);
                Vector128<float> s1 = sg * Vector128.Load(sn + i), s2 = sg * Vector128.Load(sn + half + i);
                (a * Vector128.Load(cs + i) - b * s1).Store(x + i);
                (b * Vector128.Load(cs + half + i) + a * s2).Store(x2 + i);
            }
        }
        for (; i < half; i++)
        {
            float a = x[i], b = x2[i];
            float s1 = sign * sn[i], s2 = sign * sn[half + i];
            x[i] = a * cs[i] - b * s1;
            x2[i] = b * cs[half + i] + a * s2;
        }
    }
}
