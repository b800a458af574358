using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Hrm.Runtime.Backends.Reference;
using Hrm.Runtime.Threading;
using static Hrm.Runtime.Backends.Cpu.CpuOpsSupport;

namespace Hrm.Runtime.Backends.Cpu;

public static unsafe partial class CpuOps
{
    /// <summary>Largest id count whose grouping scratch (16 bytes per id) comes from the stack.</summary>
    private const int MaxStackIds = 2048;

    [ThreadStatic]
    private static long[]? t_idScratch;

    /// <summary>
    /// One AdamATan2 step (adam-atan2 0.0.3) over a flat fp32 region. The constants (lr/(1 − β1^t),
    /// √(1 − β2^t), 1 − lr·wd, 1 − β1, 1 − β2) are computed in double and rounded to float, as the reference
    /// kernel does; per element, in float: θ·(1 − lr·wd); m + (1−β1)(g − m) and v + (1−β2)(g² − v) as fused
    /// multiply-adds; θ − stepSize·atan2(m, √v / √(1 − β2^t)) as a fused multiply-add, with the vectorised
    /// <see cref="SimdMath.Atan2(Vector512{float}, Vector512{float})"/> (tails use the bitwise-identical scalar
    /// version, so each element's result depends on its inputs only, never on the split).
    /// </summary>
    public static void AdamATan2Step(Span<float> param, ReadOnlySpan<float> grad, Span<float> m, Span<float> v,
        double lr, double beta1, double beta2, double weightDecay, int stepNumber, WorkerPool pool)
    {
        Check(grad, param.Length, nameof(grad));
        Check(m, param.Length, nameof(m));
        Check(v, param.Length, nameof(v));
        AdamATan2Constants k = AdamATan2Constants.Create(lr, beta1, beta2, weightDecay, stepNumber);
        fixed (float* pp = param, pg = grad, pm = m, pv = v)
        {
            var job = new AdamATan2Job
            {
                Param = pp, Grad = pg, M = pm, V = pv, N = param.Length,
                StepSize = (float)k.StepSize, WdAlpha = (float)k.WdAlpha, Bc2Sqrt = (float)k.BiasCorrection2Sqrt,
                Mb1 = (float)k.OneMinusBeta1, Mb2 = (float)k.OneMinusBeta2,
            };
            job.Parts = Tasks(pool, param.Length, 8, ElementwiseMinWork);
            pool.Run(&job, job.Parts);
        }
    }

    /// <summary>
    /// SignSGD with decoupled weight decay on the table (R, W) rows named by <paramref name="ids"/> (see
    /// <see cref="ReferenceOps.SignSgdRows"/>). The ids are grouped on the calling thread (sorted by (id, row), no
    /// managed allocation: stack scratch up to 2048 ids, a per-thread buffer beyond); the gradient rows of each id
    /// are summed in row order in float, then the update runs in parallel over column blocks. The decay factor
    /// 1 − lr·wd is computed in double and rounded to float.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SignSgdRows(Span<float> table, ReadOnlySpan<float> rowGrads, ReadOnlySpan<int> ids, int w,
        double lr, double weightDecay, WorkerPool pool)
    {
        NonNegative(w);
        Check(rowGrads, (long)ids.Length * w, nameof(rowGrads));
        int tableRows = w == 0 ? 0 : table.Length / w;
        Check(table, (long)tableRows * w, nameof(table));
        ReferenceOps.CheckIds(ids, tableRows);
        int n = ids.Length;
        if (n == 0 || w == 0) return;

        // keys: (id, row) packed so that sorting groups equal ids with their rows in order. Groups: g's rows are
        // members[starts[g] .. starts[g + 1]), in row order.
        scoped Span<long> keys;
        scoped Span<int> members, starts;
        if (n <= MaxStackIds)
        {
            keys = stackalloc long[n];
            members = stackalloc int[n];
            starts = stackalloc int[n + 1];
        }
        else
        {
            long* scratch = IdScratch(n);
            keys = new Span<long>(scratch, n);
            members = new Span<int>(scratch + n, n);
            starts = new Span<int>((int*)(scratch + n) + n, n + 1);
        }
        for (int i = 0; i < n; i++) keys[i] = ((long)ids[i] << 32) | (uint)i;
        keys.Sort();
        int groups = 0;
        for (int i = 0; i < n; i++)
        {
            members[i] = (int)(uint)keys[i];
            if (i == 0 || (keys[i] >> 32) != (keys[i - 1] >> 32)) starts[groups++] = i;
        }
        starts[groups] = n;

        fixed (float* pt = table, pg = rowGrads)
        fixed (int* pi = ids, pm = members, ps = starts)
        {
            var job = new SignSgdJob
            {
                Table = pt, Grads = pg, Ids = pi, Members = pm, Starts = ps, Groups = groups, W = w,
                Decay = (float)(1.0 - lr * weightDecay), NegLr = (float)-lr,
            };
            int blocks = (w + 15) / 16;
            job.Blocks = blocks;
            job.Parts = Tasks(pool, blocks, 16L * n, ElementwiseMinWork);
            pool.Run(&job, job.Parts);
        }
    }

    /// <summary>
    /// Per-thread pinned scratch for <paramref name="n"/> ids: n longs (keys) then 2n + 1 ints (members, starts).
    /// It grows (allocates) only when a larger size is first needed on the thread.
    /// </summary>
    private static long* IdScratch(int n)
    {
        int longs = n + n + 1;
        long[]? s = t_idScratch;
        if (s == null || s.Length < longs)
        {
            s = GC.AllocateUninitializedArray<long>(longs, pinned: true);
            t_idScratch = s;
        }
        return (long*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(s));
    }

    private struct AdamATan2Job : IParallelJob
    {
        public float* Param;
        public float* Grad;
        public float* M;
        public float* V;
        public long N;
        public float StepSize;
        public float WdAlpha;
        public float Bc2Sqrt;
        public float Mb1;
        public float Mb2;
        public int Parts;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int index)
        {
            long blocks = (N + 15) / 16;
            long i = Split(blocks, Parts, index) * 16, end = Math.Min(N, Split(blocks, Parts, index + 1) * 16);
            if (Vector512.IsHardwareAccelerated)
            {
                Vector512<float> wd = Vector512.Create(WdAlpha), mb1 = Vector512.Create(Mb1);
                Vector512<float> mb2 = Vector512.Create(Mb2), bc2 = Vector512.Create(Bc2Sqrt);
                Vector512<float> negStep = Vector512.Create(-StepSize);
                for (; i + 16 <= end; i += 16)
                {
                    Vector512<float> g = Vector512.Load(Grad + i);
                    Vector512<float> m = Vector512.Load(M + i), v = Vector512.Load(V + i);
                    Vector512<float> p = Vector512.Load(Param + i) * wd;
                    m = Vector512.FusedMultiplyAdd(mb1, g - m, m);
                    v = Vector512.FusedMultiplyAdd(mb2, g * g - v, v);
                    Vector512<float> denom = Vector512.Sqrt(v) / bc2;
                    Vector512.FusedMultiplyAdd(negStep, SimdMath.Atan2(m, denom), p).Store(Param + i);
                    m.Store(M + i);
                    v.Store(V + i);
                }
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                Vector256<float> wd = Vector256.Create(WdAlpha), mb1 = Vector256.Create(Mb1);
                Vector256<float> mb2 = Vector256.Create(Mb2), bc2 = Vector256.Create(Bc2Sqrt);
                Vector256<float> negStep = Vector256.Create(-StepSize);
                for (; i + 8 <= end; i += 8)
                {
                    Vector256<float> g = Vector256.Load(Grad + i);
                    Vector256<float> m = Vector256.Load(M + i), v = Vector256.Load(V + i);
                    Vector256<float> p = Vector256.Load(Param + i) * wd;
                    m = Vector256.FusedMultiplyAdd(mb1, g - m, m);
                    v = Vector256.FusedMultiplyAdd(mb2, g * g - v, v);
                    Vector256<float> denom = Vector256.Sqrt(v) / bc2;
                    Vector256.FusedMultiplyAdd(negStep, SimdMath.Atan2(m, denom), p).Store(Param + i);
                    m.Store(M + i);
                    v.Store(V + i);
                }
            }
            else if (SimdMath.Narrow128 && SimdMath.Fused128)
            {
                // arm64 (and x64 with FMA but no AVX2); without FMA the scalar loop below keeps every update
                // bitwise the wider paths' (a software fused multiply-add per lane would be no faster).
                Vector128<float> wd = Vector128.Create(WdAlpha), mb1 = Vector128.Create(Mb1);
                Vector128<float> mb2 = Vector128.Create(Mb2), bc2 = Vector128.Create(Bc2Sqrt);
                Vector128<float> negStep = Vector128.Create(-StepSize);
                for (; i + 4 <= end; i += 4)
                {
                    Vector128<float> g = Vector128.Load(Grad + i);
                    Vector128<float> m = Vector128.Load(M + i), v = Vector128.Load(V + i);
                    Vector128<float> p = Vector128.Load(Param + i) * wd;
                    m = Vector128.FusedMultiplyAdd(mb1, g - m, m);
                    v = Vector128.FusedMultiplyAdd(mb2, g * g - v, v);
                    Vector128<float> denom = Vector128.Sqrt(v) / bc2;
                    Vector128.FusedMultiplyAdd(negStep, SimdMath.Atan2(m, denom), p).Store(Param + i);
                    m.Store(M + i);
                    v.Store(V + i);
                }
            }
            for (; i < end; i++)
            {
                float g = Grad[i];
                float p = Param[i] * WdAlpha;
                float m = MathF.FusedMultiplyAdd(Mb1, g - M[i], M[i]);
                float v = MathF.FusedMultiplyAdd(Mb2, g * g - V[i], V[i]);
                float denom = MathF.Sqrt(v) / Bc2Sqrt;
                Param[i] = MathF.FusedMultiplyAdd(-StepSize, SimdMath.Atan2(m, denom), p);
                M[i] = m;
                V[i] = v;
            }
        }
    }

    private struct SignSgdJob : IParallelJob
    {
        public float* Table;
        public float* Grads;
        public int* Ids;
        public int* Members;
        public int* Starts;
        public int Groups;
        public int W;
        public float Decay;
        public float NegLr;
        public int Blocks;
        public int Parts;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int index)
        {
            int c0 = (int)Split(Blocks, Parts, index) * 16, c1 = Math.Min(W, (int)Split(Blocks, Parts, index + 1) * 16);
            for (int gi = 0; gi < Groups; gi++)
            {
                int first = Starts[gi], last = Starts[gi + 1];
                float* row = Table + (long)Ids[Members[first]] * W;
                int c = c0;
                if (Vector512.IsHardwareAccelerated)
                {
                    Vector512<float> decay = Vector512.Create(Decay), negLr = Vector512.Create(NegLr);
                    for (; c + 16 <= c1; c += 16)
                    {
                        Vector512<float> s = Vector512<float>.Zero;
                        for (int k = first; k < last; k++) s += Vector512.Load(Grads + (long)Members[k] * W + c);
                        Vector512<float> sign = (Vector512.GreaterThan(s, Vector512<float>.Zero) & Vector512<float>.One)
                            - (Vector512.LessThan(s, Vector512<float>.Zero) & Vector512<float>.One);
                        Vector512.FusedMultiplyAdd(negLr, sign, Vector512.Load(row + c) * decay).Store(row + c);
                    }
                }
                else if (Vector256.IsHardwareAccelerated)
                {
                    Vector256<float> decay = Vector256.Create(Decay), negLr = Vector256.Create(NegLr);
                    for (; c + 8 <= c1; c += 8)
                    {
                        Vector256<float> s = Vector256<float>.Zero;
                        for (int k = first; k < last; k++) s += Vector256.Load(Grads + (long)Members[k] * W + c);
                        Vector256<float> sign = (Vector256.GreaterThan(s, Vector256<float>.Zero) & Vector256<float>.One)
                            - (Vector256.LessThan(s, Vector256<float>.Zero) & Vector256<float>.One);
                        Vector256.FusedMultiplyAdd(negLr, sign, Vector256.Load(row + c) * decay).Store(row + c);
                    }
                }
                for (; c < c1; c++)
                {
                    float s = 0f;
                    for (int k = first; k < last; k++) s += Grads[(long)Members[k] * W + c];
                    float sign = s > 0f ? 1f : s < 0f ? -1f : 0f;
                    row[c] = MathF.FusedMultiplyAdd(NegLr, sign, row[c] * Decay);
                }
            }
        }
    }
}
