using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Hrm.Runtime.Backends.Cpu;

internal static unsafe partial class GemmKernels
{
    /// <summary>Whether <see cref="Kernel128"/> multiplies and adds in one rounding (arm64's NEON, x64 with FMA);
    /// else a multiply, then an add (x64 without FMA, where a fused Vector128 product would be emulated lane by
    /// lane).</summary>
    internal static bool Fused128 => SimdMath.Fused128; // a JIT-time constant

    /// <summary>
    /// C[6×16] (+)= Σ_p a[p·6 + i] · b[p·bs + j] on Vector128 (four vectors a row: 24 accumulators, within arm64's
    /// 32 vector registers), p = 0..kc-1 in order; the accumulators start from C when <paramref name="load"/>, else
    /// from 0. The tile and the packing are <see cref="Kernel256"/>'s, so the same panels feed both; for machines without
    /// 256-bit vectors (arm64 laptops and servers, x64 without AVX2), which otherwise had only the scalar loops. x64
    /// without AVX-512 has 16 vector registers, not 32: there the 24 accumulators spill (still far faster than
    /// scalar; such machines predate AVX2, 2013).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Kernel128(float* a, float* b, nint bs, float* c, nint ldc, int kc, bool load)
    {
        if (Fused128) Kernel128<FusedMulAdd>(a, b, bs, c, ldc, kc, load);
        else Kernel128<SeparateMulAdd>(a, b, bs, c, ldc, kc, load);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel128<TOp>(float* a, float* b, nint bs, float* c, nint ldc, int kc, bool load)
        where TOp : struct, IMulAdd128
    {
        Vector128<float> c0_0, c0_1, c0_2, c0_3, c1_0, c1_1, c1_2, c1_3, c2_0, c2_1, c2_2, c2_3,
            c3_0, c3_1, c3_2, c3_3, c4_0, c4_1, c4_2, c4_3, c5_0, c5_1, c5_2, c5_3;
        if (load)
        {
            c0_0 = Vector128.Load(c + 0);
            c0_1 = Vector128.Load(c + 4);
            c0_2 = Vector128.Load(c + 8);
            c0_3 = Vector128.Load(c + 12);
            c1_0 = Vector128.Load(c + 1 * ldc + 0);
            c1_1 = Vector128.Load(c + 1 * ldc + 4);
            c1_2 = Vector128.Load(c + 1 * ldc + 8);
            c1_3 = Vector128.Load(c + 1 * ldc + 12);
            c2_0 = Vector128.Load(c + 2 * ldc + 0);
            c2_1 = Vector128.Load(c + 2 * ldc + 4);
            c2_2 = Vector128.Load(c + 2 * ldc + 8);
            c2_3 = Vector128.Load(c + 2 * ldc + 12);
            c3_0 = Vector128.Load(c + 3 * ldc + 0);
            c3_1 = Vector128.Load(c + 3 * ldc + 4);
            c3_2 = Vector128.Load(c + 3 * ldc + 8);
            c3_3 = Vector128.Load(c + 3 * ldc + 12);
            c4_0 = Vector128.Load(c + 4 * ldc + 0);
            c4_1 = Vector128.Load(c + 4 * ldc + 4);
            c4_2 = Vector128.Load(c + 4 * ldc + 8);
            c4_3 = Vector128.Load(c + 4 * ldc + 12);
            c5_0 = Vector128.Load(c + 5 * ldc + 0);
            c5_1 = Vector128.Load(c + 5 * ldc + 4);
            c5_2 = Vector128.Load(c + 5 * ldc + 8);
            c5_3 = Vector128.Load(c + 5 * ldc + 12);
        }
        else
        {
            c0_0 = Vector128<float>.Zero;
            c0_1 = Vector128<float>.Zero;
            c0_2 = Vector128<float>.Zero;
            c0_3 = Vector128<float>.Zero;
            c1_0 = Vector128<float>.Zero;
            c1_1 = Vector128<float>.Zero;
            c1_2 = Vector128<float>.Zero;
            c1_3 = Vector128<float>.Zero;
            c2_0 = Vector128<float>.Zero;
            c2_1 = Vector128<float>.Zero;
            c2_2 = Vector128<float>.Zero;
            c2_3 = Vector128<float>.Zero;
            c3_0 = Vector128<float>.Zero;
            c3_1 = Vector128<float>.Zero;
            c3_2 = Vector128<float>.Zero;
            c3_3 = Vector128<float>.Zero;
            c4_0 = Vector128<float>.Zero;
            c4_1 = Vector128<float>.Zero;
            c4_2 = Vector128<float>.Zero;
            c4_3 = Vector128<float>.Zero;
            c5_0 = Vector128<float>.Zero;
            c5_1 = Vector128<float>.Zero;
            c5_2 = Vector128<float>.Zero;
            c5_3 = Vector128<float>.Zero;
        }
        for (int p = 0; p < kc; p++)
        {
            Vector128<float> b0 = Vector128.Load(b + 0);
            Vector128<float> b1 = Vector128.Load(b + 4);
            Vector128<float> b2 = Vector128.Load(b + 8);
            Vector128<float> b3 = Vector128.Load(b + 12);
            Vector128<float> a0 = Vector128.Create(a[0]);
            c0_0 = TOp.MulAdd(a0, b0, c0_0);
            c0_1 = TOp.MulAdd(a0, b1, c0_1);
            c0_2 = TOp.MulAdd(a0, b2, c0_2);
            c0_3 = TOp.MulAdd(a0, b3, c0_3);
            Vector128<float> a1 = Vector128.Create(a[1]);
            c1_0 = TOp.MulAdd(a1, b0, c1_0);
            c1_1 = TOp.MulAdd(a1, b1, c1_1);
            c1_2 = TOp.MulAdd(a1, b2, c1_2);
            c1_3 = TOp.MulAdd(a1, b3, c1_3);
            Vector128<float> a2 = Vector128.Create(a[2]);
            c2_0 = TOp.MulAdd(a2, b0, c2_0);
            c2_1 = TOp.MulAdd(a2, b1, c2_1);
            c2_2 = TOp.MulAdd(a2, b2, c2_2);
            c2_3 = TOp.MulAdd(a2, b3, c2_3);
            Vector128<float> a3 = Vector128.Create(a[3]);
            c3_0 = TOp.MulAdd(a3, b0, c3_0);
            c3_1 = TOp.MulAdd(a3, b1, c3_1);
            c3_2 = TOp.MulAdd(a3, b2, c3_2);
            c3_3 = TOp.MulAdd(a3, b3, c3_3);
            Vector128<float> a4 = Vector128.Create(a[4]);
            c4_0 = TOp.MulAdd(a4, b0, c4_0);
            c4_1 = TOp.MulAdd(a4, b1, c4_1);
            c4_2 = TOp.MulAdd(a4, b2, c4_2);
            c4_3 = TOp.MulAdd(a4, b3, c4_3);
            Vector128<float> a5 = Vector128.Create(a[5]);
            c5_0 = TOp.MulAdd(a5, b0, c5_0);
            c5_1 = TOp.MulAdd(a5, b1, c5_1);
            c5_2 = TOp.MulAdd(a5, b2, c5_2);
            c5_3 = TOp.MulAdd(a5, b3, c5_3);
            a += 6;
            b += bs;
        }
        Vector128.Store(c0_0, c + 0);
        Vector128.Store(c0_1, c + 4);
        Vector128.Store(c0_2, c + 8);
        Vector128.Store(c0_3, c + 12);
        Vector128.Store(c1_0, c + 1 * ldc + 0);
        Vector128.Store(c1_1, c + 1 * ldc + 4);
        Vector128.Store(c1_2, c + 1 * ldc + 8);
        Vector128.Store(c1_3, c + 1 * ldc + 12);
        Vector128.Store(c2_0, c + 2 * ldc + 0);
        Vector128.Store(c2_1, c + 2 * ldc + 4);
        Vector128.Store(c2_2, c + 2 * ldc + 8);
        Vector128.Store(c2_3, c + 2 * ldc + 12);
        Vector128.Store(c3_0, c + 3 * ldc + 0);
        Vector128.Store(c3_1, c + 3 * ldc + 4);
        Vector128.Store(c3_2, c + 3 * ldc + 8);
        Vector128.Store(c3_3, c + 3 * ldc + 12);
        Vector128.Store(c4_0, c + 4 * ldc + 0);
        Vector128.Store(c4_1, c + 4 * ldc + 4);
        Vector128.Store(c4_2, c + 4 * ldc + 8);
        Vector128.Store(c4_3, c + 4 * ldc + 12);
        Vector128.Store(c5_0, c + 5 * ldc + 0);
        Vector128.Store(c5_1, c + 5 * ldc + 4);
        Vector128.Store(c5_2, c + 5 * ldc + 8);
        Vector128.Store(c5_3, c + 5 * ldc + 12);
    }

    /// <summary>x·y + z in one rounding or in two (<see cref="Fused128"/> picks which).</summary>
    private interface IMulAdd128
    {
        static abstract Vector128<float> MulAdd(Vector128<float> x, Vector128<float> y, Vector128<float> z);
    }

    private readonly struct FusedMulAdd : IMulAdd128
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> MulAdd(Vector128<float> x, Vector128<float> y, Vector128<float> z) =>
            Vector128.FusedMultiplyAdd(x, y, z);
    }

    private readonly struct SeparateMulAdd : IMulAdd128
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> MulAdd(Vector128<float> x, Vector128<float> y, Vector128<float> z) => x * y + z;
    }
}
