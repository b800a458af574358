namespace Hrm.Runtime.Numerics;

/// <summary>
/// An explicit, seedable generator (xoshiro256**, seeded through SplitMix64). Never global: every consumer
/// (initialisation, exploration, samplers, builders) owns one, and its state can be saved and restored
/// exactly (<see cref="GetState"/>, <see cref="SetState"/>) so resumed runs continue bit for bit.
/// </summary>
public sealed class HrmRandom
{
    private ulong _s0, _s1, _s2, _s3;

    /// <summary>Seeds the generator.</summary>
    public HrmRandom(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    /// <summary>Next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [a, b).</summary>
    public double NextUniform(double a, double b) => a + (b - a) * NextDouble();

    /// <summary>Uniform integer in [lo, hi) without modulo bias (Lemire's method).</summary>
    public int NextInt(int lo, int hi)
    {
        if (hi <= lo) throw new ArgumentOutOfRangeException(nameof(hi), $"empty range [{lo}, {hi})");
        ulong range = (ulong)((long)hi - lo);
        ulong x = NextUInt64();
        UInt128 mul = (UInt128)x * range;
        ulong low = (ulong)mul;
        if (low < range)
        {
            ulong threshold = (0 - range) % range;
            while (low < threshold)
            {
                x = NextUInt64();
                mul = (UInt128)x * range;
                low = (ulong)mul;
            }
        }
        return lo + (int)(ulong)(mul >> 64);
    }

    /// <summary>The four state words.</summary>
    public (ulong, ulong, ulong, ulong) GetState() => (_s0, _s1, _s2, _s3);

    /// <summary>Restores a state from <see cref="GetState"/>.</summary>
    public void SetState((ulong, ulong, ulong, ulong) state)
    {
        if (state == (0UL, 0UL, 0UL, 0UL)) throw new ArgumentException("the all-zero state is invalid", nameof(state));
        (_s0, _s1, _s2, _s3) = state;
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
