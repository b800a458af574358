namespace Hrm.Runtime.Formats;

/// <summary>An array read from an <c>.npy</c> file: its header and its raw little-endian element bytes.</summary>
public sealed class NpyArray
{
    private readonly byte[] _data;

    internal NpyArray(string path, NpyHeader header, byte[] data)
    {
        Path = path;
        Header = header;
        _data = data;
    }

    /// <summary>The file the array was read from.</summary>
    public string Path { get; }

    /// <summary>The file's header.</summary>
    public NpyHeader Header { get; }

    /// <summary>The numpy dtype string, e.g. <c>&lt;i4</c>.</summary>
    public string Descr => Header.Descr;

    /// <summary>The dimensions, outermost first; empty for a 0-d array.</summary>
    public long[] Shape => Header.Shape;

    /// <summary>The number of elements (1 for a 0-d array).</summary>
    public long Count => Header.Count;

    /// <summary>The element bytes exactly as stored (little-endian, C order).</summary>
    public ReadOnlySpan<byte> RawData => _data;

    /// <summary>
    /// The elements as int32: '|u1', '&lt;u1', '|i1', '&lt;i4' directly, '&lt;i8' with a range check.
    /// </summary>
    /// <returns>A new array of <see cref="Count"/> elements.</returns>
    /// <exception cref="HrmFormatException">
    /// The dtype is not an integer type, or an int64 value does not fit.
    /// </exception>
    public int[] ToInt32()
    {
        string kind = NpyDescr.Kind(Descr);
        var result = new int[Count];
        switch (kind)
        {
            case "u1":
                for (int i = 0; i < result.Length; i++) result[i] = _data[i];
                return result;
            case "i1":
                for (int i = 0; i < result.Length; i++) result[i] = (sbyte)_data[i];
                return result;
            case "i4" or "i8":
                TensorDType dtype = kind == "i4" ? TensorDType.I32 : TensorDType.I64;
                int bad = LittleEndianConvert.ToInt32(dtype, _data, result, out long value);
                if (bad >= 0)
                {
                    throw new HrmFormatException(Path, "data",
                        $"element {bad} is {value}, outside the int32 range [{int.MinValue}, {int.MaxValue}]");
                }
                return result;
            default:
                throw WrongType(nameof(ToInt32), "'|u1', '<u1', '|i1', '<i4' or '<i8'");
        }
    }

    /// <summary>The elements as float: '&lt;f4' directly, '&lt;f8' rounded to nearest.</summary>
    /// <returns>A new array of <see cref="Count"/> elements.</returns>
    /// <exception cref="HrmFormatException">The dtype is not a floating-point type.</exception>
    public float[] ToFloat32()
    {
        TensorDType dtype = NpyDescr.Kind(Descr) switch
        {
            "f4" => TensorDType.F32,
            "f8" => TensorDType.F64,
            _ => throw WrongType(nameof(ToFloat32), "'<f4' or '<f8'"),
        };
        var result = new float[Count];
        LittleEndianConvert.ToFloat32(dtype, _data, result);
        return result;
    }

    /// <summary>The elements of a '|u1' / '&lt;u1' array as a new byte array.</summary>
    /// <returns>A copy of the data.</returns>
    /// <exception cref="HrmFormatException">The dtype is not uint8.</exception>
    public byte[] ToBytes()
    {
        if (NpyDescr.Kind(Descr) != "u1") throw WrongType(nameof(ToBytes), "'|u1' or '<u1'");
        return (byte[])_data.Clone();
    }

    private HrmFormatException WrongType(string method, string expected) =>
        new(Path, "descr", $"is '{Descr}'; {method} needs {expected}");
}
