using System.Buffers.Binary;
using System.Text.Json;

namespace Hrm.Bench.Torch;

/// <summary>
/// A small safetensors reader of its own (8-byte little-endian header length, JSON header, raw data), so the twin
/// checks the runtime's writer instead of sharing its reader. F32 and BF16 tensors (H_init, L_init) are read as fp32.
/// </summary>
public static class TwinCheckpoint
{
    /// <summary>Every tensor of the file and its <c>__metadata__</c> entries.</summary>
    public static (List<TwinTensor> Tensors, Dictionary<string, string> Metadata) Read(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        if (file.Length < 8) throw new InvalidDataException($"{path}: shorter than a safetensors header");
        long headerLen = BinaryPrimitives.ReadInt64LittleEndian(file);
        if (headerLen <= 0 || 8 + headerLen > file.Length)
            throw new InvalidDataException($"{path}: header length {headerLen} does not fit the file ({file.Length} bytes)");
        long dataStart = 8 + headerLen;
        using JsonDocument doc = JsonDocument.Parse(file.AsMemory(8, (int)headerLen));
        var tensors = new List<TwinTensor>();
        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (JsonProperty p in doc.RootElement.EnumerateObject())
        {
            if (p.Name == "__metadata__")
            {
                foreach (JsonProperty m in p.Value.EnumerateObject()) meta[m.Name] = m.Value.GetString() ?? "";
                continue;
            }
            string dtype = p.Value.GetProperty("dtype").GetString() ?? "";
            long[] shape = p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            JsonElement offsets = p.Value.GetProperty("data_offsets");
            long begin = offsets[0].GetInt64(), end = offsets[1].GetInt64();
            long count = shape.Aggregate(1L, (a, d) => a * d);
            int size = dtype switch
            {
                "F32" => 4,
                "BF16" => 2,
                _ => throw new InvalidDataException($"{path}: tensor {p.Name} has dtype {dtype}; the twin reads F32 and BF16"),
            };
            if (begin < 0 || end - begin != count * size || dataStart + end > file.Length)
                throw new InvalidDataException($"{path}: tensor {p.Name} [{begin}, {end}) does not match its shape or the file");
            ReadOnlySpan<byte> raw = file.AsSpan((int)(dataStart + begin), (int)(end - begin));
            var values = new float[count];
            for (int i = 0; i < count; i++)
            {
                values[i] = size == 4
                    ? BinaryPrimitives.ReadSingleLittleEndian(raw[(4 * i)..])
                    : BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(raw[(2 * i)..]) << 16);
            }
            tensors.Add(new TwinTensor(p.Name, shape, values));
        }
        return (tensors, meta);
    }
}
