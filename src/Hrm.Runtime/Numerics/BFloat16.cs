namespace Hrm.Runtime.Numerics;

/// <summary>
/// bfloat16 conversions: the upper 16 bits of an IEEE-754 binary32 (1 sign, 8 exponent, 7 mantissa bits),
/// as stored by PyTorch's <c>torch.bfloat16</c>.
/// </summary>
public static class BFloat16
{
    /// <summary>The canonical quiet-NaN bit pattern (positive sign).</summary>
    public const ushort QuietNaN = 0x7FC0;

    /// <summary>
    /// Converts a float to bfloat16 bits with round-to-nearest, ties-to-even. Infinities and zeros keep
    /// their sign; finite values too large for bfloat16 round to infinity; any NaN becomes the quiet NaN
    /// <c>0x7FC0</c> with the input's sign bit.
    /// </summary>
    /// <param name="value">The value to convert.</param>
    /// <returns>The bfloat16 bit pattern.</returns>
    public static ushort FromFloat(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)(((bits >> 16) & 0x8000u) | QuietNaN);
        uint lsb = (bits >> 16) & 1u;
        uint roundingBias = 0x7FFFu + lsb;
        return (ushort)((bits + roundingBias) >> 16);
    }

    /// <summary>Converts bfloat16 bits to the float they represent exactly.</summary>
    /// <param name="bits">The bfloat16 bit pattern.</param>
    /// <returns>The value as a float.</returns>
    public static float ToFloat(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>Rounds a float to the nearest bfloat16 value: <c>ToFloat(FromFloat(value))</c>.</summary>
    /// <param name="value">The value to round.</param>
    /// <returns>The nearest representable bfloat16 value, as a float.</returns>
    public static float Round(float value) => ToFloat(FromFloat(value));
}
