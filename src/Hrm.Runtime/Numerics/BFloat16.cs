namespace Hrm.Runtime.Numerics;

/// <summary>bfloat16 conversions: round to nearest even; NaN stays a quiet NaN with its sign.</summary>
public static class BFloat16
{
    /// <summary>The bf16 bit pattern nearest to <paramref name="value"/>.</summary>
    public static ushort FromFloat(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x0040);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    /// <summary>The float value of a bf16 bit pattern (exact).</summary>
    public static float ToFloat(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>Rounds a float to the nearest bf16 value.</summary>
    public static float Round(float value) => ToFloat(FromFloat(value));
}
