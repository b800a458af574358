using System.Buffers;
using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Hrm.Runtime.Formats;

/// <summary>
/// Builds a safetensors file in memory and saves it atomically. Tensors keep their insertion order, both in
/// the header and in the data buffer; the header is padded with spaces so the data buffer starts at an
/// 8-byte-aligned file offset, as the reference writer does.
/// </summary>
public sealed class SafeTensorsWriter
{
    private readonly List<(string Name, TensorDType DType, long[] Shape, byte[] Data)> _tensors = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, string> _metadata = new(StringComparer.Ordinal);

    /// <summary>The number of tensors added so far.</summary>
    public int Count => _tensors.Count;

    /// <summary>
    /// Adds a floating-point tensor, converting <paramref name="data"/> to <paramref name="dtype"/>: F32 as is,
    /// BF16 and F16 rounded to nearest even (NaN stays a quiet NaN), F64 exactly.
    /// </summary>
    /// <param name="name">A unique, non-empty tensor name other than <c>__metadata__</c>.</param>
    /// <param name="dtype">F32, BF16, F16 or F64.</param>
    /// <param name="shape">Non-negative dimensions whose product is <paramref name="data"/>'s length.</param>
    /// <param name="data">The elements in row-major order.</param>
    /// <exception cref="ArgumentException">Duplicate or invalid name, non-float dtype, or shape mismatch.</exception>
    public void Add(string name, TensorDType dtype, long[] shape, ReadOnlySpan<float> data)
    {
        if (!TensorDTypes.IsFloat(dtype))
        {
            throw new ArgumentException(
                $"tensor '{name}': Add takes F32, BF16, F16 or F64, not {TensorDTypes.Name(dtype)} (use AddInt32)",
                nameof(dtype));
        }
        byte[] bytes = Prepare(name, dtype, shape, data.Length);
        LittleEndianConvert.FromFloat32(dtype, data, bytes);
        Commit(name, dtype, shape, bytes);
    }

    /// <summary>Adds an integer tensor, converting <paramref name="data"/> to I32, I64 or U8.</summary>
    /// <param name="name">A unique, non-empty tensor name other than <c>__metadata__</c>.</param>
    /// <param name="dtype">I32, I64 or U8 (values must then lie in [0, 255]).</param>
    /// <param name="shape">Non-negative dimensions whose product is <paramref name="data"/>'s length.</param>
    /// <param name="data">The elements in row-major order.</param>
    /// <exception cref="ArgumentException">
    /// Duplicate or invalid name, bad dtype, shape mismatch, or value out of range.
    /// </exception>
    public void AddInt32(string name, TensorDType dtype, long[] shape, ReadOnlySpan<int> data)
    {
        if (TensorDTypes.IsFloat(dtype))
        {
            throw new ArgumentException(
                $"tensor '{name}': AddInt32 takes I32, I64 or U8, not {TensorDTypes.Name(dtype)} (use Add)",
                nameof(dtype));
        }
        byte[] bytes = Prepare(name, dtype, shape, data.Length);
        int bad = LittleEndianConvert.FromInt32(dtype, data, bytes);
        if (bad >= 0)
        {
            throw new ArgumentException(
                $"tensor '{name}': element {bad} is {data[bad]}, outside U8's range [0, 255]", nameof(data));
        }
        Commit(name, dtype, shape, bytes);
    }

    /// <summary>Adds a tensor from bytes already in the file's encoding (little-endian elements).</summary>
    /// <param name="name">A unique, non-empty tensor name other than <c>__metadata__</c>.</param>
    /// <param name="dtype">The element type the bytes encode.</param>
    /// <param name="shape">
    /// Non-negative dimensions; their product times the element size must be the byte count.
    /// </param>
    /// <param name="data">The encoded elements.</param>
    /// <exception cref="ArgumentException">Duplicate or invalid name, or size mismatch.</exception>
    public void AddRaw(string name, TensorDType dtype, long[] shape, ReadOnlySpan<byte> data)
    {
        int size = TensorDTypes.SizeOf(dtype);
        if (data.Length % size != 0)
        {
            throw new ArgumentException(
                $"tensor '{name}': {data.Length} bytes is not a whole number of {TensorDTypes.Name(dtype)} elements",
                nameof(data));
        }
        byte[] bytes = Prepare(name, dtype, shape, data.Length / size);
        data.CopyTo(bytes);
        Commit(name, dtype, shape, bytes);
    }

    /// <summary>Sets (or replaces) one <c>__metadata__</c> entry.</summary>
    /// <param name="key">The metadata key.</param>
    /// <param name="value">The metadata value.</param>
    public void SetMetadata(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        _metadata[key] = value;
    }

    /// <summary>
    /// Writes the file atomically (<c>AtomicFileWriter</c>): to a temporary file in the same directory, flushed to
    /// disk, then renamed over <paramref name="path"/>. On failure the temporary file is deleted and any existing file
    /// is untouched.
    /// </summary>
    /// <param name="path">The destination file.</param>
    public void Save(string path)
    {
        byte[] header = BuildHeader();
        using var file = new AtomicFileWriter(path);
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
        file.Stream.Write(prefix);
        file.Stream.Write(header);
        foreach ((_, _, _, byte[] data) in _tensors) file.Stream.Write(data);
        file.Commit();
    }

    private byte[] BuildHeader()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var options = new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        using (var w = new Utf8JsonWriter(buffer, options))
        {
            w.WriteStartObject();
            if (_metadata.Count > 0)
            {
                w.WriteStartObject(SafeTensorsHeader.MetadataKey);
                foreach (KeyValuePair<string, string> kv in _metadata) w.WriteString(kv.Key, kv.Value);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach ((string name, TensorDType dtype, long[] shape, byte[] data) in _tensors)
            {
                w.WriteStartObject(name);
                w.WriteString("dtype", TensorDTypes.Name(dtype));
                w.WriteStartArray("shape");
                foreach (long d in shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + data.Length);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += data.Length;
            }
            w.WriteEndObject();
        }
        int padded = (buffer.WrittenCount + 7) & ~7;
        byte[] header = new byte[padded];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return header;
    }

    private byte[] Prepare(string name, TensorDType dtype, long[] shape, int elementCount)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(shape);
        if (name == SafeTensorsHeader.MetadataKey)
        {
            throw new ArgumentException(
                $"'{SafeTensorsHeader.MetadataKey}' is reserved and cannot name a tensor", nameof(name));
        }
        if (_names.Contains(name)) throw new ArgumentException($"tensor '{name}' was already added", nameof(name));
        long count = 1;
        foreach (long d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException(
                    $"tensor '{name}': shape {SafeTensorInfo.FormatShape(shape)} has a negative dimension",
                    nameof(shape));
            }
            count = d == 0 || count == 0 ? 0 : count > elementCount / d ? long.MaxValue : count * d;
        }
        if (count != elementCount)
        {
            throw new ArgumentException(
                $"tensor '{name}': shape {SafeTensorInfo.FormatShape(shape)} does not hold {elementCount} elements",
                nameof(shape));
        }
        long bytes = (long)elementCount * TensorDTypes.SizeOf(dtype);
        if (bytes > Array.MaxLength)
        {
            throw new ArgumentException(
                $"tensor '{name}': {bytes} bytes is more than one array can hold", nameof(shape));
        }
        return new byte[bytes];
    }

    private void Commit(string name, TensorDType dtype, long[] shape, byte[] bytes)
    {
        _names.Add(name);
        _tensors.Add((name, dtype, (long[])shape.Clone(), bytes));
    }
}
