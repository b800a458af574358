using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Unicode;
using Microsoft.Win32.SafeHandles;

namespace Hrm.Runtime.Formats;

/// <summary>
/// Reads and writes numpy <c>.npy</c> files: C order, little-endian (or byte-order-less) dtypes
/// '|u1', '&lt;u1', '|i1', '&lt;i4', '&lt;i8', '&lt;f4', '&lt;f8'. Reads format versions 1.0, 2.0 and 3.0;
/// writes 1.0 (2.0 only when the header would not fit), byte-for-byte like <c>numpy.save</c>.
/// </summary>
public static class Npy
{
    /// <summary>Header sizes above this are rejected as corrupt.</summary>
    public const int MaxHeaderBytes = 1 << 20;

    private const int Alignment = 64;
    private const int GrowthAxisMaxDigits = 21;

    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Reads and validates the header of <paramref name="path"/> without loading the data.</summary>
    /// <param name="path">The .npy file.</param>
    /// <returns>
    /// The header; the data is <see cref="NpyHeader.DataLength"/> bytes at <see cref="NpyHeader.DataOffset"/>.
    /// </returns>
    /// <exception cref="HrmFormatException">Bad magic, truncated or unparseable header, unsupported dtype or
    /// order, or a data size that does not match the shape.</exception>
    public static NpyHeader ReadHeader(string path)
    {
        using SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return ReadHeader(path, handle, RandomAccess.GetLength(handle));
    }

    /// <summary>Reads a whole .npy file.</summary>
    /// <param name="path">The .npy file.</param>
    /// <returns>The array; convert it with <see cref="NpyArray.ToInt32"/>, <see cref="NpyArray.ToFloat32"/>
    /// or <see cref="NpyArray.ToBytes"/>.</returns>
    /// <exception cref="HrmFormatException">As for <see cref="ReadHeader(string)"/>.</exception>
    public static NpyArray Read(string path)
    {
        using SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read,
            FileOptions.SequentialScan);
        NpyHeader header = ReadHeader(path, handle, RandomAccess.GetLength(handle));
        if (header.DataLength > Array.MaxLength)
        {
            throw new HrmFormatException(path, "data",
                $"is {header.DataLength} bytes, more than one array can hold ({Array.MaxLength}); use ReadHeader " +
                "and map the file instead");
        }
        byte[] data = new byte[header.DataLength];
        FileReads.ReadExactly(handle, data, header.DataOffset, path, "data");
        return new NpyArray(path, header, data);
    }

    /// <summary>Writes a '|u1' array atomically (temporary file, flush, rename).</summary>
    /// <param name="path">The destination file.</param>
    /// <param name="data">The elements in C order.</param>
    /// <param name="shape">Non-negative dimensions whose product is <paramref name="data"/>'s length.</param>
    /// <exception cref="ArgumentException">The shape does not match the data.</exception>
    public static void WriteUInt8(string path, ReadOnlySpan<byte> data, long[] shape) =>
        Write(path, "|u1", shape, data.Length, data);

    /// <summary>Writes a '&lt;i4' array atomically (temporary file, flush, rename).</summary>
    /// <param name="path">The destination file.</param>
    /// <param name="data">The elements in C order.</param>
    /// <param name="shape">Non-negative dimensions whose product is <paramref name="data"/>'s length.</param>
    /// <exception cref="ArgumentException">The shape does not match the data.</exception>
    public static void WriteInt32(string path, ReadOnlySpan<int> data, long[] shape)
    {
        if (BitConverter.IsLittleEndian)
        {
            Write(path, "<i4", shape, data.Length, MemoryMarshal.AsBytes(data));
            return;
        }
        byte[] bytes = new byte[data.Length * 4L];
        LittleEndianConvert.FromInt32(TensorDType.I32, data, bytes);
        Write(path, "<i4", shape, data.Length, bytes);
    }

    /// <summary>Writes a '&lt;f4' array atomically (temporary file, flush, rename).</summary>
    /// <param name="path">The destination file.</param>
    /// <param name="data">The elements in C order.</param>
    /// <param name="shape">Non-negative dimensions whose product is <paramref name="data"/>'s length.</param>
    /// <exception cref="ArgumentException">The shape does not match the data.</exception>
    public static void WriteFloat32(string path, ReadOnlySpan<float> data, long[] shape)
    {
        if (BitConverter.IsLittleEndian)
        {
            Write(path, "<f4", shape, data.Length, MemoryMarshal.AsBytes(data));
            return;
        }
        byte[] bytes = new byte[data.Length * 4L];
        LittleEndianConvert.FromFloat32(TensorDType.F32, data, bytes);
        Write(path, "<f4", shape, data.Length, bytes);
    }

    /// <summary>Formats a shape as Python prints a tuple: <c>()</c>, <c>(3,)</c>, <c>(2, 81)</c>.</summary>
    /// <param name="shape">The dimensions.</param>
    /// <returns>The tuple text.</returns>
    public static string FormatShape(ReadOnlySpan<long> shape)
    {
        var sb = new StringBuilder("(");
        for (int i = 0; i < shape.Length; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(shape[i].ToString(CultureInfo.InvariantCulture));
        }
        if (shape.Length == 1) sb.Append(',');
        return sb.Append(')').ToString();
    }

    /// <summary>
    /// The complete header (magic, version, length, padded dict, '\n') that <c>numpy.save</c> writes for a
    /// C-order array: version 1.0 unless the header needs 2.0, total length a multiple of 64.
    /// </summary>
    /// <param name="descr">The dtype string, e.g. <c>&lt;i4</c>.</param>
    /// <param name="shape">The dimensions.</param>
    /// <returns>The header bytes.</returns>
    /// <exception cref="ArgumentException"><paramref name="descr"/> is not a supported dtype string.</exception>
    public static byte[] BuildHeader(string descr, ReadOnlySpan<long> shape)
    {
        if (!NpyDescr.IsSupported(descr))
            throw new ArgumentException($"unsupported dtype '{descr}'; supported: {NpyDescr.Supported}", nameof(descr));
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {FormatShape(shape)}, }}";
        if (shape.Length > 0)
        {
            // numpy leaves room to grow the first axis in place when appending.
            int digits = shape[0].ToString(CultureInfo.InvariantCulture).Length;
            dict += new string(' ', Math.Max(0, GrowthAxisMaxDigits - digits));
        }
        int hlen = dict.Length + 1;
        int major = 1, prefix = 10;
        int pad = Alignment - ((prefix + hlen) % Alignment);
        if (hlen + pad > ushort.MaxValue)
        {
            major = 2;
            prefix = 12;
            pad = Alignment - ((prefix + hlen) % Alignment);
        }
        byte[] header = new byte[prefix + hlen + pad];
        Magic.CopyTo(header);
        header[6] = (byte)major;
        header[7] = 0;
        if (major == 1) BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(8), (ushort)(hlen + pad));
        else BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), (uint)(hlen + pad));
        Encoding.ASCII.GetBytes(dict, header.AsSpan(prefix));
        header.AsSpan(prefix + dict.Length, pad).Fill((byte)' ');
        header[^1] = (byte)'\n';
        return header;
    }

    private static void Write(string path, string descr, long[] shape, int count, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(shape);
        long product = 1;
        foreach (long d in shape)
        {
            if (d < 0)
                throw new ArgumentException($"shape {FormatShape(shape)} has a negative dimension", nameof(shape));
            product = d == 0 || product == 0 ? 0 : product > count / d ? long.MaxValue : product * d;
        }
        if (product != count)
        {
            throw new ArgumentException(
                $"shape {FormatShape(shape)} does not hold {count} elements (writing {path})", nameof(shape));
        }
        byte[] header = BuildHeader(descr, shape);
        using var file = new AtomicFileWriter(path);
        file.Stream.Write(header);
        file.Stream.Write(data);
        file.Commit();
    }

    private static NpyHeader ReadHeader(string path, SafeFileHandle handle, long length)
    {
        Span<byte> prefix = stackalloc byte[12];
        if (length < 10)
        {
            throw new HrmFormatException(path, "magic",
                $"file is {length} bytes; an .npy file starts with 10 bytes (\\x93NUMPY, version, header length)");
        }
        FileReads.ReadExactly(handle, prefix[..10], 0, path, "magic");
        if (!prefix[..6].SequenceEqual(Magic))
        {
            throw new HrmFormatException(path, "magic",
                $"expected the bytes 93 4E 55 4D 50 59 (\\x93NUMPY), found {Convert.ToHexString(prefix[..6])} " +
                "(not an .npy file)");
        }
        (int major, int minor) = (prefix[6], prefix[7]);
        long headerLength;
        int prefixLength;
        if (major == 1 && minor == 0)
        {
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(prefix[8..]);
            prefixLength = 10;
        }
        else if (major is 2 or 3 && minor == 0)
        {
            if (length < 12)
                throw new HrmFormatException(path, "header", $"file is {length} bytes; version {major}.0 needs 12");
            FileReads.ReadExactly(handle, prefix[10..12], 10, path, "header");
            headerLength = BinaryPrimitives.ReadUInt32LittleEndian(prefix[8..]);
            prefixLength = 12;
        }
        else
        {
            throw new HrmFormatException(path, "version",
                $"format version {major}.{minor} is unsupported; expected 1.0, 2.0 or 3.0");
        }
        return ReadDict(path, handle, length, major, prefixLength, headerLength);
    }

    private static NpyHeader ReadDict(string path, SafeFileHandle handle, long length, int major,
        int prefixLength, long headerLength)
    {
        if (headerLength > MaxHeaderBytes)
        {
            throw new HrmFormatException(path, "header",
                $"length {headerLength} exceeds the {MaxHeaderBytes}-byte limit");
        }
        if (prefixLength + headerLength > length)
        {
            throw new HrmFormatException(path, "header",
                $"is {headerLength} bytes but only {length - prefixLength} follow the prefix (file truncated)");
        }
        byte[] raw = new byte[headerLength];
        FileReads.ReadExactly(handle, raw, prefixLength, path, "header");
        if (major == 3 && !Utf8.IsValid(raw))
            throw new HrmFormatException(path, "header", "is not valid UTF-8 (required by format version 3.0)");
        string text = major == 3 ? Encoding.UTF8.GetString(raw) : Encoding.Latin1.GetString(raw);
        (string descr, bool fortran, long[] shape) = NpyHeaderParser.Parse(path, text);
        NpyDescr.Validate(path, descr);
        if (fortran)
        {
            throw new HrmFormatException(path, "fortran_order",
                "is True; only C-order arrays are supported (save np.ascontiguousarray(arr) instead)");
        }
        var header = new NpyHeader(major, 0, descr, shape, prefixLength + headerLength);
        CheckDataLength(path, header, length);
        return header;
    }

    private static void CheckDataLength(string path, NpyHeader header, long fileLength)
    {
        long count = 1;
        if (Array.IndexOf(header.Shape, 0L) >= 0) count = 0;
        foreach (long d in header.Shape)
        {
            if (count == 0) break;
            if (count > long.MaxValue / d / header.ItemSize)
            {
                throw new HrmFormatException(path, "shape",
                    $"{FormatShape(header.Shape)} has more bytes than a 64-bit size can hold");
            }
            count *= d;
        }
        long expected = count * header.ItemSize;
        long actual = fileLength - header.DataOffset;
        if (actual != expected)
        {
            string problem = actual < expected ? "is truncated" : $"has {actual - expected} extra bytes at the end";
            throw new HrmFormatException(path, "data",
                $"{problem}: shape {FormatShape(header.Shape)} of '{header.Descr}' needs {expected} bytes, " +
                $"found {actual} after the {header.DataOffset}-byte header");
        }
    }
}
