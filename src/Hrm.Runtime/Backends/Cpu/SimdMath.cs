using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Hrm.Runtime.Backends.Cpu;

/// <summary>
/// Vectorised float math for the CPU ops: exp (Cephes polynomial, about 1 ulp), reductions, and atan2
/// (SimdMath.Atan2.cs).
/// </summary>
internal static unsafe partial class SimdMath
{
    // exp(x) = 2^n · e^r, n = round(x·log2 e), r = x − n·ln 2 (two-constant Cody–Waite),
    // e^r by a degree-6 polynomial.
    private const float ExpHi = 88.37f;    // n ≤ 127: finite
    private const float ExpLo = -87.33f;   // n ≥ −126: normal; below it the result is flushed to +0
    private const float Log2E = 1.44269504088896341f;
    private const float Ln2Hi = 0.693359375f;
    private const float Ln2Lo = -2.12194440e-4f;
    private const float P0 = 1.9875691500e-4f;
    private const float P1 = 1.3981999507e-3f;
    private const float P2 = 8.3334519073e-3f;
    private const float P3 = 4.1665795894e-2f;
    private const float P4 = 1.6666665459e-1f;
    private const float P5 = 5.0000001201e-1f;

    /// <summary>e^x per lane; NaN stays NaN, x &gt; 88.37 saturates near 2.4e38, x &lt; −87.33 gives 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        Vector512<float> under = Vector512.LessThan(x, Vector512.Create(ExpLo));
        // Constant first: the native min/max return the second operand when one is NaN, so NaN propagates.
        x = Vector512.MinNative(Vector512.Create(ExpHi), x);
        x = Vector512.MaxNative(Vector512.Create(ExpLo), x);
        Vector512<float> n = ExpExponent(x);
        Vector512<float> y = ExpOfRemainder(x, n);
        Vector512<int> bits = (Vector512.ConvertToInt32Native(n) + Vector512.Create(127)) << 23;
        return Vector512.AndNot(y * bits.AsSingle(), under.AsSingle());
    }

    /// <summary>n = round(x·log2 e), the power of two of e^x (x finite).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> ExpExponent(Vector512<float> x) => Vector512.Round(x * Vector512.Create(Log2E));

    /// <summary>e^r for r = x − n·ln 2 (two-constant Cody–Waite), by the degree-6 polynomial: e^x = 2^n · this.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> ExpOfRemainder(Vector512<float> x, Vector512<float> n)
    {
        Vector512<float> r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Hi), x);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Lo), r);
        Vector512<float> y = Vector512.Create(P0);
        y = Vector512.FusedMultiplyAdd(y, r, Vector512.Create(P1));
        y = Vector512.FusedMultiplyAdd(y, r, Vector512.Create(P2));
        y = Vector512.FusedMultiplyAdd(y, r, Vector512.Create(P3));
        y = Vector512.FusedMultiplyAdd(y, r, Vector512.Create(P4));
        y = Vector512.FusedMultiplyAdd(y, r, Vector512.Create(P5));
        return Vector512.FusedMultiplyAdd(y, r * r, r + Vector512<float>.One);
    }

    /// <summary>e^x per lane (same algorithm and limits as the 512-bit version).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        Vector256<float> under = Vector256.LessThan(x, Vector256.Create(ExpLo));
        x = Vector256.MinNative(Vector256.Create(ExpHi), x);
        x = Vector256.MaxNative(Vector256.Create(ExpLo), x);
        Vector256<float> n = Vector256.Round(x * Vector256.Create(Log2E));
        Vector256<float> r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Hi), x);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Lo), r);
        Vector256<float> y = Vector256.Create(P0);
        y = Vector256.FusedMultiplyAdd(y, r, Vector256.Create(P1));
        y = Vector256.FusedMultiplyAdd(y, r, Vector256.Create(P2));
        y = Vector256.FusedMultiplyAdd(y, r, Vector256.Create(P3));
        y = Vector256.FusedMultiplyAdd(y, r, Vector256.Create(P4));
        y = Vector256.FusedMultiplyAdd(y, r, Vector256.Create(P5));
        y = Vector256.FusedMultiplyAdd(y, r * r, r + Vector256<float>.One);
        Vector256<int> bits = (Vector256.ConvertToInt32Native(n) + Vector256.Create(127)) << 23;
        return Vector256.AndNot(y * bits.AsSingle(), under.AsSingle());
    }

    /// <summary>e^x per lane (same algorithm and limits as the 512-bit version; where the machine has no fused
    /// multiply-add, <see cref="MulAdd"/> rounds twice, so lanes may differ from the wider versions in the last bit).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Exp(Vector128<float> x)
    {
        Vector128<float> under = Vector128.LessThan(x, Vector128.Create(ExpLo));
        x = Vector128.MinNative(Vector128.Create(ExpHi), x);
        x = Vector128.MaxNative(Vector128.Create(ExpLo), x);
        Vector128<float> n = Vector128.Round(x * Vector128.Create(Log2E));
        Vector128<float> r = MulAdd(n, Vector128.Create(-Ln2Hi), x);
        r = MulAdd(n, Vector128.Create(-Ln2Lo), r);
        Vector128<float> y = Vector128.Create(P0);
        y = MulAdd(y, r, Vector128.Create(P1));
        y = MulAdd(y, r, Vector128.Create(P2));
        y = MulAdd(y, r, Vector128.Create(P3));
        y = MulAdd(y, r, Vector128.Create(P4));
        y = MulAdd(y, r, Vector128.Create(P5));
        y = MulAdd(y, r * r, r + Vector128<float>.One);
        Vector128<int> bits = (Vector128.ConvertToInt32Native(n) + Vector128.Create(127)) << 23;
        return Vector128.AndNot(y * bits.AsSingle(), under.AsSingle());
    }

    /// <summary>Whether 128-bit multiply-adds round once (arm64's NEON, x64 with FMA): then <see cref="MulAdd"/> is
    /// the fused instruction and the 128-bit paths compute what the wider ones do. Else (x64 without FMA, where a fused
    /// Vector128 product would be emulated lane by lane) a multiply, then an add. A JIT-time constant.</summary>
    internal static bool Fused128 => AdvSimd.IsSupported || Fma.IsSupported;

    /// <summary>x·y + z per lane: one rounding where <see cref="Fused128"/>, else two.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> MulAdd(Vector128<float> x, Vector128<float> y, Vector128<float> z) =>
        Fused128 ? Vector128.FusedMultiplyAdd(x, y, z) : x * y + z;

    /// <summary>The widest vectors the CPU ops run natively, in words.</summary>
    public static string Description =>
        Vector512.IsHardwareAccelerated ? "512-bit vectors: AVX-512"
        : Vector256.IsHardwareAccelerated ? (Fma.IsSupported ? "256-bit vectors: AVX2 + FMA" : "256-bit vectors: AVX2")
        : AdvSimd.IsSupported ? "128-bit vectors: NEON"
        : Vector128.IsHardwareAccelerated ? (Fma.IsSupported ? "128-bit vectors + FMA" : "128-bit vectors: SSE")
        : "no SIMD: scalar loops";

    /// <summary>Whether the CPU ops take their 128-bit paths: 128-bit vectors are the widest the machine runs natively
    /// (arm64, x64 without AVX2). Wider Vector types are emulated lane by lane there. A JIT-time constant.</summary>
    internal static bool Narrow128 => !Vector256.IsHardwareAccelerated && Vector128.IsHardwareAccelerated;

    /// <summary>e^x for one value, with the same limits as the vector versions.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Exp(float x) => x < ExpLo ? 0f : MathF.Exp(x);

    /// <summary>Σ a[i]·b[i] over n floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot(float* a, float* b, int n)
    {
        int i = 0;
        float s = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            Vector512<float> s0 = Vector512<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
            for (; i <= n - 64; i += 64)
            {
                s0 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), s0);
                s1 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i + 16), Vector512.Load(b + i + 16), s1);
                s2 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i + 32), Vector512.Load(b + i + 32), s2);
                s3 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i + 48), Vector512.Load(b + i + 48), s3);
            }
            for (; i <= n - 16; i += 16)
                s0 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), s0);
            s = Vector512.Sum((s0 + s1) + (s2 + s3));
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            Vector256<float> s0 = Vector256<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
            for (; i <= n - 32; i += 32)
            {
                s0 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), s0);
                s1 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i + 8), Vector256.Load(b + i + 8), s1);
                s2 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i + 16), Vector256.Load(b + i + 16), s2);
                s3 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i + 24), Vector256.Load(b + i + 24), s3);
            }
            for (; i <= n - 8; i += 8)
                s0 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), s0);
            s = Vector256.Sum((s0 + s1) + (s2 + s3));
        }
        else if (Narrow128 && n >= 4)
        {
            Vector128<float> s0 = Vector128<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
            for (; i <= n - 16; i += 16)
            {
                s0 = MulAdd(Vector128.Load(a + i), Vector128.Load(b + i), s0);
                s1 = MulAdd(Vector128.Load(a + i + 4), Vector128.Load(b + i + 4), s1);
                s2 = MulAdd(Vector128.Load(a + i + 8), Vector128.Load(b + i + 8), s2);
                s3 = MulAdd(Vector128.Load(a + i + 12), Vector128.Load(b + i + 12), s3);
            }
            for (; i <= n - 4; i += 4) s0 = MulAdd(Vector128.Load(a + i), Vector128.Load(b + i), s0);
            s = Vector128.Sum((s0 + s1) + (s2 + s3));
        }
        for (; i < n; i++) s = MathF.FusedMultiplyAdd(a[i], b[i], s);
        return s;
    }

    /// <summary>dst[i] += f·src[i] over n floats (dst and src must not overlap unless equal).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Axpy(float* dst, float* src, float f, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> fv = Vector512.Create(f);
            for (; i <= n - 16; i += 16)
                Vector512.FusedMultiplyAdd(fv, Vector512.Load(src + i), Vector512.Load(dst + i)).Store(dst + i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> fv = Vector256.Create(f);
            for (; i <= n - 8; i += 8)
                Vector256.FusedMultiplyAdd(fv, Vector256.Load(src + i), Vector256.Load(dst + i)).Store(dst + i);
        }
        if (Narrow128)
        {
            Vector128<float> fv = Vector128.Create(f);
            for (; i <= n - 4; i += 4) MulAdd(fv, Vector128.Load(src + i), Vector128.Load(dst + i)).Store(dst + i);
        }
        for (; i < n; i++) dst[i] = MathF.FusedMultiplyAdd(f, src[i], dst[i]);
    }

    /// <summary>dst[i] = f·src[i] over n floats (dst may equal src).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scale(float* dst, float* src, float f, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> fv = Vector512.Create(f);
            for (; i <= n - 16; i += 16) (fv * Vector512.Load(src + i)).Store(dst + i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> fv = Vector256.Create(f);
            for (; i <= n - 8; i += 8) (fv * Vector256.Load(src + i)).Store(dst + i);
        }
        if (Narrow128)
        {
            Vector128<float> fv = Vector128.Create(f);
            for (; i <= n - 4; i += 4) (fv * Vector128.Load(src + i)).Store(dst + i);
        }
        for (; i < n; i++) dst[i] = f * src[i];
    }

    /// <summary>dst[i] = f·(a[i] + b[i]) over n floats (dst may equal a or b).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ScaledSum(float* dst, float* a, float* b, float f, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> fv = Vector512.Create(f);
            for (; i <= n - 16; i += 16) (fv * (Vector512.Load(a + i) + Vector512.Load(b + i))).Store(dst + i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> fv = Vector256.Create(f);
            for (; i <= n - 8; i += 8) (fv * (Vector256.Load(a + i) + Vector256.Load(b + i))).Store(dst + i);
        }
        if (Narrow128)
        {
            Vector128<float> fv = Vector128.Create(f);
            for (; i <= n - 4; i += 4) (fv * (Vector128.Load(a + i) + Vector128.Load(b + i))).Store(dst + i);
        }
        for (; i < n; i++) dst[i] = f * (a[i] + b[i]);
    }
}
