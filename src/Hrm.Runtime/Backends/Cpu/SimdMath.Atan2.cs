using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Hrm.Runtime.Backends.Cpu;

/// <summary>
/// Vectorised atan2(y, x) in float. Range reduction: a = min(|x|,|y|) / max(|x|,|y|) ∈ [0, 1], reduced once more
/// to t = (a − 1)/(a + 1) when a &gt; tan(π/8) (folded into the single division), so |t| ≤ tan(π/8); atan(t) by the
/// Cephes atanf polynomial; the octant is then restored as base + s·atan(t) with base ∈ {0, π/4, π/2, 3π/4, π}
/// split into a float head and tail, so there is one rounding at the end. The sign comes from y. IEEE special
/// cases follow C's atan2: atan2(±0, +0) = ±0, atan2(±0, −0) = ±π, both infinite gives ±π/4 or ±3π/4, NaN in
/// gives NaN. The scalar version performs the identical operation sequence (results match the lanes bitwise).
/// </summary>
internal static partial class SimdMath
{
    private const float TanPi8 = 0.414213568f;
    private const float AtanC0 = 8.05374449538e-2f;
    private const float AtanC1 = -1.38776856032e-1f;
    private const float AtanC2 = 1.99777106478e-1f;
    private const float AtanC3 = -3.33329491539e-1f;
    private const float Pio4Hi = 0.785398185f;
    private const float Pio4Lo = -2.18556941e-08f;
    private const float Pio2Hi = 1.57079637f;
    private const float Pio2Lo = -4.37113883e-08f;
    private const float ThreePio4Hi = 2.3561945f;
    private const float ThreePio4Lo = -5.96244032e-09f;
    private const float PiHi = 3.14159274f;
    private const float PiLo = -8.74227766e-08f;

    /// <summary>atan2(y, x) per lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Atan2(Vector512<float> y, Vector512<float> x)
    {
        Vector512<float> signBit = Vector512.Create(-0f);
        Vector512<float> ax = Vector512.AndNot(x, signBit), ay = Vector512.AndNot(y, signBit);
        Vector512<float> swap = Vector512.GreaterThan(ay, ax);
        Vector512<float> mn = Vector512.ConditionalSelect(swap, ax, ay);
        Vector512<float> mx = Vector512.ConditionalSelect(swap, ay, ax);
        Vector512<float> inf = Vector512.Create(float.PositiveInfinity);
        Vector512<float> bothInf = Vector512.Equals(mn, inf);
        Vector512<float> mid = Vector512.GreaterThan(mn, mx * Vector512.Create(TanPi8)) | bothInf;
        Vector512<float> num = Vector512.ConditionalSelect(mid, mn - mx, mn);
        Vector512<float> den = Vector512.ConditionalSelect(mid, mn + mx, mx);
        Vector512<float> t = num / den;
        t = Vector512.AndNot(t, Vector512.Equals(mx, Vector512<float>.Zero) | bothInf);

        Vector512<float> z = t * t;
        Vector512<float> q = Vector512.FusedMultiplyAdd(Vector512.Create(AtanC0), z, Vector512.Create(AtanC1));
        q = Vector512.FusedMultiplyAdd(q, z, Vector512.Create(AtanC2));
        q = Vector512.FusedMultiplyAdd(q, z, Vector512.Create(AtanC3));
        Vector512<float> p = Vector512.FusedMultiplyAdd(t * z, q, t);

        Vector512<float> xneg = Vector512.LessThan(x.AsInt32(), Vector512<int>.Zero).AsSingle();
        Vector512<float> hi = Vector512.ConditionalSelect(xneg,
            Vector512.ConditionalSelect(mid, Vector512.Create(ThreePio4Hi),
                Vector512.ConditionalSelect(swap, Vector512.Create(Pio2Hi), Vector512.Create(PiHi))),
            Vector512.ConditionalSelect(mid, Vector512.Create(Pio4Hi),
                Vector512.ConditionalSelect(swap, Vector512.Create(Pio2Hi), Vector512<float>.Zero)));
        Vector512<float> lo = Vector512.ConditionalSelect(xneg,
            Vector512.ConditionalSelect(mid, Vector512.Create(ThreePio4Lo),
                Vector512.ConditionalSelect(swap, Vector512.Create(Pio2Lo), Vector512.Create(PiLo))),
            Vector512.ConditionalSelect(mid, Vector512.Create(Pio4Lo),
                Vector512.ConditionalSelect(swap, Vector512.Create(Pio2Lo), Vector512<float>.Zero)));
        p ^= (swap ^ xneg) & signBit;
        Vector512<float> r = hi + (p + lo);
        r |= y & signBit;
        Vector512<float> nan = ~(Vector512.Equals(x, x) & Vector512.Equals(y, y));
        return Vector512.ConditionalSelect(nan, x + y, r);
    }

    /// <summary>atan2(y, x) per lane (same algorithm as the 512-bit version).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Atan2(Vector256<float> y, Vector256<float> x)
    {
        Vector256<float> signBit = Vector256.Create(-0f);
        Vector256<float> ax = Vector256.AndNot(x, signBit), ay = Vector256.AndNot(y, signBit);
        Vector256<float> swap = Vector256.GreaterThan(ay, ax);
        Vector256<float> mn = Vector256.ConditionalSelect(swap, ax, ay);
        Vector256<float> mx = Vector256.ConditionalSelect(swap, ay, ax);
        Vector256<float> inf = Vector256.Create(float.PositiveInfinity);
        Vector256<float> bothInf = Vector256.Equals(mn, inf);
        Vector256<float> mid = Vector256.GreaterThan(mn, mx * Vector256.Create(TanPi8)) | bothInf;
        Vector256<float> num = Vector256.ConditionalSelect(mid, mn - mx, mn);
        Vector256<float> den = Vector256.ConditionalSelect(mid, mn + mx, mx);
        Vector256<float> t = num / den;
        t = Vector256.AndNot(t, Vector256.Equals(mx, Vector256<float>.Zero) | bothInf);

        Vector256<float> z = t * t;
        Vector256<float> q = Vector256.FusedMultiplyAdd(Vector256.Create(AtanC0), z, Vector256.Create(AtanC1));
        q = Vector256.FusedMultiplyAdd(q, z, Vector256.Create(AtanC2));
        q = Vector256.FusedMultiplyAdd(q, z, Vector256.Create(AtanC3));
        Vector256<float> p = Vector256.FusedMultiplyAdd(t * z, q, t);

        Vector256<float> xneg = Vector256.LessThan(x.AsInt32(), Vector256<int>.Zero).AsSingle();
        Vector256<float> hi = Vector256.ConditionalSelect(xneg,
            Vector256.ConditionalSelect(mid, Vector256.Create(ThreePio4Hi),
                Vector256.ConditionalSelect(swap, Vector256.Create(Pio2Hi), Vector256.Create(PiHi))),
            Vector256.ConditionalSelect(mid, Vector256.Create(Pio4Hi),
                Vector256.ConditionalSelect(swap, Vector256.Create(Pio2Hi), Vector256<float>.Zero)));
        Vector256<float> lo = Vector256.ConditionalSelect(xneg,
            Vector256.ConditionalSelect(mid, Vector256.Create(ThreePio4Lo),
                Vector256.ConditionalSelect(swap, Vector256.Create(Pio2Lo), Vector256.Create(PiLo))),
            Vector256.ConditionalSelect(mid, Vector256.Create(Pio4Lo),
                Vector256.ConditionalSelect(swap, Vector256.Create(Pio2Lo), Vector256<float>.Zero)));
        p ^= (swap ^ xneg) & signBit;
        Vector256<float> r = hi + (p + lo);
        r |= y & signBit;
        Vector256<float> nan = ~(Vector256.Equals(x, x) & Vector256.Equals(y, y));
        return Vector256.ConditionalSelect(nan, x + y, r);
    }

    /// <summary>atan2(y, x) per lane (same algorithm as the 512-bit version; bitwise its lanes where
    /// <see cref="Fused128"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Atan2(Vector128<float> y, Vector128<float> x)
    {
        Vector128<float> signBit = Vector128.Create(-0f);
        Vector128<float> ax = Vector128.AndNot(x, signBit), ay = Vector128.AndNot(y, signBit);
        Vector128<float> swap = Vector128.GreaterThan(ay, ax);
        Vector128<float> mn = Vector128.ConditionalSelect(swap, ax, ay);
        Vector128<float> mx = Vector128.ConditionalSelect(swap, ay, ax);
        Vector128<float> inf = Vector128.Create(float.PositiveInfinity);
        Vector128<float> bothInf = Vector128.Equals(mn, inf);
        Vector128<float> mid = Vector128.GreaterThan(mn, mx * Vector128.Create(TanPi8)) | bothInf;
        Vector128<float> num = Vector128.ConditionalSelect(mid, mn - mx, mn);
        Vector128<float> den = Vector128.ConditionalSelect(mid, mn + mx, mx);
        Vector128<float> t = num / den;
        t = Vector128.AndNot(t, Vector128.Equals(mx, Vector128<float>.Zero) | bothInf);

        Vector128<float> z = t * t;
        Vector128<float> q = MulAdd(Vector128.Create(AtanC0), z, Vector128.Create(AtanC1));
        q = MulAdd(q, z, Vector128.Create(AtanC2));
        q = MulAdd(q, z, Vector128.Create(AtanC3));
        Vector128<float> p = MulAdd(t * z, q, t);

        Vector128<float> xneg = Vector128.LessThan(x.AsInt32(), Vector128<int>.Zero).AsSingle();
        Vector128<float> hi = Vector128.ConditionalSelect(xneg,
            Vector128.ConditionalSelect(mid, Vector128.Create(ThreePio4Hi),
                Vector128.ConditionalSelect(swap, Vector128.Create(Pio2Hi), Vector128.Create(PiHi))),
            Vector128.ConditionalSelect(mid, Vector128.Create(Pio4Hi),
                Vector128.ConditionalSelect(swap, Vector128.Create(Pio2Hi), Vector128<float>.Zero)));
        Vector128<float> lo = Vector128.ConditionalSelect(xneg,
            Vector128.ConditionalSelect(mid, Vector128.Create(ThreePio4Lo),
                Vector128.ConditionalSelect(swap, Vector128.Create(Pio2Lo), Vector128.Create(PiLo))),
            Vector128.ConditionalSelect(mid, Vector128.Create(Pio4Lo),
                Vector128.ConditionalSelect(swap, Vector128.Create(Pio2Lo), Vector128<float>.Zero)));
        p ^= (swap ^ xneg) & signBit;
        Vector128<float> r = hi + (p + lo);
        r |= y & signBit;
        Vector128<float> nan = ~(Vector128.Equals(x, x) & Vector128.Equals(y, y));
        return Vector128.ConditionalSelect(nan, x + y, r);
    }

    /// <summary>atan2(y, x) for one value: the vector algorithm step by step (bitwise equal to a lane).</summary>
    public static float Atan2(float y, float x)
    {
        if (float.IsNaN(x) || float.IsNaN(y)) return x + y;
        float ax = MathF.Abs(x), ay = MathF.Abs(y);
        bool swap = ay > ax;
        float mn = swap ? ax : ay, mx = swap ? ay : ax;
        bool bothInf = float.IsPositiveInfinity(mn);
        bool mid = mn > mx * TanPi8 || bothInf;
        float t = mid ? (mn - mx) / (mn + mx) : mn / mx;
        if (mx == 0f || bothInf) t = 0f;

        float z = t * t;
        float q = MathF.FusedMultiplyAdd(AtanC0, z, AtanC1);
        q = MathF.FusedMultiplyAdd(q, z, AtanC2);
        q = MathF.FusedMultiplyAdd(q, z, AtanC3);
        float p = MathF.FusedMultiplyAdd(t * z, q, t);

        bool xneg = float.IsNegative(x);
        float hi, lo;
        if (mid)
        {
            (hi, lo) = xneg ? (ThreePio4Hi, ThreePio4Lo) : (Pio4Hi, Pio4Lo);
        }
        else if (swap)
        {
            (hi, lo) = (Pio2Hi, Pio2Lo);
        }
        else
        {
            (hi, lo) = xneg ? (PiHi, PiLo) : (0f, 0f);
        }
        if (swap != xneg) p = -p;
        float r = hi + (p + lo);
        return float.IsNegative(y) ? -r : r;
    }
}
