using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Hrm.Runtime.Numerics;

namespace Hrm.Runtime.Formats;

/// <summary>Conversions between little-endian element bytes and float/int spans, shared by the file formats.</summary>
internal static class LittleEndianConvert
{
    /// <summary>Decodes <paramref name="dst"/>.Length floating-point elements of <paramref name="dtype"/>.</summary>
    public static void ToFloat32(TensorDType dtype, ReadOnlySpan<byte> src, Span<float> dst)
    {
        switch (dtype)
        {
            case TensorDType.F32:
                MemoryMarshal.Cast<byte, float>(src[..(dst.Length * 4)]).CopyTo(dst);
                if (!BitConverter.IsLittleEndian) ReverseInPlace(dst);
                break;
            case TensorDType.BF16:
                for (int i = 0; i < dst.Length; i++)
                    dst[i] = BFloat16.ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(src[(2 * i)..]));
                break;
            case TensorDType.F16:
                for (int i = 0; i < dst.Length; i++)
                    dst[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(src[(2 * i)..]);
                break;
            case TensorDType.F64:
                for (int i = 0; i < dst.Length; i++)
                    dst[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(src[(8 * i)..]);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "not a floating-point dtype");
        }
    }

    /// <summary>
    /// Decodes <paramref name="dst"/>.Length integer elements of <paramref name="dtype"/> (I32, I64, U8).
    /// Returns the index of the first I64 value outside the int32 range, or -1 when all fit.
    /// </summary>
    public static int ToInt32(TensorDType dtype, ReadOnlySpan<byte> src, Span<int> dst, out long badValue)
    {
        badValue = 0;
        switch (dtype)
        {
            case TensorDType.I32:
                MemoryMarshal.Cast<byte, int>(src[..(dst.Length * 4)]).CopyTo(dst);
                if (!BitConverter.IsLittleEndian) BinaryPrimitives.ReverseEndianness(dst, dst);
                return -1;
            case TensorDType.I64:
                for (int i = 0; i < dst.Length; i++)
                {
                    long v = BinaryPrimitives.ReadInt64LittleEndian(src[(8 * i)..]);
                    if (v is < int.MinValue or > int.MaxValue)
                    {
                        badValue = v;
                        return i;
                    }
                    dst[i] = (int)v;
                }
                return -1;
            case TensorDType.U8:
                for (int i = 0; i < dst.Length; i++) dst[i] = src[i];
                return -1;
            default:
                throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "not an integer dtype");
        }
    }

    /// <summary>Encodes floats as <paramref name="dtype"/> (F32, BF16, F16, F64) into <paramref name="dst"/>.</summary>
    public static void FromFloat32(TensorDType dtype, ReadOnlySpan<float> src, Span<byte> dst)
    {
        switch (dtype)
        {
            case TensorDType.F32:
                if (BitConverter.IsLittleEndian)
                {
                    MemoryMarshal.AsBytes(src).CopyTo(dst);
                    break;
                }
                for (int i = 0; i < src.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(dst[(4 * i)..], src[i]);
                break;
            case TensorDType.BF16:
                for (int i = 0; i < src.Length; i++)
                    BinaryPrimitives.WriteUInt16LittleEndian(dst[(2 * i)..], BFloat16.FromFloat(src[i]));
                break;
            case TensorDType.F16:
                for (int i = 0; i < src.Length; i++)
                    BinaryPrimitives.WriteHalfLittleEndian(dst[(2 * i)..], (Half)src[i]);
                break;
            case TensorDType.F64:
                for (int i = 0; i < src.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(dst[(8 * i)..], src[i]);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "not a floating-point dtype");
        }
    }

    /// <summary>
    /// Encodes ints as <paramref name="dtype"/> (I32, I64, U8) into <paramref name="dst"/>.
    /// Returns the index of the first value outside the U8 range, or -1 when all fit.
    /// </summary>
    public static int FromInt32(TensorDType dtype, ReadOnlySpan<int> src, Span<byte> dst)
    {
        switch (dtype)
        {
            case TensorDType.I32:
                if (BitConverter.IsLittleEndian)
                {
                    MemoryMarshal.AsBytes(src).CopyTo(dst);
                    return -1;
                }
                for (int i = 0; i < src.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(dst[(4 * i)..], src[i]);
                return -1;
            case TensorDType.I64:
                for (int i = 0; i < src.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(dst[(8 * i)..], src[i]);
                return -1;
            case TensorDType.U8:
                for (int i = 0; i < src.Length; i++)
                {
                    if ((uint)src[i] > byte.MaxValue) return i;
                    dst[i] = (byte)src[i];
                }
                return -1;
            default:
                throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "not an integer dtype");
        }
    }

    /// <summary>Byte-swaps floats in place (only needed on big-endian hosts).</summary>
    public static void ReverseInPlace(Span<float> values)
    {
        Span<int> bits = MemoryMarshal.Cast<float, int>(values);
        BinaryPrimitives.ReverseEndianness(bits, bits);
    }
}
