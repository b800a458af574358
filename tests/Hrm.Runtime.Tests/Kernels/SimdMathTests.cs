using System.Runtime.Intrinsics;
using Hrm.Runtime.Backends.Cpu;

namespace Hrm.Runtime.Tests.Kernels;

/// <summary>
/// SimdMath's exp at every vector width against double exp and against each other, and its reductions (dot, axpy,
/// scale, scaled sum) against double references at lengths that cover every block size and tail. Run again at 256 and
/// 128 bits by NarrowSimdTests, where the 128-bit paths are the ones the ops take.
/// </summary>
[Collection(KernelTestGroup.Name)]
public sealed unsafe class SimdMathTests
{
    [Fact]
    public void Vector_exp_is_within_2_ulp_and_the_same_at_every_width()
    {
        var rng = new Random(11);
        var xs = new List<float>();
        for (int i = 0; i < 1 << 16; i++) xs.Add((float)(rng.NextDouble() * 180 - 90)); // past both limits
        for (int i = 0; i < 4096; i++) xs.Add((float)(rng.NextDouble() * 2 - 1) * 1e-3f);
        xs.AddRange([0f, -0f, 1f, -1f, 88.37f, -87.33f, -87.34f, 88.4f, 100f, -100f, float.NaN,
            float.PositiveInfinity, float.NegativeInfinity, 1e-30f, -1e-30f, 0.5f]);
        while (xs.Count % 16 != 0) xs.Add((float)rng.NextDouble());
        float[] x = [.. xs];
        for (int i = 0; i < x.Length; i += 16)
        {
            Vector512<float> v5 = SimdMath.Exp(Vector512.Create(x.AsSpan(i, 16)));
            for (int k = 0; k < 16; k++)
            {
                float xi = x[i + k];
                float v2 = SimdMath.Exp(Vector256.Create(x.AsSpan(i + k / 8 * 8, 8)))[k % 8];
                float v1 = SimdMath.Exp(Vector128.Create(x.AsSpan(i + k / 4 * 4, 4)))[k % 4];
                string at = $"exp({xi:R})";
                Assert.True(SameBits(v5[k], v2), $"{at}: 512-bit {v5[k]:R}, 256-bit {v2:R}");
                // 128 bits rounds each multiply-add twice where the machine has no FMA (x64 without it).
                if (SimdMath.Fused128) Assert.True(SameBits(v5[k], v1), $"{at}: 512-bit {v5[k]:R}, 128-bit {v1:R}");
                foreach (float v in (float[])[v5[k], v1])
                {
                    if (float.IsNaN(xi)) Assert.True(float.IsNaN(v), $"{at} = {v:R}, expected NaN");
                    else if (xi < -87.33f) Assert.True(v == 0f, $"{at} = {v:R}, expected 0 below the limit");
                    else if (xi > 88.37f) Assert.True(float.IsFinite(v) && v > 2e38f, $"{at} = {v:R}: not saturated");
                    else
                    {
                        float want = (float)Math.Exp(xi);
                        int ulp = Math.Abs(BitConverter.SingleToInt32Bits(want) - BitConverter.SingleToInt32Bits(v));
                        Assert.True(ulp <= 2, $"{at} = {v:R}, expected {want:R} ({ulp} ulp)");
                    }
                }
            }
        }
    }

    [Fact]
    public void Reductions_match_double_references_at_every_length()
    {
        var rng = new Random(12);
        for (int n = 0; n <= 70; n++)
        {
            float[] a = Fresh(rng, n), b = Fresh(rng, n), d = Fresh(rng, n);
            float f = (float)(rng.NextDouble() * 2 - 1);
            double dot = 0, dotAbs = 0;
            for (int i = 0; i < n; i++)
            {
                dot += (double)a[i] * b[i];
                dotAbs += Math.Abs((double)a[i] * b[i]);
            }
            var axpy = (float[])d.Clone();
            var scale = new float[n];
            var sum = new float[n];
            float got;
            fixed (float* pa = a, pb = b, px = axpy, ps = scale, pm = sum)
            {
                got = SimdMath.Dot(pa, pb, n);
                SimdMath.Axpy(px, pa, f, n);
                SimdMath.Scale(ps, pa, f, n);
                SimdMath.ScaledSum(pm, pa, pb, f, n);
            }
            Assert.True(Math.Abs(got - dot) <= 1e-6 * dotAbs + 1e-30, $"dot, n = {n}: {got:R} vs {dot:R}");
            for (int i = 0; i < n; i++)
            {
                Assert.True(Math.Abs(axpy[i] - (d[i] + (double)f * a[i])) <= 1e-6 * (Math.Abs(d[i]) + Math.Abs(f * a[i])),
                    $"axpy, n = {n}, i = {i}");
                Assert.Equal(f * a[i], scale[i]);
                Assert.Equal(f * (a[i] + b[i]), sum[i]);
            }
        }
    }

    [Fact]
    public void Group16_types_compute_what_vector512_computes()
    {
        // The attention's tile kernels run on these where AVX-512 is missing; each is checked where it runs natively.
        Assert.SkipUnless(Vector128.IsHardwareAccelerated, "no native vectors: both group types would be emulated");
        CheckGroup<Group128>(SimdMath.Fused128);
        if (Vector256.IsHardwareAccelerated) CheckGroup<Group256>(fused: true); // Vector256.FusedMultiplyAdd
    }

    private static void CheckGroup<TG>(bool fused) where TG : struct, IGroup16<TG>
    {
        var rng = new Random(13);
        float[] x = Fresh(rng, 16), y = Fresh(rng, 16), z = Fresh(rng, 16), got = new float[16];
        Vector512<float> vx = Vector512.Create(x), vy = Vector512.Create(y), vz = Vector512.Create(z);
        fixed (float* px = x, py = y, pz = z, pg = got)
        {
            TG gx = TG.Load(px), gy = TG.Load(py), gz = TG.Load(pz);
            Same(pg, gx + gy, vx + vy, "+");
            Same(pg, gx - gy, vx - vy, "-");
            Same(pg, gx * gy, vx * vy, "*");
            Same(pg, TG.Max(gx, gy), Vector512.Max(vx, vy), "Max");
            Same(pg, TG.Broadcast(x[3]), Vector512.Create(x[3]), "Broadcast");
            Same(pg, TG.MulAdd(gx, gy, gz), fused ? Vector512.FusedMultiplyAdd(vx, vy, vz) : vx * vy + vz, "MulAdd");
            if (fused) Same(pg, TG.Exp(gx), SimdMath.Exp(vx), "Exp");
            for (int at = 0; at < 16; at++)
            {
                float[] w = Fresh(rng, 16);
                w[at] = 40f; // the largest lane in every position
                fixed (float* pw = w) Assert.Equal(40f, TG.MaxAcross(TG.Load(pw)));
            }
            Assert.Equal(x.Sum(v => (double)v), TG.Sum(gx), 1e-5);
            for (int valid = 0; valid <= 16; valid++)
            {
                Same(pg, TG.LoadFirst(px, valid), Vector512.ConditionalSelect(
                    Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(valid)).AsSingle(), vx,
                    Vector512.Create(float.NegativeInfinity)), $"LoadFirst({valid})");
            }
        }
    }

    private static void Same<TG>(float* scratch, TG g, Vector512<float> want, string what)
        where TG : struct, IGroup16<TG>
    {
        TG.Store(g, scratch);
        for (int i = 0; i < 16; i++) Assert.True(SameBits(want[i], scratch[i]), $"{typeof(TG).Name}.{what}[{i}]");
    }

    private static float[] Fresh(Random rng, int n)
    {
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        return v;
    }

    private static bool SameBits(float a, float b)
        => BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b) || (float.IsNaN(a) && float.IsNaN(b));
}
