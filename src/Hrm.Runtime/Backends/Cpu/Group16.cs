using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Hrm.Runtime.Backends.Cpu;

/// <summary>
/// 16 consecutive floats held as the machine's native vectors: the unit of the attention's key tiles and head columns.
/// Kernels written once over a group type (CpuOps.AttentionNarrow.cs) run on AVX2 machines as two 256-bit vectors and on
/// arm64 (and x64 without AVX2) as four 128-bit ones, where Vector512 would be emulated. Per lane every operation is the
/// Vector512 one (multiply-adds fused where the machine has FMA, else rounded twice); reductions across lanes
/// (<see cref="IGroup16{TSelf}.Sum"/>, <see cref="IGroup16{TSelf}.MaxAcross"/>) add in their own order.
/// </summary>
internal unsafe interface IGroup16<TSelf> where TSelf : struct, IGroup16<TSelf>
{
    static abstract TSelf Load(float* p);

    static abstract void Store(TSelf v, float* p);

    static abstract TSelf Broadcast(float x);

    /// <summary>x·y + z per lane (one rounding where the machine fuses multiply-adds).</summary>
    static abstract TSelf MulAdd(TSelf x, TSelf y, TSelf z);

    static abstract TSelf operator +(TSelf x, TSelf y);

    static abstract TSelf operator -(TSelf x, TSelf y);

    static abstract TSelf operator *(TSelf x, TSelf y);

    static abstract TSelf Max(TSelf x, TSelf y);

    /// <summary>The largest lane (native max: NaN lanes need no care, they reach the output through exp anyway).</summary>
    static abstract float MaxAcross(TSelf v);

    static abstract float Sum(TSelf v);

    /// <summary>e^x per lane (<see cref="SimdMath.Exp(Vector512{float})"/>'s algorithm and limits).</summary>
    static abstract TSelf Exp(TSelf x);

    /// <summary>The 16 floats at p with lanes valid and beyond (valid in 0..16) replaced by −inf.</summary>
    static abstract TSelf LoadFirst(float* p, int valid);
}

/// <summary>Which group type the CPU attention's tile kernels run on (JIT-time constants).</summary>
internal static class Group16
{
    /// <summary>Two 256-bit vectors: AVX2 + FMA machines without AVX-512 (most x64 laptops). .NET turns FMA off with
    /// AVX2, so a machine with 256-bit vectors and no FMA is one forced by switches; it keeps the emulated wide
    /// kernels (their fused multiply-adds agree with the odd query's 256-bit loops).</summary>
    public static bool Use256 => !Vector512.IsHardwareAccelerated && Vector256.IsHardwareAccelerated && Fma.IsSupported;

    /// <summary>Four 128-bit vectors: arm64, x64 without AVX2 (<see cref="SimdMath.Narrow128"/>).</summary>
    public static bool Use128 => SimdMath.Narrow128;
}

/// <summary>16 floats as two Vector256.</summary>
internal readonly unsafe struct Group256(Vector256<float> lo, Vector256<float> hi) : IGroup16<Group256>
{
    private readonly Vector256<float> _lo = lo, _hi = hi;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Group256 Load(float* p) => new(Vector256.Load(p), Vector256.Load(p + 8));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Group256 v, float* p)
    {
        v._lo.Store(p);
        v._hi.Store(p + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Group256 Broadcast(float x)
    {
        var v = Vector256.Create(x);
        return new(v, v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Group256 MulAdd(Group256 x, Group256 y, Group256 z) =>
        new(Vector256.FusedMultiplyAdd(x._lo, y._lo, z._lo), Vector256.FusedMultiplyAdd(x._hi, y._hi, z._hi));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Group256 operator +(Group256 x, Group256 y) => new(x._lo + y._lo, x._hi + y._hi);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Group256 operator -(Group256 x, Group256 y) => new(x._lo - y._lo, x._hi - y._hi);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Group256 operator *(Group256 x, Group256 y) => new(x._lo * y._lo, x._hi * y._hi);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Group256 Max(Group256 x, Group256 y) =>
        new(Vector256.MaxNative(x._lo, y._lo), Vector256.MaxNative(x._hi, y._hi));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Group256 v)
    {
        Vector256<float> m8 = Vector256.MaxNative(v._lo, v._hi);
        return Group128.MaxAcross(Vector128.MaxNative(m8.GetLower(), m8.GetUpper()));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Group256 v) => Vector256.Sum(v._lo + v._hi);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Group256 Exp(Group256 x) => new(SimdMath.Exp(x._lo), SimdMath.Exp(x._hi));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Group256 LoadFirst(float* p, int valid)
    {
        Vector256<int> n = Vector256.Create(valid), idx = Vector256<int>.Indices;
        var negInf = Vector256.Create(float.NegativeInfinity);
        return new(
            Vector256.ConditionalSelect(Vector256.LessThan(idx, n).AsSingle(), Vector256.Load(p), negInf),
            Vector256.ConditionalSelect(Vector256.LessThan(idx + Vector256.Create(8), n).AsSingle(), Vector256.Load(p + 8),
                negInf));
    }
}

/// <summary>16 floats as four Vector128.</summary>
internal readonly unsafe struct Group128(Vector128<float> a, Vector128<float> b, Vector128<float> c, Vector128<float> d)
    : IGroup16<Group128>
{
    private readonly Vector128<float> _a = a, _b = b, _c = c, _d = d;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Group128 Load(float* p) =>
        new(Vector128.Load(p), Vector128.Load(p + 4), Vector128.Load(p + 8), Vector128.Load(p + 12));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Group128 v, float* p)
    {
        v._a.Store(p);
        v._b.Store(p + 4);
        v._c.Store(p + 8);
        v._d.Store(p + 12);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Group128 Broadcast(float x)
    {
        var v = Vector128.Create(x);
        return new(v, v, v, v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Group128 MulAdd(Group128 x, Group128 y, Group128 z) => new(SimdMath.MulAdd(x._a, y._a, z._a),
        SimdMath.MulAdd(x._b, y._b, z._b), SimdMath.MulAdd(x._c, y._c, z._c), SimdMath.MulAdd(x._d, y._d, z._d));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Group128 operator +(Group128 x, Group128 y) => new(x._a + y._a, x._b + y._b, x._c + y._c, x._d + y._d);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Group128 operator -(Group128 x, Group128 y) => new(x._a - y._a, x._b - y._b, x._c - y._c, x._d - y._d);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Group128 operator *(Group128 x, Group128 y) => new(x._a * y._a, x._b * y._b, x._c * y._c, x._d * y._d);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Group128 Max(Group128 x, Group128 y) => new(Vector128.MaxNative(x._a, y._a),
        Vector128.MaxNative(x._b, y._b), Vector128.MaxNative(x._c, y._c), Vector128.MaxNative(x._d, y._d));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Group128 v) =>
        MaxAcross(Vector128.MaxNative(Vector128.MaxNative(v._a, v._b), Vector128.MaxNative(v._c, v._d)));

    /// <summary>The largest of four lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Vector128<float> x)
    {
        x = Vector128.MaxNative(x, Vector128.Shuffle(x, Vector128.Create(2, 3, 0, 1)));
        x = Vector128.MaxNative(x, Vector128.Shuffle(x, Vector128.Create(1, 0, 3, 2)));
        return x.ToScalar();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Group128 v) => Vector128.Sum((v._a + v._b) + (v._c + v._d));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Group128 Exp(Group128 x) =>
        new(SimdMath.Exp(x._a), SimdMath.Exp(x._b), SimdMath.Exp(x._c), SimdMath.Exp(x._d));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Group128 LoadFirst(float* p, int valid)
    {
        Vector128<int> n = Vector128.Create(valid), idx = Vector128<int>.Indices;
        var negInf = Vector128.Create(float.NegativeInfinity);
        return new(
            Vector128.ConditionalSelect(Vector128.LessThan(idx, n).AsSingle(), Vector128.Load(p), negInf),
            Vector128.ConditionalSelect(Vector128.LessThan(idx + Vector128.Create(4), n).AsSingle(), Vector128.Load(p + 4),
                negInf),
            Vector128.ConditionalSelect(Vector128.LessThan(idx + Vector128.Create(8), n).AsSingle(), Vector128.Load(p + 8),
                negInf),
            Vector128.ConditionalSelect(Vector128.LessThan(idx + Vector128.Create(12), n).AsSingle(),
                Vector128.Load(p + 12), negInf));
    }
}
