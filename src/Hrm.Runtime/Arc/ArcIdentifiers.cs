using System.Text.Json;
using Hrm.Runtime.Formats;

namespace Hrm.Runtime.Arc;

/// <summary>
/// The puzzle identifiers an ARC model was trained with: a dataset's <c>identifiers.json</c> (a JSON list of names
/// in identifier order, entry 0 "&lt;blank&gt;"), of which <c>hrm train</c> writes a copy into every checkpoint
/// directory. Each other name is an augmented view of a task (<see cref="ArcView.Parse"/>), so this says which
/// tasks the model can solve and with which views and puzzle embeddings. Immutable and thread-safe.
/// </summary>
public sealed class ArcIdentifiers
{
    /// <summary>The file name in dataset and checkpoint directories.</summary>
    public const string FileName = "identifiers.json";

    /// <summary>The name of identifier 0, used by padding rows.</summary>
    public const string Blank = "<blank>";

    private readonly string[] _names;
    private readonly Dictionary<string, (int PuzzleId, ArcView View)[]> _views;
    private readonly string[] _taskIds;

    private ArcIdentifiers(string source, string[] names, string[] taskIds,
        Dictionary<string, (int, ArcView)[]> views)
    {
        Source = source;
        _names = names;
        _taskIds = taskIds;
        _views = views;
    }

    /// <summary>Where the names came from (the file, for messages).</summary>
    public string Source { get; }

    /// <summary>The name of each puzzle identifier (index = identifier).</summary>
    public IReadOnlyList<string> Names => _names;

    /// <summary>Number of identifiers, "&lt;blank&gt;" included (the model's num_puzzle_identifiers).</summary>
    public int Count => _names.Length;

    /// <summary>The ids of the tasks with at least one view, in order of first appearance.</summary>
    public IReadOnlyList<string> TaskIds => _taskIds;

    /// <summary>Reads and validates an identifiers.json.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The identifiers.</returns>
    /// <exception cref="HrmFormatException">The file is missing or unreadable, not a JSON list of strings, entry 0 is
    /// not "&lt;blank&gt;", a name is not an ARC view name or repeats, or there is no view at all; the message names
    /// the file and the entry (<c>identifiers[i]</c>).</exception>
    public static ArcIdentifiers Load(string path) => FromNames(ReadNames(path), path);

    /// <summary>
    /// The identifiers of a checkpoint: <c>identifiers.json</c> in its directory (next to model.safetensors).
    /// </summary>
    /// <param name="checkpointPath">A checkpoint file or its directory.</param>
    /// <returns>The identifiers.</returns>
    /// <exception cref="HrmFormatException">The checkpoint or the file is absent (the message says where it looked),
    /// or the file is malformed (see <see cref="Load"/>).</exception>
    public static ArcIdentifiers FindFor(string checkpointPath)
    {
        ArgumentNullException.ThrowIfNull(checkpointPath);
        string dir;
        if (Directory.Exists(checkpointPath)) dir = checkpointPath;
        else if (File.Exists(checkpointPath)) dir = Path.GetDirectoryName(Path.GetFullPath(checkpointPath))!;
        else
        {
            throw new HrmFormatException(checkpointPath, "checkpoint",
                "does not exist (expected a checkpoint file or directory)");
        }
        string path = Path.Combine(dir, FileName);
        if (!File.Exists(path))
        {
            throw new HrmFormatException(path, FileName,
                $"not found next to checkpoint {checkpointPath} (looked for {path}). ARC solving needs the views and " +
                "puzzle identifiers the model was trained with: hrm train copies the dataset's identifiers.json into " +
                "each checkpoint directory; for an older or converted checkpoint copy DATA/identifiers.json of its " +
                "training dataset there");
        }
        return Load(path);
    }

    /// <summary>Validates names already in memory (e.g. a dataset's, read with <see cref="ReadNames"/>).</summary>
    /// <param name="names">The names in identifier order.</param>
    /// <param name="source">Where they came from, for messages.</param>
    /// <returns>The identifiers.</returns>
    /// <exception cref="HrmFormatException">As in <see cref="Load"/>, naming <paramref name="source"/>.</exception>
    public static ArcIdentifiers FromNames(IReadOnlyList<string> names, string source)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(source);
        if (names.Count == 0 || names[0] != Blank)
        {
            string found = names.Count == 0 ? "an empty list" : $"\"{names[0]}\" first";
            throw new HrmFormatException(source, names.Count == 0 ? "identifiers" : "identifiers[0]",
                $"expected \"{Blank}\" (the padding identifier) first; found {found}");
        }
        if (names.Count == 1)
        {
            throw new HrmFormatException(source, "identifiers",
                $"lists no puzzle besides \"{Blank}\": not the identifiers of an ARC dataset " +
                "(hrm data arc builds one)");
        }
        var first = new Dictionary<string, int>(StringComparer.Ordinal) { [Blank] = 0 };
        var views = new Dictionary<string, List<(int, ArcView)>>(StringComparer.Ordinal);
        var taskIds = new List<string>();
        for (int i = 1; i < names.Count; i++)
        {
            string name = names[i] ??
                throw new HrmFormatException(source, $"identifiers[{i}]", "is null; expected a name");
            if (!first.TryAdd(name, i))
            {
                throw new HrmFormatException(source, $"identifiers[{i}]",
                    $"\"{name}\" repeats identifiers[{first[name]}]");
            }
            if (ArcView.Parse(name) is not (string task, ArcView view))
            {
                throw new HrmFormatException(source, $"identifiers[{i}]",
                    $"\"{name}\" is not an ARC view name; expected \"<task>\" or \"<task>_t<0..7>_<ten digits: a " +
                    "permutation of 0..9 starting with 0>\"");
            }
            if (!views.TryGetValue(task, out List<(int, ArcView)>? list))
            {
                views[task] = list = [];
                taskIds.Add(task);
            }
            list.Add((i, view));
        }
        return new ArcIdentifiers(source, [.. names], [.. taskIds], views.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray(),
            StringComparer.Ordinal));
    }

    /// <summary>
    /// Reads the names of any dataset's identifiers.json without ARC checks (Sudoku and maze datasets list only
    /// "&lt;blank&gt;").
    /// </summary>
    /// <param name="path">The file.</param>
    /// <returns>The names in identifier order.</returns>
    /// <exception cref="HrmFormatException">The file is missing, unreadable or not a JSON list of strings.</exception>
    public static string[] ReadNames(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        JsonDocument doc;
        try
        {
            doc = JsonText.Parse(BoundedFile.ReadAllBytes(path, "identifiers.json", BoundedFile.MaxIdentifiersBytes));
        }
        catch (JsonException e)
        {
            throw new HrmFormatException(path, "json", $"is not valid JSON ({e.Message})", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HrmFormatException(path, "file", $"cannot be read ({e.Message})", e);
        }
        using (doc)
        {
            JsonElement list = doc.RootElement;
            if (JsonText.FirstBadText(list, "identifiers") is { } bad) throw new HrmFormatException(path, bad, JsonText.BadTextMessage);
            if (list.ValueKind != JsonValueKind.Array)
            {
                throw new HrmFormatException(path, "identifiers",
                    $"expected a JSON list of names, found {list.ValueKind}");
            }
            var names = new string[list.GetArrayLength()];
            int i = 0;
            foreach (JsonElement e in list.EnumerateArray())
            {
                if (e.ValueKind != JsonValueKind.String)
                    throw new HrmFormatException(path, $"identifiers[{i}]", $"expected a string, found {e.ValueKind}");
                names[i++] = e.GetString()!;
            }
            return names;
        }
    }

    /// <summary>The views of a task with their puzzle identifiers, in identifier order (empty when none).</summary>
    /// <param name="taskId">The task id.</param>
    /// <returns>(identifier, view) pairs.</returns>
    public IReadOnlyList<(int PuzzleId, ArcView View)> ViewsOf(string taskId)
    {
        ArgumentNullException.ThrowIfNull(taskId);
        return _views.TryGetValue(taskId, out (int, ArcView)[]? v) ? v : [];
    }

    /// <summary>Whether the model was trained on views of <paramref name="taskId"/>.</summary>
    /// <param name="taskId">The task id.</param>
    /// <returns>True when at least one view is listed.</returns>
    public bool Contains(string taskId)
    {
        ArgumentNullException.ThrowIfNull(taskId);
        return _views.ContainsKey(taskId);
    }

    /// <summary>Checks that these identifiers belong to a model with <paramref name="numPuzzleIdentifiers"/>.</summary>
    /// <param name="numPuzzleIdentifiers">The model's num_puzzle_identifiers.</param>
    /// <exception cref="HrmFormatException">The counts differ (identifiers of another dataset).</exception>
    public void CheckMatches(int numPuzzleIdentifiers)
    {
        if (numPuzzleIdentifiers != Count)
        {
            throw new HrmFormatException(Source, "identifiers",
                $"lists {Count} identifiers but the model has {numPuzzleIdentifiers} puzzle embeddings " +
                "(num_puzzle_identifiers): they come from different datasets");
        }
    }
}
