using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Hrm.Runtime.Formats;

namespace Hrm.Runtime.Solver;

public sealed partial class TextAlphabet
{
    /// <summary>The file a dataset keeps its alphabet in, next to <c>identifiers.json</c>.</summary>
    public const string FileName = "alphabet.json";

    /// <summary>Reads an alphabet: an <c>alphabet.json</c>, or a dataset directory that holds one.</summary>
    /// <exception cref="HrmFormatException">No such file; invalid JSON; a key missing, of the wrong type or with a bad
    /// value (named).</exception>
    public static TextAlphabet Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string file = Directory.Exists(path) ? Path.Combine(path, FileName) : path;
        if (!File.Exists(file))
        {
            throw new HrmFormatException(file, "file", Directory.Exists(path)
                ? $"is missing: the directory holds no {FileName} (datasets from `hrm data pairs` have one)"
                : "is missing");
        }
        return Parse(BoundedFile.ReadAllText(file, FileName, BoundedFile.MaxJsonBytes), file);
    }

    /// <summary>The alphabet of a checkpoint: <c>alphabet.json</c> in its directory, where <c>hrm train</c> copies the
    /// dataset's.</summary>
    /// <param name="checkpointPath">A checkpoint file or its directory.</param>
    /// <exception cref="HrmFormatException">The checkpoint or the file is absent (the message says where it looked), or
    /// the file is malformed.</exception>
    public static TextAlphabet FindFor(string checkpointPath)
    {
        ArgumentNullException.ThrowIfNull(checkpointPath);
        string dir = Directory.Exists(checkpointPath) ? checkpointPath
            : File.Exists(checkpointPath) ? Path.GetDirectoryName(Path.GetFullPath(checkpointPath))!
            : throw new HrmFormatException(checkpointPath, "checkpoint",
                "does not exist (expected a checkpoint file or directory)");
        string path = Path.Combine(dir, FileName);
        if (!File.Exists(path))
        {
            throw new HrmFormatException(path, FileName,
                $"not found next to checkpoint {checkpointPath} (looked for {path}): hrm train copies the " +
                "alphabet of a dataset from `hrm data pairs` into each checkpoint directory; give --alphabet " +
                "DATA/alphabet.json");
        }
        return Load(path);
    }

    /// <summary>Parses <see cref="ToJson"/>'s text; <paramref name="path"/> names it in errors.</summary>
    /// <exception cref="HrmFormatException">Invalid JSON; a key missing, of the wrong type or with a bad
    /// value.</exception>
    public static TextAlphabet Parse(string json, string path = FileName)
    {
        ArgumentNullException.ThrowIfNull(json);
        using (JsonDocument doc = JsonText.ParseObject(json, path))
        {
            JsonElement root = doc.RootElement;
            Fixed(root, path, "pad_id", PadToken);
            Fixed(root, path, "end_id", EndToken);
            Fixed(root, path, "first_symbol_id", FirstSymbolToken);
            int seqLen = Int(root, path, "seq_len");
            if (seqLen is < 1 or > MaxSeqLen)
                throw new HrmFormatException(path, "seq_len", $"is {seqLen}; expected 1 to {MaxSeqLen}");
            string symbols = ReadSymbols(root, path);
            if (FindSymbolsError(symbols) is { } problem) throw new HrmFormatException(path, "symbols", problem);
            return new TextAlphabet(symbols, seqLen);
        }
    }

    /// <summary>The JSON object: the fixed tokens, the row length and the symbols, one string each.</summary>
    public string ToJson()
    {
        var sb = new StringBuilder("{");
        sb.Append(CultureInfo.InvariantCulture, $"\"pad_id\": {PadToken}, \"end_id\": {EndToken}, ");
        sb.Append(CultureInfo.InvariantCulture, $"\"first_symbol_id\": {FirstSymbolToken}, \"seq_len\": {SeqLen}, ");
        sb.Append("\"symbols\": [");
        for (int i = 0; i < _symbols.Length; i++)
        {
            if (i > 0) sb.Append(", ");
            // ASCII-only JSON: every symbol survives any editor or encoding guess.
            sb.Append('"').Append(JavaScriptEncoder.Default.Encode(_symbols[i].ToString())).Append('"');
        }
        return sb.Append("]}\n").ToString();
    }

    /// <summary>Writes <see cref="ToJson"/> to <paramref name="path"/> (a temporary file, then renamed).</summary>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var file = new AtomicFileWriter(path);
        file.Stream.Write(new UTF8Encoding(false).GetBytes(ToJson()));
        file.Commit();
    }

    private static void Fixed(JsonElement root, string path, string key, int expected)
    {
        int v = Int(root, path, key);
        if (v != expected)
            throw new HrmFormatException(path, key, $"is {v}; this format has {expected} there");
    }

    private static int Int(JsonElement root, string path, string key)
    {
        if (!root.TryGetProperty(key, out JsonElement e)) throw new HrmFormatException(path, key, "is missing");
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out int v))
            throw new HrmFormatException(path, key, $"expected an integer, found {e.ValueKind} {e.GetRawText()}");
        return v;
    }

    private static string ReadSymbols(JsonElement root, string path)
    {
        if (!root.TryGetProperty("symbols", out JsonElement e))
            throw new HrmFormatException(path, "symbols", "is missing");
        if (e.ValueKind != JsonValueKind.Array)
        {
            throw new HrmFormatException(path, "symbols",
                $"expected a list of one-character strings, found {e.ValueKind}");
        }
        var sb = new StringBuilder();
        int i = 0;
        foreach (JsonElement s in e.EnumerateArray())
        {
            string? text = s.ValueKind == JsonValueKind.String ? s.GetString() : null;
            if (text is not { Length: 1 })
            {
                throw new HrmFormatException(path, $"symbols[{i}]",
                    $"expected a one-character string, found {s.ValueKind} {Clip(s.GetRawText())}");
            }
            sb.Append(text[0]);
            if (++i > MaxSymbols) break;  // FindSymbolsError names the count
        }
        return sb.ToString();
    }

    private static string Clip(string raw) => raw.Length <= 40 ? raw : raw[..40] + "...";
}
