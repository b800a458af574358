using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Hrm.Runtime.Threading;
using static Hrm.Runtime.Backends.Cpu.CpuOpsSupport;

namespace Hrm.Runtime.Backends.Cpu;

public static unsafe partial class CpuOps
{
    /// <summary>logits (B,L,V) = zH[:, P:, :] (B,T,C) · W (V,C)ᵀ, as direct dot products (V is small).</summary>
    public static void LmHeadForward(Span<float> logits, ReadOnlySpan<float> zH, ReadOnlySpan<float> weight,
        int batch, int t, int p, int c, int v, WorkerPool pool)
    {
        CheckHeadDims(batch, t, p, c, v);
        int l = t - p;
        Check(logits, (long)batch * l * v, nameof(logits));
        Check(zH, (long)batch * t * c, nameof(zH));
        Check(weight, (long)v * c, nameof(weight));
        fixed (float* pl = logits, pz = zH, pw = weight)
        {
            var job = new LmHeadForwardJob
            {
                Logits = pl, Z = pz, W = pw, Rows = (long)batch * l, T = t, P = p, C = c, V = v,
            };
            job.Parts = Tasks(pool, job.Rows, (long)v * c);
            pool.Run(&job, job.Parts);
        }
    }

    /// <summary>dzH (B,T,C) = (prefix rows zero) dlogits·W; dW (V,C) += Σ dlogitsᵀ·zH.</summary>
    public static void LmHeadBackward(Span<float> dzH, Span<float> dweight, ReadOnlySpan<float> dlogits,
        ReadOnlySpan<float> zH, ReadOnlySpan<float> weight, int batch, int t, int p, int c, int v, WorkerPool pool)
    {
        CheckHeadDims(batch, t, p, c, v);
        int l = t - p;
        Check(dzH, (long)batch * t * c, nameof(dzH));
        Check(dlogits, (long)batch * l * v, nameof(dlogits));
        Check(zH, (long)batch * t * c, nameof(zH));
        Check(weight, (long)v * c, nameof(weight));
        Check(dweight, (long)v * c, nameof(dweight));
        fixed (float* pdz = dzH, pdw = dweight, pdl = dlogits, pz = zH, pw = weight)
        {
            // Phase 1: dzH rows (=), parallel over rows of B·T.
            var rows = new LmHeadDzJob
            {
                Dz = pdz, DLogits = pdl, W = pw, Rows = (long)batch * t, T = t, P = p, C = c, V = v,
            };
            rows.Parts = Tasks(pool, rows.Rows, (long)v * c);
            pool.Run(&rows, rows.Parts);
            // Phase 2: dW (+=), parallel over channel chunks; every element sums its rows in order.
            var dw = new LmHeadDwJob
            {
                Dw = pdw, DLogits = pdl, Z = pz, Batch = batch, L = l, T = t, P = p, C = c, V = v,
                Blocks = (c + 15) / 16,
            };
            dw.Parts = Tasks(pool, dw.Blocks, 16L * batch * l * v);
            pool.Run(&dw, dw.Parts);
        }
    }

    /// <summary>q (B,2) = zH[:, 0, :] · W (2,C)ᵀ + bias (2); q[:,0] halt, q[:,1] continue.</summary>
    public static void QHeadForward(Span<float> q, ReadOnlySpan<float> zH, ReadOnlySpan<float> weight,
        ReadOnlySpan<float> bias, int batch, int t, int c, WorkerPool pool)
    {
        NonNegative(batch);
        NonNegative(t);
        NonNegative(c);
        Check(q, 2L * batch, nameof(q));
        Check(zH, (long)batch * t * c, nameof(zH));
        Check(weight, 2L * c, nameof(weight));
        Check(bias, 2, nameof(bias));
        fixed (float* pq = q, pz = zH, pw = weight, pb = bias)
        {
            var job = new QHeadForwardJob { Q = pq, Z = pz, W = pw, Bias = pb, Batch = batch, T = t, C = c };
            job.Parts = Tasks(pool, batch, 2L * c);
            pool.Run(&job, job.Parts);
        }
    }

    /// <summary>dzH[:,0,:] += dq·W; dW (2,C) += dqᵀ·zH[:,0,:]; dbias (2) += Σ dq.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void QHeadBackward(Span<float> dzH, Span<float> dweight, Span<float> dbias,
        ReadOnlySpan<float> dq, ReadOnlySpan<float> zH, ReadOnlySpan<float> weight, int batch, int t, int c,
        WorkerPool pool)
    {
        NonNegative(batch);
        NonNegative(t);
        NonNegative(c);
        Check(dzH, (long)batch * t * c, nameof(dzH));
        Check(dweight, 2L * c, nameof(dweight));
        Check(dbias, 2, nameof(dbias));
        Check(dq, 2L * batch, nameof(dq));
        Check(zH, (long)batch * t * c, nameof(zH));
        Check(weight, 2L * c, nameof(weight));
        for (int b = 0; b < batch; b++)
        {
            dbias[0] += dq[2 * b];
            dbias[1] += dq[2 * b + 1];
        }
        fixed (float* pdz = dzH, pdw = dweight, pdq = dq, pz = zH, pw = weight)
        {
            var job = new QHeadBackwardJob
            {
                Dz = pdz, Dw = pdw, Dq = pdq, Z = pz, W = pw, Batch = batch, T = t, C = c,
            };
            job.Blocks = (c + 15) / 16;
            job.Parts = Tasks(pool, job.Blocks, 16L * 4 * batch);
            pool.Run(&job, job.Parts);
        }
    }

    private static void CheckHeadDims(int batch, int t, int p, int c, int v)
    {
        NonNegative(batch);
        NonNegative(t);
        NonNegative(p);
        NonNegative(c);
        NonNegative(v);
        if (p > t) throw new ArgumentOutOfRangeException(nameof(p), $"prefix {p} is longer than the sequence {t}");
    }

    private struct LmHeadForwardJob : IParallelJob
    {
        public float* Logits;
        public float* Z;
        public float* W;
        public long Rows; // B·L
        public int T;
        public int P;
        public int C;
        public int V;
        public int Parts;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int index)
        {
            int l = T - P;
            long end = Split(Rows, Parts, index + 1);
            for (long r = Split(Rows, Parts, index); r < end; r++)
            {
                float* z = Z + ((r / l) * T + P + r % l) * C;
                float* o = Logits + r * V;
                for (int j = 0; j < V; j++) o[j] = SimdMath.Dot(z, W + (long)j * C, C);
            }
        }
    }

    private struct LmHeadDzJob : IParallelJob
    {
        public float* Dz;
        public float* DLogits;
        public float* W;
        public long Rows; // B·T
        public int T;
        public int P;
        public int C;
        public int V;
        public int Parts;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int index)
        {
            int l = T - P;
            long end = Split(Rows, Parts, index + 1);
            for (long r = Split(Rows, Parts, index); r < end; r++)
            {
                float* dz = Dz + r * C;
                long b = r / T, pos = r % T;
                new Span<float>(dz, C).Clear();
                if (pos < P) continue;
                float* g = DLogits + (b * l + pos - P) * V;
                for (int j = 0; j < V; j++) SimdMath.Axpy(dz, W + (long)j * C, g[j], C);
            }
        }
    }

    private struct LmHeadDwJob : IParallelJob
    {
        private const int Width = 64;

        public float* Dw;
        public float* DLogits;
        public float* Z;
        public int Batch;
        public int L;
        public int T;
        public int P;
        public int C;
        public int V;
        public int Blocks;
        public int Parts;

        [SkipLocalsInit]
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int index)
        {
            int c0 = (int)Split(Blocks, Parts, index) * 16, c1 = Math.Min(C, (int)Split(Blocks, Parts, index + 1) * 16);
            if (c1 <= c0) return;
            // Partial sums for a group of vocabulary rows × a 64-channel chunk start at zero, run over all rows of
            // zH once (in order), and are added to dW at the end, like the reference's per-element sums.
            const int MaxAcc = 2048;
            float* acc = stackalloc float[MaxAcc];
            int group = Math.Max(1, MaxAcc / Width);
            for (int j0 = 0; j0 < V; j0 += group)
            {
                int nv = Math.Min(group, V - j0);
                for (int k0 = c0; k0 < c1; k0 += Width)
                {
                    int n = Math.Min(Width, c1 - k0);
                    new Span<float>(acc, nv * Width).Clear();
                    for (int b = 0; b < Batch; b++)
                    {
                        for (int i = 0; i < L; i++)
                        {
                            float* z = Z + ((long)b * T + P + i) * C + k0;
                            float* g = DLogits + ((long)b * L + i) * V + j0;
                            AccumulateOuter(acc, g, nv, z, n);
                        }
                    }
                    for (int j = 0; j < nv; j++)
                    {
                        float* dw = Dw + (long)(j0 + j) * C + k0;
                        SimdMath.Axpy(dw, acc + j * Width, 1f, n);
                    }
                }
            }
        }

        /// <summary>acc[j·64 + i] += g[j]·z[i] for j &lt; nv, i &lt; n (n ≤ 64).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void AccumulateOuter(float* acc, float* g, int nv, float* z, int n)
        {
            if (n == Width && Vector512.IsHardwareAccelerated)
            {
                Vector512<float> z0 = Vector512.Load(z), z1 = Vector512.Load(z + 16);
                Vector512<float> z2 = Vector512.Load(z + 32), z3 = Vector512.Load(z + 48);
                for (int j = 0; j < nv; j++, acc += Width)
                {
                    var gj = Vector512.Create(g[j]);
                    Vector512.FusedMultiplyAdd(gj, z0, Vector512.Load(acc)).Store(acc);
                    Vector512.FusedMultiplyAdd(gj, z1, Vector512.Load(acc + 16)).Store(acc + 16);
                    Vector512.FusedMultiplyAdd(gj, z2, Vector512.Load(acc + 32)).Store(acc + 32);
                    Vector512.FusedMultiplyAdd(gj, z3, Vector512.Load(acc + 48)).Store(acc + 48);
                }
                return;
            }
            for (int j = 0; j < nv; j++) SimdMath.Axpy(acc + j * Width, z, g[j], n);
        }
    }

    private struct QHeadForwardJob : IParallelJob
    {
        public float* Q;
        public float* Z;
        public float* W;
        public float* Bias;
        public int Batch;
        public int T;
        public int C;
        public int Parts;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int index)
        {
            int end = (int)Split(Batch, Parts, index + 1);
            for (int b = (int)Split(Batch, Parts, index); b < end; b++)
            {
                float* z = Z + (long)b * T * C;
                Q[2 * b] = Bias[0] + SimdMath.Dot(z, W, C);
                Q[2 * b + 1] = Bias[1] + SimdMath.Dot(z, W + C, C);
            }
        }
    }

    private struct QHeadBackwardJob : IParallelJob
    {
        public float* Dz;
        public float* Dw;
        public float* Dq;
        public float* Z;
        public float* W;
        public int Batch;
        public int T;
        public int C;
        public int Blocks;
        public int Parts;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int index)
        {
            int c0 = (int)Split(Blocks, Parts, index) * 16, c1 = Math.Min(C, (int)Split(Blocks, Parts, index + 1) * 16);
            int n = c1 - c0;
            if (n <= 0) return;
            float* w0 = W + c0, w1 = W + C + c0, dw0 = Dw + c0, dw1 = Dw + C + c0;
            for (int b = 0; b < Batch; b++)
            {
                float g0 = Dq[2 * b], g1 = Dq[2 * b + 1];
                float* z = Z + (long)b * T * C + c0, dz = Dz + (long)b * T * C + c0;
                SimdMath.Axpy(dz, w0, g0, n);
                SimdMath.Axpy(dz, w1, g1, n);
                SimdMath.Axpy(dw0, z, g0, n);
                SimdMath.Axpy(dw1, z, g1, n);
            }
        }
    }
}
