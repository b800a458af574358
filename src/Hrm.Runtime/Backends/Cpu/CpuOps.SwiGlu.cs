using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Hrm.Runtime.Threading;
using static Hrm.Runtime.Backends.Cpu.CpuOpsSupport;

namespace Hrm.Runtime.Backends.Cpu;

public static unsafe partial class CpuOps
{
    /// <summary>act (N,I) = SiLU(gate)·up, with gateUp (N,2I) = [gate | up].</summary>
    public static void SwiGluForward(Span<float> act, ReadOnlySpan<float> gateUp, int rows, int inter, WorkerPool pool)
    {
        NonNegative(rows);
        NonNegative(inter);
        Check(act, (long)rows * inter, nameof(act));
        Check(gateUp, 2L * rows * inter, nameof(gateUp));
        fixed (float* pa = act, pg = gateUp)
        {
            var job = new SwiGluJob { Act = pa, GateUp = pg, Rows = rows, I = inter };
            job.Parts = Tasks(pool, rows, 8L * inter);
            pool.Run(&job, job.Parts);
        }
    }

    /// <summary>dgateUp (N,2I) from dact (N,I) and the forward input gateUp.</summary>
    public static void SwiGluBackward(Span<float> dgateUp, ReadOnlySpan<float> dact, ReadOnlySpan<float> gateUp,
        int rows, int inter, WorkerPool pool)
    {
        NonNegative(rows);
        NonNegative(inter);
        Check(dgateUp, 2L * rows * inter, nameof(dgateUp));
        Check(dact, (long)rows * inter, nameof(dact));
        Check(gateUp, 2L * rows * inter, nameof(gateUp));
        fixed (float* pdg = dgateUp, pda = dact, pg = gateUp)
        {
            var job = new SwiGluJob { Act = pda, GateUp = pg, DGateUp = pdg, Rows = rows, I = inter };
            job.Parts = Tasks(pool, rows, 8L * inter);
            pool.Run(&job, job.Parts);
        }
    }

    private struct SwiGluJob : IParallelJob
    {
        public float* Act;     // forward: act (written); backward: dact (read)
        public float* GateUp;
        public float* DGateUp; // null in the forward
        public int Rows;
        public int I;
        public int Parts;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int index)
        {
            int end = (int)Split(Rows, Parts, index + 1);
            for (int r = (int)Split(Rows, Parts, index); r < end; r++)
            {
                float* g = GateUp + 2L * r * I, u = g + I, a = Act + (long)r * I;
                if (DGateUp == null) SwiGluRow(a, g, u, I);
                else SwiGluBackwardRow(DGateUp + 2L * r * I, a, g, u, I);
            }
        }
    }

    /// <summary>
    /// act[i] = SiLU(g[i])·u[i], i &lt; n: vectors from the start, a scalar tail. Also the epilogue of the fused
    /// GEMM (Gemm.ForwardSwiGlu), which calls it on column ranges starting at multiples of 16, so every element
    /// gets the same code whichever op computes it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void SwiGluRow(float* act, float* g, float* u, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - 16; i += 16)
            {
                Vector512<float> gv = Vector512.Load(g + i);
                (gv / (Vector512<float>.One + SimdMath.Exp(-gv)) * Vector512.Load(u + i)).Store(act + i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - 8; i += 8)
            {
                Vector256<float> gv = Vector256.Load(g + i);
                (gv / (Vector256<float>.One + SimdMath.Exp(-gv)) * Vector256.Load(u + i)).Store(act + i);
            }
        }
        if (SimdMath.Narrow128)
        {
            for (; i <= n - 4; i += 4)
            {
                Vector128<float> gv = Vector128.Load(g + i);
                (gv / (Vector128<float>.One + SimdMath.Exp(-gv)) * Vector128.Load(u + i)).Store(act + i);
            }
        }
        for (; i < n; i++) act[i] = g[i] / (1f + SimdMath.Exp(-g[i])) * u[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SwiGluBackwardRow(float* dgu, float* dact, float* g, float* u, int n)
    {
        // s = σ(g): dgate = d·u·s·(1 + g·(1 − s)), dup = d·g·s
        float* dup = dgu + n;
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> one = Vector512<float>.One;
            for (; i <= n - 16; i += 16)
            {
                Vector512<float> gv = Vector512.Load(g + i), d = Vector512.Load(dact + i);
                Vector512<float> s = one / (one + SimdMath.Exp(-gv));
                Vector512<float> ds = d * s;
                (ds * Vector512.Load(u + i) * Vector512.FusedMultiplyAdd(gv, one - s, one)).Store(dgu + i);
                (ds * gv).Store(dup + i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> one = Vector256<float>.One;
            for (; i <= n - 8; i += 8)
            {
                Vector256<float> gv = Vector256.Load(g + i), d = Vector256.Load(dact + i);
                Vector256<float> s = one / (one + SimdMath.Exp(-gv));
                Vector256<float> ds = d * s;
                (ds * Vector256.Load(u + i) * Vector256.FusedMultiplyAdd(gv, one - s, one)).Store(dgu + i);
                (ds * gv).Store(dup + i);
            }
        }
        if (SimdMath.Narrow128)
        {
            Vector128<float> one = Vector128<float>.One;
            for (; i <= n - 4; i += 4)
            {
                Vector128<float> gv = Vector128.Load(g + i), d = Vector128.Load(dact + i);
                Vector128<float> s = one / (one + SimdMath.Exp(-gv));
                Vector128<float> ds = d * s;
                (ds * Vector128.Load(u + i) * SimdMath.MulAdd(gv, one - s, one)).Store(dgu + i);
                (ds * gv).Store(dup + i);
            }
        }
        for (; i < n; i++)
        {
            float gi = g[i];
            float s = 1f / (1f + SimdMath.Exp(-gi));
            float ds = dact[i] * s;
            dgu[i] = ds * u[i] * MathF.FusedMultiplyAdd(gi, 1f - s, 1f);
            dup[i] = ds * gi;
        }
    }
}
