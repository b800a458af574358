using System.Globalization;
using System.Text;
using System.Text.Json;
using Hrm.Runtime.Formats;

namespace Hrm.Train.Data;

/// <summary>
/// A split's <c>dataset.json</c> (spec 5.1), with the reference's keys: pad_id, ignore_label_id,
/// blank_identifier_id, vocab_size, seq_len, num_puzzle_identifiers, total_groups, mean_puzzle_examples,
/// sets. Reading is strict about the keys we use (present, right type, sane values) and ignores unknown keys.
/// </summary>
/// <param name="PadId">Input token of padding rows.</param>
/// <param name="IgnoreLabelId">Label value mapped to -100, or null (JSON null) for none.</param>
/// <param name="BlankIdentifierId">Puzzle identifier of padding rows.</param>
/// <param name="VocabSize">Tokens in the vocabulary; every input and label is below it.</param>
/// <param name="SeqLen">Tokens per example.</param>
/// <param name="NumPuzzleIdentifiers">Rows of the puzzle-embedding table (blank included).</param>
/// <param name="TotalGroups">Number of groups (base puzzles) in the split.</param>
/// <param name="MeanPuzzleExamples">Examples per puzzle, on average.</param>
/// <param name="Sets">Subset names (always ["all"] in the reference).</param>
public sealed record DatasetMetadata(int PadId, int? IgnoreLabelId, int BlankIdentifierId, int VocabSize, int SeqLen,
    int NumPuzzleIdentifiers, int TotalGroups, double MeanPuzzleExamples, string[] Sets)
{
    /// <summary>The file name inside a split directory.</summary>
    public const string FileName = "dataset.json";

    /// <summary>The keys read and written, in the reference's order.</summary>
    public static readonly IReadOnlyList<string> Keys =
    [
        "pad_id", "ignore_label_id", "blank_identifier_id", "vocab_size", "seq_len", "num_puzzle_identifiers",
        "total_groups", "mean_puzzle_examples", "sets",
    ];

    /// <summary>Reads and validates a <c>dataset.json</c> file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The metadata.</returns>
    /// <exception cref="HrmFormatException">
    /// Missing file, invalid JSON, missing key, wrong type or bad value.
    /// </exception>
    public static DatasetMetadata Read(string path)
    {
        if (!File.Exists(path)) throw new HrmFormatException(path, "file", "is missing");
        return Parse(BoundedFile.ReadAllText(path, FileName, BoundedFile.MaxJsonBytes), path);
    }

    /// <summary>Parses and validates <c>dataset.json</c> text.</summary>
    /// <param name="json">The JSON object.</param>
    /// <param name="path">The file name for error messages.</param>
    /// <returns>The metadata.</returns>
    /// <exception cref="HrmFormatException">Invalid JSON, missing key, wrong type or bad value.</exception>
    public static DatasetMetadata Parse(string json, string path = FileName)
    {
        ArgumentNullException.ThrowIfNull(json);
        using (JsonDocument doc = JsonText.ParseObject(json, path))
        {
            JsonElement root = doc.RootElement;
            var meta = new DatasetMetadata(
                Int(root, path, "pad_id"), NullableInt(root, path, "ignore_label_id"),
                Int(root, path, "blank_identifier_id"), Int(root, path, "vocab_size"), Int(root, path, "seq_len"),
                Int(root, path, "num_puzzle_identifiers"), Int(root, path, "total_groups"),
                Number(root, path, "mean_puzzle_examples"), Strings(root, path, "sets"));
            string? problem = meta.Check(out string field);
            if (problem is not null) throw new HrmFormatException(path, field, problem);
            return meta;
        }
    }

    /// <summary>The JSON text exactly as the reference's builders write it (<c>json.dump</c> of the pydantic model:
    /// one line, its key order, the mean as a Python float; see <see cref="PythonJson"/>).</summary>
    /// <returns>The JSON object.</returns>
    public string ToJson()
    {
        var sb = new StringBuilder("{");
        sb.Append("\"pad_id\": ").Append(PadId.ToString(CultureInfo.InvariantCulture));
        sb.Append(", \"ignore_label_id\": ").Append(IgnoreLabelId is int ignore
            ? ignore.ToString(CultureInfo.InvariantCulture) : "null");
        sb.Append(", \"blank_identifier_id\": ").Append(BlankIdentifierId.ToString(CultureInfo.InvariantCulture));
        sb.Append(", \"vocab_size\": ").Append(VocabSize.ToString(CultureInfo.InvariantCulture));
        sb.Append(", \"seq_len\": ").Append(SeqLen.ToString(CultureInfo.InvariantCulture));
        sb.Append(", \"num_puzzle_identifiers\": ").Append(NumPuzzleIdentifiers.ToString(CultureInfo.InvariantCulture));
        sb.Append(", \"total_groups\": ").Append(TotalGroups.ToString(CultureInfo.InvariantCulture));
        PythonJson.Float(sb.Append(", \"mean_puzzle_examples\": "), MeanPuzzleExamples);
        sb.Append(", \"sets\": ").Append(PythonJson.StringList(Sets));
        return sb.Append('}').ToString();
    }

    /// <summary>Value equality, comparing <see cref="Sets"/> element by element.</summary>
    /// <param name="other">The other metadata.</param>
    /// <returns>True when every field is equal.</returns>
    public bool Equals(DatasetMetadata? other) =>
        other is not null && PadId == other.PadId && IgnoreLabelId == other.IgnoreLabelId &&
        BlankIdentifierId == other.BlankIdentifierId && VocabSize == other.VocabSize && SeqLen == other.SeqLen &&
        NumPuzzleIdentifiers == other.NumPuzzleIdentifiers && TotalGroups == other.TotalGroups &&
        MeanPuzzleExamples.Equals(other.MeanPuzzleExamples) && Sets.AsSpan().SequenceEqual(other.Sets);

    /// <summary>A hash consistent with <see cref="Equals(DatasetMetadata)"/>.</summary>
    /// <returns>The hash.</returns>
    public override int GetHashCode() =>
        HashCode.Combine(PadId, IgnoreLabelId, BlankIdentifierId, VocabSize, SeqLen, NumPuzzleIdentifiers, TotalGroups,
            Sets.Length);

    /// <summary>The first invalid value (and its key), or null.</summary>
    internal string? Check(out string field)
    {
        (field, string? problem) = this switch
        {
            { VocabSize: < 1 } => ("vocab_size", $"is {VocabSize}; must be at least 1"),
            { SeqLen: < 1 } => ("seq_len", $"is {SeqLen}; must be at least 1"),
            { NumPuzzleIdentifiers: < 1 } =>
                ("num_puzzle_identifiers", $"is {NumPuzzleIdentifiers}; must be at least 1"),
            { TotalGroups: < 0 } => ("total_groups", $"is {TotalGroups}; must not be negative"),
            _ when PadId < 0 || PadId >= VocabSize => ("pad_id", $"is {PadId}; must be in [0, vocab_size={VocabSize})"),
            _ when BlankIdentifierId < 0 || BlankIdentifierId >= NumPuzzleIdentifiers =>
                ("blank_identifier_id",
                    $"is {BlankIdentifierId}; must be in [0, num_puzzle_identifiers={NumPuzzleIdentifiers})"),
            _ when !double.IsFinite(MeanPuzzleExamples) || MeanPuzzleExamples < 0 =>
                ("mean_puzzle_examples", $"is {MeanPuzzleExamples}; must be a finite number >= 0"),
            _ when Sets is null || Sets.Length == 0 =>
                ("sets", "is empty; expected a list of subset names such as [\"all\"]"),
            _ when Array.Exists(Sets, s => string.IsNullOrEmpty(s) || s.Contains('/', StringComparison.Ordinal)) =>
                ("sets", "holds an empty name or one with '/'"),
            _ => ("", null),
        };
        return problem;
    }

    private static JsonElement Get(JsonElement root, string path, string key)
    {
        if (!root.TryGetProperty(key, out JsonElement v))
            throw new HrmFormatException(path, key, $"is missing (required keys: {string.Join(", ", Keys)})");
        return v;
    }

    private static int Int(JsonElement root, string path, string key)
    {
        JsonElement v = Get(root, path, key);
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i)) return i;
        throw new HrmFormatException(path, key, $"expected an integer, found {Describe(v)}");
    }

    private static int? NullableInt(JsonElement root, string path, string key)
    {
        JsonElement v = Get(root, path, key);
        if (v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i)) return i;
        throw new HrmFormatException(path, key, $"expected an integer or null, found {Describe(v)}");
    }

    private static double Number(JsonElement root, string path, string key)
    {
        JsonElement v = Get(root, path, key);
        if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double d)) return d;
        throw new HrmFormatException(path, key, $"expected a number, found {Describe(v)}");
    }

    private static string[] Strings(JsonElement root, string path, string key)
    {
        JsonElement v = Get(root, path, key);
        if (v.ValueKind != JsonValueKind.Array)
            throw new HrmFormatException(path, key, $"expected a list of strings, found {Describe(v)}");
        var result = new string[v.GetArrayLength()];
        int k = 0;
        foreach (JsonElement e in v.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.String)
                throw new HrmFormatException(path, key, $"element {k}: expected a string, found {Describe(e)}");
            result[k++] = e.GetString()!;
        }
        return result;
    }

    private static string Describe(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{v.GetString()}\"",
        JsonValueKind.Number => $"the number {v.GetRawText()}",
        _ => v.ValueKind.ToString().ToLowerInvariant(),
    };
}
