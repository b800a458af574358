using System.Globalization;
using System.Text.Json;
using System.Text.Unicode;

namespace Hrm.Runtime.Formats;

/// <summary>The parsed and validated JSON header of a safetensors file.</summary>
internal sealed class SafeTensorsHeader
{
    /// <summary>The reserved header key holding string metadata.</summary>
    public const string MetadataKey = "__metadata__";

    /// <summary>Largest header accepted (the reference implementation's limit).</summary>
    public const long MaxHeaderBytes = 100L * 1024 * 1024;

    private static readonly string[] EntryKeys = ["dtype", "shape", "data_offsets"];

    private SafeTensorsHeader(List<SafeTensorInfo> tensors, Dictionary<string, string> metadata)
    {
        Tensors = tensors;
        Metadata = metadata;
    }

    /// <summary>Tensors in header order, under their stripped names.</summary>
    public List<SafeTensorInfo> Tensors { get; }

    /// <summary>The <c>__metadata__</c> entries (empty when absent).</summary>
    public Dictionary<string, string> Metadata { get; }

    /// <summary>
    /// Parses and validates <paramref name="json"/> against a data buffer of <paramref name="dataSize"/> bytes.
    /// </summary>
    public static SafeTensorsHeader Parse(string path, ReadOnlyMemory<byte> json, long dataSize)
    {
        if (!Utf8.IsValid(json.Span))
            throw new HrmFormatException(path, "header", "is not valid UTF-8; expected a UTF-8 JSON object");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new HrmFormatException(path, "header", $"is not valid JSON ({e.Message})", e);
        }
        using (doc)
        {
            JsonElement root = doc.RootElement;
            if (JsonText.FirstBadText(root) is { } bad) throw new HrmFormatException(path, "header: " + bad, JsonText.BadTextMessage);
            if (root.ValueKind != JsonValueKind.Object)
                throw new HrmFormatException(path, "header", $"expected a JSON object, found {Describe(root)}");
            var tensors = new List<SafeTensorInfo>();
            var rawByName = new Dictionary<string, string>(StringComparer.Ordinal);
            Dictionary<string, string>? metadata = null;
            foreach (JsonProperty p in root.EnumerateObject())
            {
                if (p.NameEquals(MetadataKey))
                {
                    if (metadata is not null)
                        throw new HrmFormatException(path, MetadataKey, "appears twice in the header");
                    metadata = ParseMetadata(path, p.Value);
                    continue;
                }
                string raw = p.Name;
                string name = SafeTensorsFile.StripCompilePrefix(raw);
                if (!rawByName.TryAdd(name, raw)) throw Duplicate(path, raw, rawByName[name], name);
                tensors.Add(ParseEntry(path, raw, name, p.Value, dataSize));
            }
            CheckOverlaps(path, tensors, rawByName);
            return new SafeTensorsHeader(tensors, metadata ?? new Dictionary<string, string>(StringComparer.Ordinal));
        }
    }

    private static HrmFormatException Duplicate(string path, string raw, string otherRaw, string name) =>
        raw == otherRaw
            ? new HrmFormatException(path, raw, "tensor name appears twice in the header")
            : new HrmFormatException(path, raw,
                $"duplicate tensor name: '{raw}' and '{otherRaw}' are both '{name}' after stripping the " +
                $"torch.compile prefix '{SafeTensorsFile.CompilePrefix}'");

    private static Dictionary<string, string> ParseMetadata(string path, JsonElement v)
    {
        if (v.ValueKind != JsonValueKind.Object)
        {
            throw new HrmFormatException(path, MetadataKey,
                $"expected an object of string values, found {Describe(v)}");
        }
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (JsonProperty p in v.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.String)
            {
                throw new HrmFormatException(path, MetadataKey,
                    $"value of key '{p.Name}' must be a string, found {Describe(p.Value)}");
            }
            if (!result.TryAdd(p.Name, p.Value.GetString()!))
                throw new HrmFormatException(path, MetadataKey, $"key '{p.Name}' appears twice");
        }
        return result;
    }

    private static SafeTensorInfo ParseEntry(string path, string raw, string name, JsonElement v, long dataSize)
    {
        if (v.ValueKind != JsonValueKind.Object)
        {
            throw new HrmFormatException(path, raw,
                $"expected an object with \"dtype\", \"shape\" and \"data_offsets\", found {Describe(v)}");
        }
        var found = new JsonElement?[EntryKeys.Length];
        foreach (JsonProperty p in v.EnumerateObject())
        {
            int k = Array.IndexOf(EntryKeys, p.Name);
            if (k < 0)
            {
                throw new HrmFormatException(path, raw,
                    $"unexpected key \"{p.Name}\"; a tensor entry has only \"dtype\", \"shape\" and \"data_offsets\"");
            }
            if (found[k] is not null) throw new HrmFormatException(path, raw, $"key \"{p.Name}\" appears twice");
            found[k] = p.Value;
        }
        for (int k = 0; k < EntryKeys.Length; k++)
        {
            if (found[k] is null)
                throw new HrmFormatException(path, raw, $"missing \"{EntryKeys[k]}\" in the tensor entry");
        }
        TensorDType dtype = ParseDType(path, raw, found[0]!.Value);
        long[] shape = ParseShape(path, raw, found[1]!.Value);
        (long begin, long end) = ParseOffsets(path, raw, found[2]!.Value);
        if (end > dataSize)
        {
            throw new HrmFormatException(path, raw,
                $"data_offsets end {end} is beyond the data buffer, which has {dataSize} bytes");
        }
        long needed = ByteCount(path, raw, dtype, shape);
        if (end - begin != needed)
        {
            throw new HrmFormatException(path, raw,
                $"data_offsets [{begin}, {end}] span {end - begin} bytes but shape " +
                $"{SafeTensorInfo.FormatShape(shape)} of {TensorDTypes.Name(dtype)} " +
                $"({TensorDTypes.SizeOf(dtype)} bytes each) needs {needed} bytes");
        }
        return new SafeTensorInfo(name, dtype, shape, begin, end);
    }

    private static TensorDType ParseDType(string path, string raw, JsonElement v)
    {
        if (v.ValueKind != JsonValueKind.String)
            throw new HrmFormatException(path, raw, $"\"dtype\" must be a string, found {Describe(v)}");
        string s = v.GetString()!;
        if (!TensorDTypes.TryParse(s, out TensorDType dtype))
        {
            throw new HrmFormatException(path, raw,
                $"unsupported dtype \"{s}\"; supported: {TensorDTypes.SupportedNames}");
        }
        return dtype;
    }

    private static long[] ParseShape(string path, string raw, JsonElement v)
    {
        if (v.ValueKind != JsonValueKind.Array)
            throw new HrmFormatException(path, raw, $"\"shape\" must be an array of integers, found {Describe(v)}");
        var shape = new long[v.GetArrayLength()];
        int i = 0;
        foreach (JsonElement d in v.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long dim))
            {
                throw new HrmFormatException(path, raw,
                    $"\"shape\" dimension {i} must be an integer, found {Describe(d)}");
            }
            if (dim < 0)
                throw new HrmFormatException(path, raw, $"\"shape\" dimension {i} is {dim}; dimensions must be >= 0");
            shape[i++] = dim;
        }
        return shape;
    }

    private static (long Begin, long End) ParseOffsets(string path, string raw, JsonElement v)
    {
        const string Expected = "\"data_offsets\" must be [begin, end] with integers 0 <= begin <= end";
        if (v.ValueKind != JsonValueKind.Array || v.GetArrayLength() != 2)
            throw new HrmFormatException(path, raw, $"{Expected}, found {Describe(v)}");
        JsonElement b = v[0], e = v[1];
        if (b.ValueKind != JsonValueKind.Number || !b.TryGetInt64(out long begin) ||
            e.ValueKind != JsonValueKind.Number || !e.TryGetInt64(out long end))
        {
            throw new HrmFormatException(path, raw, $"{Expected}, found {Describe(v)}");
        }
        if (begin < 0 || end < begin)
            throw new HrmFormatException(path, raw, $"{Expected}, found [{begin}, {end}]");
        return (begin, end);
    }

    /// <summary>Bytes needed by <paramref name="shape"/> of <paramref name="dtype"/> (no 64-bit overflow).</summary>
    private static long ByteCount(string path, string raw, TensorDType dtype, long[] shape)
    {
        if (Array.IndexOf(shape, 0L) >= 0) return 0;
        long count = 1;
        foreach (long d in shape)
        {
            if (count > long.MaxValue / d)
            {
                throw new HrmFormatException(path, raw,
                    $"shape {SafeTensorInfo.FormatShape(shape)} has more elements than a 64-bit count can hold");
            }
            count *= d;
        }
        int size = TensorDTypes.SizeOf(dtype);
        if (count > long.MaxValue / size)
        {
            throw new HrmFormatException(path, raw,
                $"shape {SafeTensorInfo.FormatShape(shape)} of {TensorDTypes.Name(dtype)} needs more bytes than " +
                "a 64-bit size can hold");
        }
        return count * size;
    }

    /// <summary>Rejects any two non-empty tensors whose byte ranges share a byte.</summary>
    private static void CheckOverlaps(string path, List<SafeTensorInfo> tensors, Dictionary<string, string> rawByName)
    {
        var order = tensors.Where(t => t.DataOffsetEnd > t.DataOffsetBegin).ToArray();
        Array.Sort(order, static (x, y) => x.DataOffsetBegin != y.DataOffsetBegin
            ? x.DataOffsetBegin.CompareTo(y.DataOffsetBegin)
            : x.DataOffsetEnd.CompareTo(y.DataOffsetEnd));
        for (int i = 1; i < order.Length; i++)
        {
            SafeTensorInfo prev = order[i - 1], cur = order[i];
            if (cur.DataOffsetBegin < prev.DataOffsetEnd)
            {
                throw new HrmFormatException(path, rawByName[cur.Name],
                    $"data_offsets [{cur.DataOffsetBegin}, {cur.DataOffsetEnd}] overlap tensor " +
                    $"'{rawByName[prev.Name]}' at [{prev.DataOffsetBegin}, {prev.DataOffsetEnd}]");
            }
        }
    }

    /// <summary>A short description of a JSON value for error messages: its kind and (truncated) text.</summary>
    private static string Describe(JsonElement v)
    {
        string text = v.GetRawText();
        if (text.Length > 60) text = string.Concat(text.AsSpan(0, 57), "...");
        return string.Create(CultureInfo.InvariantCulture, $"{v.ValueKind} {text}");
    }
}
