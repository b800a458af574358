using Hrm.Runtime.Numerics;

namespace Hrm.Runtime.Tests.Formats;

public sealed class BFloat16Tests
{
    private static float F(uint bits) => BitConverter.UInt32BitsToSingle(bits);

    [Theory]
    [InlineData(1.0f, 0x3F80)]
    [InlineData(-2.0f, 0xC000)]
    [InlineData(0.5f, 0x3F00)]
    [InlineData(3.0f, 0x4040)]
    [InlineData(0.0f, 0x0000)]
    public void Exact_values_convert_exactly(float value, int expected)
    {
        Assert.Equal((ushort)expected, BFloat16.FromFloat(value));
        Assert.Equal(value, BFloat16.ToFloat((ushort)expected));
        Assert.Equal(value, BFloat16.Round(value));
    }

    [Theory]
    [InlineData(0x3F808000u, 0x3F80)] // exact tie, lower neighbour even -> down
    [InlineData(0x3F818000u, 0x3F82)] // exact tie, upper neighbour even -> up
    [InlineData(0x3F808001u, 0x3F81)] // just above the tie -> up
    [InlineData(0x3F807FFFu, 0x3F80)] // just below the tie -> down
    [InlineData(0xBF818000u, 0xBF82)] // negative tie -> even
    [InlineData(0x7F7FFFFFu, 0x7F80)] // float.MaxValue rounds up to +Inf
    [InlineData(0x00008000u, 0x0000)] // subnormal tie -> even (zero)
    [InlineData(0x00018000u, 0x0002)] // subnormal tie -> even (up)
    public void Rounds_to_nearest_with_ties_to_even(uint bits, int expected) =>
        Assert.Equal((ushort)expected, BFloat16.FromFloat(F(bits)));

    [Fact]
    public void Infinities_keep_their_sign()
    {
        Assert.Equal(0x7F80, BFloat16.FromFloat(float.PositiveInfinity));
        Assert.Equal(0xFF80, BFloat16.FromFloat(float.NegativeInfinity));
        Assert.Equal(float.PositiveInfinity, BFloat16.ToFloat(0x7F80));
        Assert.Equal(float.NegativeInfinity, BFloat16.ToFloat(0xFF80));
    }

    [Fact]
    public void NaN_becomes_quiet_NaN_with_sign()
    {
        // A signalling NaN whose payload sits only in the low 16 bits would truncate to Inf; it must stay NaN.
        Assert.Equal(0x7FC0, BFloat16.FromFloat(F(0x7F800001u)));
        Assert.Equal(0xFFC0, BFloat16.FromFloat(F(0xFF800001u)));
        Assert.Equal(0x7FC0, BFloat16.FromFloat(F(0x7FFFFFFFu)));
        Assert.True(float.IsNaN(BFloat16.ToFloat(BFloat16.FromFloat(float.NaN))));
        Assert.True(float.IsNaN(BFloat16.Round(F(0x7F800001u))));
    }

    [Fact]
    public void Negative_zero_is_preserved()
    {
        Assert.Equal(0x8000, BFloat16.FromFloat(-0.0f));
        float back = BFloat16.ToFloat(0x8000);
        Assert.Equal(0f, back);
        Assert.True(float.IsNegative(back));
    }

    [Fact]
    public void Random_values_round_to_the_nearest_neighbour()
    {
        var rng = new Random(1234);
        for (int i = 0; i < 20_000; i++)
        {
            uint bits = (uint)rng.NextInt64(0, 1L << 32);
            float x = F(bits);
            if (!float.IsFinite(x)) continue;
            ushort lo = (ushort)(bits >> 16);
            ushort got = BFloat16.FromFloat(x);
            uint rest = bits & 0xFFFF;
            ushort expected = rest > 0x8000 || (rest == 0x8000 && (lo & 1) == 1) ? (ushort)(lo + 1) : lo;
            Assert.Equal(expected, got);
            Assert.Equal(BFloat16.ToFloat(got), BFloat16.Round(x));
        }
    }
}
