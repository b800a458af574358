using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Hrm.Runtime.Threading;
using static Hrm.Runtime.Backends.Cpu.CpuOpsSupport;

namespace Hrm.Runtime.Backends.Cpu;

public static unsafe partial class CpuOps
{
    /// <summary>
    /// out (N,C) = RMSNorm(a + b), rstd (N) = 1/sqrt(mean((a+b)²) + eps). No weight. out may be a or b itself.
    /// </summary>
    public static void AddRmsNormForward(Span<float> output, Span<float> rstd, ReadOnlySpan<float> a,
        ReadOnlySpan<float> b, int rows, int c, float eps, WorkerPool pool)
    {
        NonNegative(rows);
        NonNegative(c);
        Check(output, (long)rows * c, nameof(output));
        Check(rstd, rows, nameof(rstd));
        Check(a, (long)rows * c, nameof(a));
        Check(b, (long)rows * c, nameof(b));
        fixed (float* po = output, pr = rstd, pa = a, pb = b)
        {
            var job = new AddRmsNormJob { Out = po, Rstd = pr, A = pa, B = pb, Rows = rows, C = c, Eps = eps };
            job.Parts = Tasks(pool, rows, c);
            pool.Run(&job, job.Parts);
        }
    }

    /// <summary>dinp (N,C) = d RMSNorm input, from dout, the normalised output and rstd.</summary>
    public static void RmsNormBackward(Span<float> dinp, ReadOnlySpan<float> dout, ReadOnlySpan<float> output,
        ReadOnlySpan<float> rstd, int rows, int c, WorkerPool pool)
    {
        NonNegative(rows);
        NonNegative(c);
        Check(dinp, (long)rows * c, nameof(dinp));
        Check(dout, (long)rows * c, nameof(dout));
        Check(output, (long)rows * c, nameof(output));
        Check(rstd, rows, nameof(rstd));
        fixed (float* pdi = dinp, pdo = dout, po = output, pr = rstd)
        {
            var job = new RmsNormBackwardJob { DInp = pdi, DOut = pdo, Out = po, Rstd = pr, Rows = rows, C = c };
            job.Parts = Tasks(pool, rows, c);
            pool.Run(&job, job.Parts);
        }
    }

    private struct AddRmsNormJob : IParallelJob
    {
        public float* Out;
        public float* Rstd;
        public float* A;
        public float* B;
        public int Rows;
        public int C;
        public float Eps;
        public int Parts;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int index)
        {
            int end = (int)Split(Rows, Parts, index + 1);
            for (int r = (int)Split(Rows, Parts, index); r < end; r++)
            {
                long o = (long)r * C;
                float* a = A + o, b = B + o;
                float s = 1f / MathF.Sqrt(SumSquaresOfSum(a, b, C) / C + Eps);
                Rstd[r] = s;
                SimdMath.ScaledSum(Out + o, a, b, s, C);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static float SumSquaresOfSum(float* a, float* b, int n)
        {
            int i = 0;
            float ss = 0;
            if (Vector512.IsHardwareAccelerated && n >= 16)
            {
                Vector512<float> s0 = Vector512<float>.Zero, s1 = s0;
                for (; i <= n - 32; i += 32)
                {
                    Vector512<float> x0 = Vector512.Load(a + i) + Vector512.Load(b + i);
                    Vector512<float> x1 = Vector512.Load(a + i + 16) + Vector512.Load(b + i + 16);
                    s0 = Vector512.FusedMultiplyAdd(x0, x0, s0);
                    s1 = Vector512.FusedMultiplyAdd(x1, x1, s1);
                }
                for (; i <= n - 16; i += 16)
                {
                    Vector512<float> x0 = Vector512.Load(a + i) + Vector512.Load(b + i);
                    s0 = Vector512.FusedMultiplyAdd(x0, x0, s0);
                }
                ss = Vector512.Sum(s0 + s1);
            }
            else if (Vector256.IsHardwareAccelerated && n >= 8)
            {
                Vector256<float> s0 = Vector256<float>.Zero, s1 = s0;
                for (; i <= n - 16; i += 16)
                {
                    Vector256<float> x0 = Vector256.Load(a + i) + Vector256.Load(b + i);
                    Vector256<float> x1 = Vector256.Load(a + i + 8) + Vector256.Load(b + i + 8);
                    s0 = Vector256.FusedMultiplyAdd(x0, x0, s0);
                    s1 = Vector256.FusedMultiplyAdd(x1, x1, s1);
                }
                for (; i <= n - 8; i += 8)
                {
                    Vector256<float> x0 = Vector256.Load(a + i) + Vector256.Load(b + i);
                    s0 = Vector256.FusedMultiplyAdd(x0, x0, s0);
                }
                ss = Vector256.Sum(s0 + s1);
            }
            else if (SimdMath.Narrow128 && n >= 4)
            {
                Vector128<float> s0 = Vector128<float>.Zero, s1 = s0;
                for (; i <= n - 8; i += 8)
                {
                    Vector128<float> x0 = Vector128.Load(a + i) + Vector128.Load(b + i);
                    Vector128<float> x1 = Vector128.Load(a + i + 4) + Vector128.Load(b + i + 4);
                    s0 = SimdMath.MulAdd(x0, x0, s0);
                    s1 = SimdMath.MulAdd(x1, x1, s1);
                }
                for (; i <= n - 4; i += 4)
                {
                    Vector128<float> x0 = Vector128.Load(a + i) + Vector128.Load(b + i);
                    s0 = SimdMath.MulAdd(x0, x0, s0);
                }
                ss = Vector128.Sum(s0 + s1);
            }
            for (; i < n; i++)
            {
                float x = a[i] + b[i];
                ss = MathF.FusedMultiplyAdd(x, x, ss);
            }
            return ss;
        }
    }

    private struct RmsNormBackwardJob : IParallelJob
    {
        public float* DInp;
        public float* DOut;
        public float* Out;
        public float* Rstd;
        public int Rows;
        public int C;
        public int Parts;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int index)
        {
            int end = (int)Split(Rows, Parts, index + 1);
            for (int r = (int)Split(Rows, Parts, index); r < end; r++)
            {
                // y = x·s, s = (mean(x²)+eps)^-1/2  =>  dx = s·(dy − y·mean(dy·y))
                long o = (long)r * C;
                float* dy = DOut + o, y = Out + o, dx = DInp + o;
                float dot = SimdMath.Dot(dy, y, C) / C;
                float s = Rstd[r];
                int i = 0;
                if (Vector512.IsHardwareAccelerated)
                {
                    Vector512<float> sv = Vector512.Create(s), dv = Vector512.Create(-dot);
                    for (; i <= C - 16; i += 16)
                    {
                        Vector512<float> g = Vector512.FusedMultiplyAdd(Vector512.Load(y + i), dv,
                            Vector512.Load(dy + i));
                        (sv * g).Store(dx + i);
                    }
                }
                if (Vector256.IsHardwareAccelerated)
                {
                    Vector256<float> sv = Vector256.Create(s), dv = Vector256.Create(-dot);
                    for (; i <= C - 8; i += 8)
                    {
                        Vector256<float> g = Vector256.FusedMultiplyAdd(Vector256.Load(y + i), dv,
                            Vector256.Load(dy + i));
                        (sv * g).Store(dx + i);
                    }
                }
                if (SimdMath.Narrow128)
                {
                    Vector128<float> sv = Vector128.Create(s), dv = Vector128.Create(-dot);
                    for (; i <= C - 4; i += 4)
                        (sv * SimdMath.MulAdd(Vector128.Load(y + i), dv, Vector128.Load(dy + i))).Store(dx + i);
                }
                for (; i < C; i++) dx[i] = s * MathF.FusedMultiplyAdd(y[i], -dot, dy[i]);
            }
        }
    }
}
