using System.Text;
using Hrm.Runtime.Formats;

namespace Hrm.Train.Data;

/// <summary>
/// Writes datasets in the reference's layout (spec 5.1), so the reference's <c>PuzzleDataset</c> loads them:
/// <c>root/split/dataset.json</c> and <c>root/split/{set}__{inputs,labels,puzzle_identifiers,puzzle_indices,
/// group_indices}.npy</c>, plus <c>root/identifiers.json</c>. Every file is written atomically (temporary
/// file, flush, rename).
/// </summary>
public static class DatasetWriter
{
    /// <summary>Writes one set of one split, validating it first.</summary>
    /// <param name="root">The dataset directory (created if needed).</param>
    /// <param name="split">"train" or "test".</param>
    /// <param name="meta">The split's metadata; it must list <paramref name="set"/>.</param>
    /// <param name="set">The set name (the reference always uses "all").</param>
    /// <param name="inputs">N x seq_len tokens, row-major.</param>
    /// <param name="labels">N x seq_len tokens.</param>
    /// <param name="puzzleIdentifiers">One identifier per puzzle, each in [0, num_puzzle_identifiers).</param>
    /// <param name="puzzleIndices">puzzles + 1 example boundaries: 0, ..., N.</param>
    /// <param name="groupIndices">groups + 1 puzzle boundaries: 0, ..., puzzles.</param>
    /// <exception cref="ArgumentException">
    /// The arrays break an invariant that <see cref="PuzzleDataset.Open"/> checks.
    /// </exception>
    public static void Write(string root, string split, DatasetMetadata meta, string set, ReadOnlySpan<byte> inputs,
        ReadOnlySpan<byte> labels, int[] puzzleIdentifiers, int[] puzzleIndices, int[] groupIndices)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentException.ThrowIfNullOrEmpty(split);
        ArgumentNullException.ThrowIfNull(meta);
        ArgumentNullException.ThrowIfNull(puzzleIdentifiers);
        ArgumentNullException.ThrowIfNull(puzzleIndices);
        ArgumentNullException.ThrowIfNull(groupIndices);
        long examples = Validate(meta, set, inputs, labels, puzzleIdentifiers, puzzleIndices, groupIndices);
        Directory.CreateDirectory(DatasetLayout.SplitDir(root, split));
        long[] rows = [examples, meta.SeqLen];
        Npy.WriteUInt8(DatasetLayout.Array(root, split, set, DatasetLayout.Inputs), inputs, rows);
        Npy.WriteUInt8(DatasetLayout.Array(root, split, set, DatasetLayout.Labels), labels, rows);
        Npy.WriteInt32(DatasetLayout.Array(root, split, set, DatasetLayout.PuzzleIdentifiers), puzzleIdentifiers,
            [puzzleIdentifiers.Length]);
        Npy.WriteInt32(DatasetLayout.Array(root, split, set, DatasetLayout.PuzzleIndices), puzzleIndices,
            [puzzleIndices.Length]);
        Npy.WriteInt32(DatasetLayout.Array(root, split, set, DatasetLayout.GroupIndices), groupIndices,
            [groupIndices.Length]);
        WriteText(Path.Combine(DatasetLayout.SplitDir(root, split), DatasetMetadata.FileName), meta.ToJson());
    }

    /// <summary>Writes <c>root/identifiers.json</c>: a JSON list of names, index = puzzle identifier.</summary>
    /// <param name="root">The dataset directory (created if needed).</param>
    /// <param name="names">The names; entry 0 must be "&lt;blank&gt;".</param>
    /// <exception cref="ArgumentException">Entry 0 is not "&lt;blank&gt;".</exception>
    public static void WriteIdentifiers(string root, IReadOnlyList<string> names)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(names);
        if (names.Count == 0 || names[0] != DatasetIdentifiers.Blank)
            throw new ArgumentException($"entry 0 must be \"{DatasetIdentifiers.Blank}\"", nameof(names));
        Directory.CreateDirectory(root);
        // As the reference's builders write it (json.dump): ["<blank>", "name", ...], one line, ASCII.
        WriteText(Path.Combine(root, DatasetLayout.IdentifiersFile), PythonJson.StringList(names));
    }

    /// <summary>Writes a text file atomically (UTF-8, no byte-order mark).</summary>
    internal static void WriteText(string path, string text)
    {
        using var file = new AtomicFileWriter(path);
        file.Stream.Write(new UTF8Encoding(false).GetBytes(text));
        file.Commit();
    }

    private static long Validate(DatasetMetadata meta, string set, ReadOnlySpan<byte> inputs, ReadOnlySpan<byte> labels,
        int[] puzzleIdentifiers, int[] puzzleIndices, int[] groupIndices)
    {
        string? problem = meta.Check(out string field);
        if (problem is not null) throw new ArgumentException($"metadata {field} {problem}", nameof(meta));
        if (Array.IndexOf(meta.Sets, set) < 0)
        {
            throw new ArgumentException(
                $"set '{set}' is not in metadata sets [{string.Join(", ", meta.Sets)}]", nameof(set));
        }
        if (inputs.Length % meta.SeqLen != 0)
        {
            throw new ArgumentException(
                $"inputs has {inputs.Length} tokens, not a multiple of seq_len {meta.SeqLen}", nameof(inputs));
        }
        if (labels.Length != inputs.Length)
            throw new ArgumentException($"labels has {labels.Length} tokens, inputs {inputs.Length}", nameof(labels));
        long examples = inputs.Length / meta.SeqLen;
        Check(DatasetChecks.Tokens(inputs, meta.VocabSize, null, meta.SeqLen, 0), nameof(inputs));
        Check(DatasetChecks.Tokens(labels, meta.VocabSize, meta.IgnoreLabelId, meta.SeqLen, 0), nameof(labels));
        Check(DatasetChecks.PuzzleIdentifiers(puzzleIdentifiers, meta.NumPuzzleIdentifiers), nameof(puzzleIdentifiers));
        Check(DatasetChecks.PuzzleIndices(puzzleIndices, puzzleIdentifiers.Length, examples), nameof(puzzleIndices));
        Check(DatasetChecks.GroupIndices(groupIndices, puzzleIdentifiers.Length), nameof(groupIndices));
        return examples;
    }

    private static void Check(string? problem, string paramName)
    {
        if (problem is not null) throw new ArgumentException($"{paramName} {problem}", paramName);
    }
}
