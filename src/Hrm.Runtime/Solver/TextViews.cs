using Hrm.Runtime.Arc;
using Hrm.Runtime.Formats;

namespace Hrm.Runtime.Solver;

/// <summary>
/// The groups a model of a task of your own was trained on (<c>hrm data pairs --puzzle-ids</c>) and the views of each
/// (<see cref="TextView"/>; with <c>--relabel</c>, several), from the names in <c>identifiers.json</c>: a name
/// <c>GROUP|FROM&gt;TO</c> whose GROUP is another name and whose FROM&gt;TO is a relabelling is a view of GROUP; every
/// other name (but "&lt;blank&gt;") is a group, its own original view. Immutable and thread-safe.
/// </summary>
public sealed class TextViews
{
    private readonly Dictionary<string, TextView[]> _groups;
    private readonly Dictionary<int, string> _groupOf;

    private TextViews(Dictionary<string, TextView[]> groups, Dictionary<int, string> groupOf, int viewCount)
    {
        _groups = groups;
        _groupOf = groupOf;
        ViewCount = viewCount;
    }

    /// <summary>Number of groups.</summary>
    public int Count => _groups.Count;

    /// <summary>The most views any group has (1: no relabelled views, nothing to vote over).</summary>
    public int ViewCount { get; }

    /// <summary>The views of <paramref name="group"/>, its original first, then in identifier order; null when
    /// it is not a group of the model.</summary>
    public IReadOnlyList<TextView>? Of(string group) =>
        _groups.TryGetValue(group ?? throw new ArgumentNullException(nameof(group)), out TextView[]? v) ? v : null;

    /// <summary>The group whose original view has <paramref name="puzzleIdentifier"/>, or null (another view's
    /// identifier, or none).</summary>
    public string? GroupOf(int puzzleIdentifier) => _groupOf.GetValueOrDefault(puzzleIdentifier);

    /// <summary>The views of a checkpoint (file or folder): the <c>identifiers.json</c> beside it, or null when there
    /// is none (a model trained without <c>--puzzle-ids</c> may have none).</summary>
    /// <exception cref="HrmFormatException">The file is not a list of names (see <see cref="FromNames"/>).</exception>
    public static TextViews? FindFor(string checkpointPath)
    {
        ArgumentNullException.ThrowIfNull(checkpointPath);
        string dir = Directory.Exists(checkpointPath) ? checkpointPath
            : Path.GetDirectoryName(Path.GetFullPath(checkpointPath))!;
        string path = Path.Combine(dir, ArcIdentifiers.FileName);
        return File.Exists(path) ? FromNames(ArcIdentifiers.ReadNames(path), path) : null;
    }

    /// <summary>The views that <paramref name="names"/> (identifier order, entry 0 "&lt;blank&gt;") describe.</summary>
    /// <exception cref="HrmFormatException">Entry 0 is not "&lt;blank&gt;", or a name repeats (both named with
    /// <paramref name="source"/>).</exception>
    public static TextViews FromNames(IReadOnlyList<string> names, string source)
    {
        ArgumentNullException.ThrowIfNull(names);
        if (names.Count == 0 || names[0] != ArcIdentifiers.Blank)
            throw new HrmFormatException(source, "identifiers[0]", $"is not \"{ArcIdentifiers.Blank}\"");
        var index = new Dictionary<string, int>(names.Count, StringComparer.Ordinal);
        for (int i = 1; i < names.Count; i++)
        {
            if (!index.TryAdd(names[i], i))
            {
                throw new HrmFormatException(source, $"identifiers[{i}]",
                    $"repeats '{names[i]}' (identifiers[{index[names[i]]}])");
            }
        }
        var views = new Dictionary<string, List<TextView>>(StringComparer.Ordinal);
        var groupOf = new Dictionary<int, string>();
        for (int i = 1; i < names.Count; i++)
        {
            string name = names[i];
            int bar = name.IndexOf(TextView.Separator, StringComparison.Ordinal);
            if (bar > 0 && index.ContainsKey(name[..bar]) && TextView.ParseRelabelling(name[(bar + 1)..]) is not null)
            {
                continue; // a view: added below, after its group's original
            }
            views[name] = [new TextView(i, "", "")];
            groupOf[i] = name;
        }
        for (int i = 1; i < names.Count; i++)
        {
            string name = names[i];
            int bar = name.IndexOf(TextView.Separator, StringComparison.Ordinal);
            if (bar > 0 && views.TryGetValue(name[..bar], out List<TextView>? list) && !groupOf.ContainsKey(i) &&
                TextView.ParseRelabelling(name[(bar + 1)..]) is (string from, string to))
            {
                list.Add(new TextView(i, from, to));
            }
        }
        return new TextViews(views.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray(), StringComparer.Ordinal),
            groupOf, views.Count == 0 ? 1 : views.Values.Max(v => v.Count));
    }
}
