using System.Text.Json;
using Hrm.Runtime.Formats;

namespace Hrm.Runtime.Arc;

/// <summary>
/// Reads ARC task files (<c>{"train": [{"input": grid, "output": grid}, ...], "test": [...]}</c>, optional
/// "name"; other keys are ignored). Every problem is an <see cref="HrmFormatException"/> naming the file and the
/// field, e.g. <c>train[2].input[3]</c>: invalid JSON, a missing or empty list, a missing grid, ragged rows,
/// colours outside 0..9, grids larger than 30 x 30, and task ids with '_' (view names use it as a separator).
/// Users call <see cref="ArcTask.Load"/> and <see cref="ArcTask.Parse"/>; the dataset builder reads with the
/// split routing of its folder.
/// </summary>
internal static class ArcTaskReader
{
    /// <summary>Reads one task file.</summary>
    /// <param name="path">The .json file.</param>
    /// <param name="isEvaluation">Whether the task's test pairs belong to the test split.</param>
    /// <returns>The task.</returns>
    /// <exception cref="HrmFormatException">The file is malformed.</exception>
    public static ArcTask Read(string path, bool isEvaluation)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes;
        try
        {
            bytes = BoundedFile.ReadAllBytes(path, "ARC task file", BoundedFile.MaxJsonBytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HrmFormatException(path, "file", $"cannot be read ({e.Message})", e);
        }
        return Parse(bytes, path, Path.GetFileNameWithoutExtension(path), isEvaluation);
    }

    /// <summary>Parses task JSON.</summary>
    /// <param name="json">UTF-8 JSON.</param>
    /// <param name="path">The file name for messages.</param>
    /// <param name="defaultId">The id when the JSON has no "name".</param>
    /// <param name="isEvaluation">Whether the task's test pairs belong to the test split.</param>
    /// <returns>The task.</returns>
    /// <exception cref="HrmFormatException">The JSON is malformed.</exception>
    public static ArcTask Parse(ReadOnlySpan<byte> json, string path, string defaultId, bool isEvaluation)
    {
        JsonDocument doc;
        try
        {
            doc = JsonText.Parse(json.ToArray());
        }
        catch (JsonException e)
        {
            throw new HrmFormatException(path, "json", $"is not valid JSON ({e.Message})", e);
        }
        using (doc)
        {
            JsonElement root = doc.RootElement;
            if (JsonText.FirstBadText(root) is { } bad) throw new HrmFormatException(path, bad, JsonText.BadTextMessage);
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new HrmFormatException(path, "json",
                    $"expected an object with \"train\" and \"test\", found {Kind(root)}");
            }
            string id = defaultId;
            if (root.TryGetProperty("name", out JsonElement name))
            {
                id = name.ValueKind == JsonValueKind.String ? name.GetString()!
                    : throw new HrmFormatException(path, "name", $"expected a string, found {Kind(name)}");
            }
            CheckId(path, id);
            return new ArcTask(id, path, isEvaluation, Pairs(root, path, "train"), Pairs(root, path, "test"));
        }
    }

    private static void CheckId(string path, string id)
    {
        if (id.Length == 0 || id.AsSpan().IndexOfAny("_/\\") >= 0 || id.Any(char.IsWhiteSpace))
        {
            throw new HrmFormatException(path, "name",
                $"task id '{id}' must be non-empty without '_', '/', '\\' or spaces ('_' separates a view's " +
                "augmentation in identifiers.json); rename the file");
        }
    }

    private static ArcPair[] Pairs(JsonElement root, string path, string key)
    {
        if (!root.TryGetProperty(key, out JsonElement list))
            throw new HrmFormatException(path, key, "is missing; a task has \"train\" and \"test\" lists of pairs");
        if (list.ValueKind != JsonValueKind.Array)
            throw new HrmFormatException(path, key, $"expected a list of pairs, found {Kind(list)}");
        if (list.GetArrayLength() == 0) throw new HrmFormatException(path, key, "is empty; expected at least one pair");
        var pairs = new ArcPair[list.GetArrayLength()];
        int i = 0;
        foreach (JsonElement pair in list.EnumerateArray())
        {
            string field = $"{key}[{i}]";
            if (pair.ValueKind != JsonValueKind.Object)
            {
                throw new HrmFormatException(path, field,
                    $"expected an object with \"input\" and \"output\", found {Kind(pair)}");
            }
            pairs[i++] = new ArcPair(Grid(pair, path, field, "input"), Grid(pair, path, field, "output"));
        }
        return pairs;
    }

    private static ArcGrid Grid(JsonElement pair, string path, string pairField, string key)
    {
        string field = $"{pairField}.{key}";
        if (!pair.TryGetProperty(key, out JsonElement g)) throw new HrmFormatException(path, field, "is missing");
        if (g.ValueKind != JsonValueKind.Array || g.GetArrayLength() == 0)
            throw new HrmFormatException(path, field, $"expected a non-empty list of rows, found {Kind(g)}");
        int rows = g.GetArrayLength(), cols = -1;
        byte[]? cells = null;
        int r = 0;
        foreach (JsonElement row in g.EnumerateArray())
        {
            string rowField = $"{field}[{r}]";
            if (row.ValueKind != JsonValueKind.Array)
                throw new HrmFormatException(path, rowField, $"expected a list of colours, found {Kind(row)}");
            if (cols < 0)
            {
                cols = row.GetArrayLength();
                if (cols == 0) throw new HrmFormatException(path, rowField, "is empty; a grid is at least 1 x 1");
                if (rows > ArcGrid.MaxSide || cols > ArcGrid.MaxSide)
                {
                    throw new HrmFormatException(path, field,
                        $"is {rows} x {cols}; ARC grids are at most {ArcGrid.MaxSide} x {ArcGrid.MaxSide}");
                }
                cells = new byte[rows * cols];
            }
            else if (row.GetArrayLength() != cols)
            {
                throw new HrmFormatException(path, rowField,
                    $"has {row.GetArrayLength()} cells but row 0 has {cols}; rows must have equal length " +
                    "(ragged grid)");
            }
            int c = 0;
            foreach (JsonElement v in row.EnumerateArray())
            {
                if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int color) || (uint)color > 9)
                {
                    string found = v.ValueKind == JsonValueKind.Number ? v.GetRawText() : Kind(v);
                    throw new HrmFormatException(path, $"{rowField}[{c}]", $"is {found}; colours are integers 0..9");
                }
                cells![r * cols + c++] = (byte)color;
            }
            r++;
        }
        return new ArcGrid(rows, cols, cells!);
    }

    private static string Kind(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Array => "a list",
        JsonValueKind.Object => "an object",
        JsonValueKind.String => $"the string \"{v.GetString()}\"",
        JsonValueKind.Number => $"the number {v.GetRawText()}",
        _ => v.ValueKind.ToString().ToLowerInvariant(),
    };
}
