using System.Runtime.Intrinsics;
using Hrm.Runtime.Backends;
using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Backends.Reference;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Tests.TestUtil;
using Hrm.Runtime.Threading;
using static Hrm.Runtime.Tests.Kernels.KernelTestUtil;

namespace Hrm.Runtime.Tests.Kernels;

[Collection(KernelTestGroup.Name)]
public sealed class AdamATan2Tests
{
    private const double Lr = 1e-2, Beta1 = 0.9, Beta2 = 0.95, Wd = 0.5;

    // Five steps of gradients for five elements; element 2 never gets a gradient (atan2(0, 0) = 0, so it only decays).
    private static readonly double[][] StepGrads =
    [
        [0.5, -0.25, 0, 3.0, 1e-3],
        [0.4, 0.25, 0, -3.0, 1e-3],
        [-0.1, -0.5, 0, 2.0, 0],
        [0.3, 0.125, 0, -1.0, -2e-3],
        [0.2, 0.0, 0, 0.5, 1e-3],
    ];

    private static readonly double[] Theta0 = [1.0, -0.5, 0.75, 0.0, 2.0];

    /// <summary>The update written out by hand (β-weighted averages, no lerp), in double, for steps 1..t.</summary>
    private static (double[] Theta, double[] M, double[] V) HandComputed(int steps)
    {
        double[] theta = (double[])Theta0.Clone();
        var m = new double[theta.Length];
        var v = new double[theta.Length];
        for (int t = 1; t <= steps; t++)
        {
            double bc1 = 1 - Math.Pow(Beta1, t), bc2 = 1 - Math.Pow(Beta2, t);
            for (int i = 0; i < theta.Length; i++)
            {
                double g = StepGrads[t - 1][i];
                theta[i] *= 1 - Lr * Wd;
                m[i] = Beta1 * m[i] + (1 - Beta1) * g;
                v[i] = Beta2 * v[i] + (1 - Beta2) * g * g;
                theta[i] -= Lr / bc1 * Math.Atan2(m[i], Math.Sqrt(v[i]) / Math.Sqrt(bc2));
            }
        }
        return (theta, m, v);
    }

    [Fact]
    public void Reference_matches_hand_computed_steps_1_to_5()
    {
        double[] theta = (double[])Theta0.Clone();
        var m = new double[theta.Length];
        var v = new double[theta.Length];
        for (int t = 1; t <= 5; t++)
        {
            ReferenceOps.AdamATan2Step(theta, StepGrads[t - 1], m, v, Lr, Beta1, Beta2, Wd, t);
            (double[] eTheta, double[] eM, double[] eV) = HandComputed(t);
            TensorAssert.Close(eTheta, theta, 1e-14, 1e-13, 1e-24, $"theta after step {t}");
            TensorAssert.Close(eM, m, 1e-15, 1e-13, 1e-24, $"m after step {t}");
            TensorAssert.Close(eV, v, 1e-15, 1e-13, 1e-24, $"v after step {t}");
            // The element without gradient only decays: θ0·(1 − lr·wd)^t exactly as computed step by step.
            Assert.Equal(0.0, m[2]);
            Assert.Equal(0.0, v[2]);
            Assert.Equal(eTheta[2], theta[2]);
        }
        Assert.Equal(0.75 * Math.Pow(1 - Lr * Wd, 5), theta[2], 15);
    }

    [Fact]
    public void First_step_moves_each_weight_by_about_lr_times_pi_over_4_over_bias_correction()
    {
        // t = 1 from zero moments: m = (1−β1)g, √v/√(1−β2) = |g|, so the step is lr/(1−β1)·atan2((1−β1)g, |g|).
        double[] theta = [0.0, 0.0];
        double[] m = new double[2], v = new double[2];
        ReferenceOps.AdamATan2Step(theta, [2.0, -7.0], m, v, Lr, Beta1, Beta2, 0.0, 1);
        double expected = Lr / (1 - Beta1) * Math.Atan2(1 - Beta1, 1.0);
        Assert.Equal(-expected, theta[0], 15);
        Assert.Equal(expected, theta[1], 15);
    }

    [Fact]
    public void Cpu_matches_hand_computed_steps_1_to_5()
    {
        using var pool = new WorkerPool(2);
        float[] theta = KernelTestUtil.ToFloat(Theta0);
        var m = new float[theta.Length];
        var v = new float[theta.Length];
        for (int t = 1; t <= 5; t++)
        {
            CpuOps.AdamATan2Step(theta, KernelTestUtil.ToFloat(StepGrads[t - 1]), m, v, Lr, Beta1, Beta2, Wd, t, pool);
            (double[] eTheta, double[] eM, double[] eV) = HandComputed(t);
            TensorAssert.Close(eTheta, theta, 1e-6, 1e-6, 1e-12, $"theta after step {t}");
            TensorAssert.Close(eM, m, 1e-7, 1e-6, 1e-12, $"m after step {t}");
            TensorAssert.Close(eV, v, 1e-7, 1e-6, 1e-12, $"v after step {t}");
            Assert.Equal(0f, m[2]);
            Assert.Equal(0f, v[2]);
        }
    }

    [Theory]
    [InlineData(100_003, 2)]
    [InlineData(37, 2)]
    [InlineData(100_003, 1)]
    public void Cpu_matches_reference_on_random_elements(int n, int threads)
    {
        float[] theta = TestData.Floats(1, n), m = TestData.Floats(2, n, 0.1f), v = TestData.Floats(3, n, 0.01f);
        for (int i = 0; i < n; i++) v[i] = Math.Abs(v[i]);
        // Edge elements: zero first moment, zero second moment with nonzero m (atan2 = ±π/2), all-zero padding.
        int pad0 = n / 2, padN = Math.Min(40, n / 4);
        for (int i = 0; i < n; i += 97)
        {
            m[i] = 0;
            if (i + 1 < n) v[i + 1] = 0;
        }
        for (int i = pad0; i < pad0 + padN; i++) theta[i] = m[i] = v[i] = 0;
        double[] rTheta = TestData.ToDouble(theta), rM = TestData.ToDouble(m), rV = TestData.ToDouble(v);
        using var pool = new WorkerPool(threads);
        for (int t = 1; t <= 3; t++)
        {
            float[] g = TestData.Floats(10 + t, n, 0.5f);
            for (int i = 0; i < n; i += 97) g[i] = 0;
            for (int i = pad0; i < pad0 + padN; i++) g[i] = 0;
            CpuOps.AdamATan2Step(theta, g, m, v, 1e-3, Beta1, Beta2, 0.1, t, pool);
            ReferenceOps.AdamATan2Step(rTheta, TestData.ToDouble(g), rM, rV, 1e-3, Beta1, Beta2, 0.1, t);
        }
        TensorAssert.Close(rTheta, theta, 2e-7, 2e-6, 1e-12, "theta");
        TensorAssert.Close(rM, m, 1e-8, 1e-5, 1e-12, "m");
        TensorAssert.Close(rV, v, 1e-9, 1e-5, 1e-12, "v");
        for (int i = pad0; i < pad0 + padN; i++)
        {
            Assert.Equal(0, BitConverter.SingleToInt32Bits(theta[i]));
            Assert.Equal(0, BitConverter.SingleToInt32Bits(m[i]));
            Assert.Equal(0, BitConverter.SingleToInt32Bits(v[i]));
        }
    }

    [Fact]
    public void Results_do_not_depend_on_the_thread_count()
    {
        const int n = 200_001;
        float[][] outs = new float[3][];
        for (int k = 0; k < 3; k++)
        {
            float[] theta = TestData.Floats(1, n), m = TestData.Floats(2, n, 0.1f), v = TestData.Floats(3, n, 0.01f);
            for (int i = 0; i < n; i++) v[i] = Math.Abs(v[i]);
            using var pool = new WorkerPool(k + 1);
            CpuOps.AdamATan2Step(theta, TestData.Floats(4, n), m, v, 1e-3, Beta1, Beta2, 0.1, 7, pool);
            outs[k] = [.. theta, .. m, .. v];
        }
        AssertBitwiseEqual(outs[0], outs[1], "1 vs 2 threads");
        AssertBitwiseEqual(outs[0], outs[2], "1 vs 3 threads");
    }

    [Fact]
    public void Backends_run_the_step_over_a_flat_region_and_keep_padding_zero()
    {
        using var cpu = new CpuBackend(2);
        using var reference = new ReferenceBackend();
        const int n = 1000;
        float[] theta = TestData.Floats(1, n), g = TestData.Floats(2, n);
        for (int i = 500; i < 520; i++) theta[i] = g[i] = 0; // padding between tensors
        var results = new List<float[]>();
        foreach (IHrmBackend b in new IHrmBackend[] { cpu, reference })
        {
            Assert.True(b.SupportsOp(HrmOp.Optimizer));
            Buf p = b.Allocate(n, "p"), gr = b.Allocate(n, "g"), m = b.Allocate(n, "m"), v = b.Allocate(n, "v");
            b.Upload(theta, p);
            b.Upload(g, gr);
            b.AdamATan2Step(p, gr, m, v, 1e-3, Beta1, Beta2, 1.0, 1);
            b.AdamATan2Step(p, gr, m, v, 1e-3, Beta1, Beta2, 1.0, 2);
            var outP = new float[n];
            b.Download(p, outP);
            results.Add(outP);
            for (int i = 500; i < 520; i++) Assert.Equal(0f, outP[i]);
        }
        TensorAssert.Close(TestData.ToDouble(results[1]), results[0], 1e-6, 1e-6, 1e-12, "cpu vs reference");
    }

    [Fact]
    public void Invalid_arguments_throw()
    {
        using var pool = new WorkerPool(1);
        float[] a = new float[4], b = new float[4], c = new float[4], d = new float[3];
        Assert.Throws<ArgumentOutOfRangeException>(() => CpuOps.AdamATan2Step(a, b, c, a, 1e-3, 0.9, 0.95, 0, 0, pool));
        Assert.Throws<ArgumentException>(() => CpuOps.AdamATan2Step(a, b, c, d, 1e-3, 0.9, 0.95, 0, 1, pool));
        Assert.Throws<ArgumentOutOfRangeException>(() => CpuOps.AdamATan2Step(a, b, c, a, 1e-3, 1.0, 0.95, 0, 1, pool));
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            ReferenceOps.AdamATan2Step(new double[2], new double[2], new double[2], new double[2], 1, 0.9, 0.95, 0, 0));
    }

    [Fact]
    public void Step_allocates_nothing()
    {
        const int n = 100_003;
        float[] theta = TestData.Floats(1, n), g = TestData.Floats(2, n), m = new float[n], v = new float[n];
        using var pool = new WorkerPool(2);
        int t = 0;
        AssertNoAllocation(() => CpuOps.AdamATan2Step(theta, g, m, v, 1e-4, Beta1, Beta2, 0.1, ++t, pool), "adam-atan2");
    }

    [Fact]
    public void Vector_atan2_is_within_2_ulp_and_matches_the_scalar_version()
    {
        var rng = new Random(5);
        const int n = 1 << 18;
        var ys = new float[n];
        var xs = new float[n];
        for (int i = 0; i < n; i++)
        {
            // Log-uniform magnitudes over a wide range, random signs; a fifth of the pairs have close magnitudes.
            float Mag() => (float)Math.Pow(2, rng.NextDouble() * 80 - 40);
            float Sign() => rng.Next(2) == 0 ? 1f : -1f;
            xs[i] = Sign() * Mag();
            ys[i] = i % 5 == 0 ? Sign() * Math.Abs(xs[i]) * (float)(0.3 + 2 * rng.NextDouble()) : Sign() * Mag();
        }
        float[] special = [0f, -0f, 1f, -1f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, 1e-45f, 3e38f];
        var sy = new List<float>();
        var sx = new List<float>();
        foreach (float y in special)
        {
            foreach (float x in special)
            {
                sy.Add(y);
                sx.Add(x);
            }
        }
        float[] ally = [.. ys, .. sy], allx = [.. xs, .. sx];
        int total = ally.Length - ally.Length % 16;
        int maxUlp = 0;
        for (int i = 0; i < ally.Length; i++)
        {
            float scalar = SimdMath.Atan2(ally[i], allx[i]);
            float expected = (float)Math.Atan2(ally[i], allx[i]);
            if (float.IsNaN(expected))
            {
                if (!float.IsNaN(scalar)) Assert.Fail($"atan2({ally[i]}, {allx[i]}) = {scalar}, expected NaN");
                continue;
            }
            int ulp = UlpDistance(expected, scalar);
            if (ulp > 2) Assert.Fail($"atan2({ally[i]:R}, {allx[i]:R}) = {scalar:R}, expected {expected:R} ({ulp} ulp)");
            maxUlp = Math.Max(maxUlp, ulp);
        }
        Assert.True(maxUlp <= 2);
        for (int i = 0; i + 16 <= total; i += 16)
        {
            var y = Vector512.Create(ally.AsSpan(i, 16));
            var x = Vector512.Create(allx.AsSpan(i, 16));
            Vector512<float> r512 = SimdMath.Atan2(y, x);
            Vector256<float> lo = SimdMath.Atan2(y.GetLower(), x.GetLower());
            Vector256<float> hi = SimdMath.Atan2(y.GetUpper(), x.GetUpper());
            for (int k = 0; k < 16; k++)
            {
                float s = SimdMath.Atan2(ally[i + k], allx[i + k]);
                float v5 = r512[k], v2 = k < 8 ? lo[k] : hi[k - 8];
                int q = i + k / 4 * 4;
                float v1 = SimdMath.Atan2(Vector128.Create(ally.AsSpan(q, 4)), Vector128.Create(allx.AsSpan(q, 4)))[k % 4];
                if (!SameBits(s, v5)) Assert.Fail($"512-bit lane differs at ({ally[i + k]:R}, {allx[i + k]:R}): {v5:R} vs {s:R}");
                if (!SameBits(s, v2)) Assert.Fail($"256-bit lane differs at ({ally[i + k]:R}, {allx[i + k]:R}): {v2:R} vs {s:R}");
                // 128 bits: the same operations, fused multiply-adds where the machine has them (arm64, x64 with
                // FMA), so bitwise; without FMA two roundings per multiply-add (the optimiser then runs the scalar
                // loop), so within 2 ulp of the exact value.
                if (SimdMath.Fused128 ? !SameBits(s, v1) : !float.IsNaN(s) && UlpDistance((float)Math.Atan2(ally[i + k], allx[i + k]), v1) > 2)
                    Assert.Fail($"128-bit lane differs at ({ally[i + k]:R}, {allx[i + k]:R}): {v1:R} vs {s:R}");
            }
        }
    }

    [Fact]
    public void Atan2_special_values_follow_C()
    {
        (float Y, float X, float Expected)[] cases =
        [
            (0f, 0f, 0f), (-0f, 0f, -0f), (0f, -0f, MathF.PI), (-0f, -0f, -MathF.PI),
            (float.PositiveInfinity, float.PositiveInfinity, MathF.PI / 4),
            (float.NegativeInfinity, float.NegativeInfinity, -2.3561945f),
            (1f, 0f, MathF.PI / 2), (0f, 1f, 0f), (-1f, float.PositiveInfinity, -0f),
        ];
        foreach ((float y, float x, float expected) in cases)
        {
            float r = SimdMath.Atan2(y, x);
            float v = SimdMath.Atan2(Vector512.Create(y), Vector512.Create(x))[3];
            Assert.True(SameBits(expected, r), $"atan2({y}, {x}) = {r:R}, expected {expected:R}");
            Assert.True(SameBits(expected, v), $"vector atan2({y}, {x}) = {v:R}, expected {expected:R}");
        }
    }

    private static bool SameBits(float a, float b)
        => BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b) || (float.IsNaN(a) && float.IsNaN(b));

    private static int UlpDistance(float a, float b)
    {
        if (a == b) return 0;
        int ia = BitConverter.SingleToInt32Bits(a), ib = BitConverter.SingleToInt32Bits(b);
        if ((ia < 0) != (ib < 0)) return int.MaxValue;
        return Math.Abs(ia - ib);
    }
}
