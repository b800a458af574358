using System.Text.Json;
using Hrm.Runtime.Formats;

namespace Hrm.Train.Data;

/// <summary><c>root/identifiers.json</c>: the name of each puzzle identifier (index 0 = "&lt;blank&gt;").</summary>
public static class DatasetIdentifiers
{
    /// <summary>The name of identifier 0, used by padding rows.</summary>
    public const string Blank = "<blank>";

    /// <summary>Reads the identifier names of the dataset at <paramref name="root"/>.</summary>
    /// <param name="root">The dataset directory.</param>
    /// <returns>The names, or null when the file does not exist (only ARC needs names).</returns>
    /// <exception cref="HrmFormatException">The file is not a JSON list of strings.</exception>
    public static string[]? Read(string root)
    {
        ArgumentNullException.ThrowIfNull(root);
        string path = Path.Combine(root, DatasetLayout.IdentifiersFile);
        if (!File.Exists(path)) return null;
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new HrmFormatException(path, "json", $"is not valid JSON ({e.Message})", e);
        }
        using (doc)
        {
            JsonElement root0 = doc.RootElement;
            if (root0.ValueKind != JsonValueKind.Array)
            {
                throw new HrmFormatException(path, "identifiers",
                    $"expected a JSON list of names, found {root0.ValueKind}");
            }
            var names = new string[root0.GetArrayLength()];
            int i = 0;
            foreach (JsonElement e in root0.EnumerateArray())
            {
                if (e.ValueKind != JsonValueKind.String)
                    throw new HrmFormatException(path, $"identifiers[{i}]", $"expected a string, found {e.ValueKind}");
                names[i++] = e.GetString()!;
            }
            return names;
        }
    }
}
