using Hrm.Runtime.Arc;
using Hrm.Runtime.Formats;

namespace Hrm.Train.Data;

/// <summary>A task file and whether its folder routes test pairs to the test split.</summary>
/// <param name="Path">The .json file.</param>
/// <param name="IsEvaluation">It sits in a folder named "evaluation".</param>
public sealed record ArcTaskFile(string Path, bool IsEvaluation);

/// <summary>
/// Where ARC tasks come from (spec 5.4). A <b>dataset folder</b> holds subfolders of task files
/// (<c>training/*.json</c>, <c>evaluation/*.json</c>, ConceptARC's <c>&lt;concept&gt;/*.json</c>); only a subfolder
/// named <c>evaluation</c> sends its test pairs to the test split. A <b>root</b> is laid out like the project's
/// shared data (<c>ARC-AGI-1/</c>, <c>ARC-AGI-2/</c>, <c>ConceptARC/corpus/</c>); a preset picks dataset folders
/// in it: arc-1 = ARC-AGI-1 + ConceptARC/corpus, arc-2 = ARC-AGI-2.
/// </summary>
public static class ArcSources
{
    /// <summary>Preset names.</summary>
    public static readonly IReadOnlyList<string> Presets = ["arc-1", "arc-2"];

    /// <summary>The dataset folders of a preset, relative to a root.</summary>
    /// <param name="preset">arc-1 or arc-2.</param>
    /// <returns>Relative paths.</returns>
    /// <exception cref="ArgumentException">Unknown preset.</exception>
    public static IReadOnlyList<string> PresetFolders(string preset) => preset switch
    {
        "arc-1" => ["ARC-AGI-1", Path.Combine("ConceptARC", "corpus")],
        "arc-2" => ["ARC-AGI-2"],
        _ => throw new ArgumentException(
            $"unknown ARC preset '{preset}'; known: {string.Join(", ", Presets)}", nameof(preset)),
    };

    /// <summary>
    /// The dataset folders for <paramref name="sources"/>: with a preset, a source holding the preset's folders is
    /// a root and contributes them; any other source is taken as a dataset folder itself.
    /// </summary>
    /// <param name="preset">arc-1, arc-2 or null.</param>
    /// <param name="sources">Roots or dataset folders.</param>
    /// <returns>Dataset folders in order.</returns>
    /// <exception cref="ArgumentException">A source does not exist, or a root lacks some of the preset's folders.
    /// </exception>
    public static List<string> DatasetFolders(string? preset, IReadOnlyList<string> sources)
    {
        ArgumentNullException.ThrowIfNull(sources);
        IReadOnlyList<string> wanted = preset is null ? [] : PresetFolders(preset);
        var result = new List<string>();
        foreach (string source in sources)
        {
            if (!Directory.Exists(source)) throw new ArgumentException($"ARC source folder '{source}' does not exist");
            string[] present = [.. wanted.Where(w => Directory.Exists(Path.Combine(source, w)))];
            if (present.Length == 0)
            {
                result.Add(source);
                continue;
            }
            if (present.Length < wanted.Count)
            {
                throw new ArgumentException(
                    $"'{source}' looks like an ARC root but lacks {string.Join(", ", wanted.Except(present))}, which " +
                    $"preset {preset} needs (it uses {string.Join(" + ", wanted)})");
            }
            result.AddRange(wanted.Select(w => Path.Combine(source, w)));
        }
        RefuseRepeats(result);
        return result;
    }

    /// <summary>A folder given twice (or through links to it) would have its tasks read, and trained on, twice.
    /// </summary>
    private static void RefuseRepeats(List<string> folders)
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string folder in folders)
        {
            string key = RealPath(folder, 0);
            if (!seen.TryAdd(key, folder))
            {
                throw new ArgumentException(
                    $"ARC source folder '{folder}' is '{seen[key]}' again: its tasks would be read twice");
            }
        }
    }

    /// <summary>The absolute path with every link along it resolved (what realpath gives), no trailing separator.
    /// </summary>
    private static string RealPath(string path, int depth)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        if (depth > 40) return full; // a loop of links: the folder listing reports it
        string root = Path.GetPathRoot(full) ?? "";
        string current = root;
        char[] separators = [Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar];
        foreach (string part in full[root.Length..].Split(separators, StringSplitOptions.RemoveEmptyEntries))
        {
            current = Path.Combine(current, part);
            var info = new DirectoryInfo(current);
            if (info.LinkTarget != null)
                current = RealPath(info.ResolveLinkTarget(returnFinalTarget: false)!.FullName, depth + 1);
        }
        return current;
    }

    /// <summary>
    /// The task files of the dataset folders in build order: folder by folder, subfolder by subfolder (ordinal
    /// name order), each subfolder's files shuffled by a generator derived from <paramref name="seed"/>, as the
    /// reference shuffles each subfolder.
    /// </summary>
    /// <param name="datasetFolders">Dataset folders.</param>
    /// <param name="seed">The build seed.</param>
    /// <returns>The files.</returns>
    /// <exception cref="ArgumentException">No task file was found.</exception>
    public static List<ArcTaskFile> ListTasks(IReadOnlyList<string> datasetFolders, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(datasetFolders);
        var files = new List<ArcTaskFile>();
        int subfolderIndex = 0;
        foreach (string folder in datasetFolders)
        {
            foreach (string sub in Directory.GetDirectories(folder).Order(StringComparer.Ordinal))
            {
                string[] tasks = [.. Directory.GetFiles(sub, "*.json").Order(StringComparer.Ordinal)];
                Shuffle(tasks, DerivedRandom.For(seed ^ 0x5E1EC7_F01DE5UL, subfolderIndex++));
                bool evaluation = Path.GetFileName(sub) == "evaluation";
                files.AddRange(tasks.Select(t => new ArcTaskFile(t, evaluation)));
            }
        }
        if (files.Count == 0)
        {
            throw new ArgumentException(
                $"no ARC task files in {string.Join(", ", datasetFolders.Select(f => $"'{f}/*/*.json'"))}; a dataset " +
                "folder holds subfolders of task files such as training/ and evaluation/");
        }
        return files;
    }

    /// <summary>Reads every task file, collecting the malformed ones instead of stopping at the first.</summary>
    /// <param name="files">The files, in build order.</param>
    /// <returns>The good tasks (in order) and one error per bad file.</returns>
    public static (List<ArcTask> Tasks, List<HrmFormatException> Errors) Load(IReadOnlyList<ArcTaskFile> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        var results = new (ArcTask? Task, HrmFormatException? Error)[files.Count];
        Parallel.For(0, files.Count, i =>
        {
            try
            {
                results[i] = (ArcTaskReader.Read(files[i].Path, files[i].IsEvaluation), null);
            }
            catch (HrmFormatException e)
            {
                results[i] = (null, e);
            }
        });
        return ([.. results.Where(r => r.Task is not null).Select(r => r.Task!)],
            [.. results.Where(r => r.Error is not null).Select(r => r.Error!)]);
    }

    private static void Shuffle(string[] items, Hrm.Runtime.Numerics.HrmRandom rng)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = rng.NextInt(0, i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
