using Hrm.Runtime.Formats;

namespace Hrm.Train.Data;

/// <summary>
/// One set of one split of a dataset in the reference's layout (spec 5.1). Inputs and labels stay on disk,
/// memory-mapped read-only ('|u1' or '&lt;i4'); the index arrays are loaded. Everything is validated at
/// open: shapes, index boundaries, identifier range, and every token against vocab_size (one linear pass).
/// Reading examples is thread-safe; disposing while reading is not.
/// </summary>
public sealed class PuzzleDataset : IDisposable
{
    /// <summary>The label value of cells excluded from the loss.</summary>
    public const int IgnoreLabel = -100;

    private readonly MappedTokenFile _inputs;
    private readonly MappedTokenFile _labels;
    private readonly int[] _puzzleIdentifiers;
    private readonly int[] _puzzleIndices;
    private readonly int[] _groupIndices;
    private bool _disposed;

    private PuzzleDataset(DatasetMetadata metadata, MappedTokenFile inputs, MappedTokenFile labels,
        int[] puzzleIdentifiers, int[] puzzleIndices, int[] groupIndices)
    {
        Metadata = metadata;
        _inputs = inputs;
        _labels = labels;
        _puzzleIdentifiers = puzzleIdentifiers;
        _puzzleIndices = puzzleIndices;
        _groupIndices = groupIndices;
    }

    /// <summary>The split's <c>dataset.json</c>.</summary>
    public DatasetMetadata Metadata { get; }

    /// <summary>Rows of inputs and labels.</summary>
    public int ExampleCount => (int)_inputs.Rows;

    /// <summary>Tokens per example (metadata seq_len).</summary>
    public int SeqLen => Metadata.SeqLen;

    /// <summary>Number of puzzles.</summary>
    public int PuzzleCount => _puzzleIdentifiers.Length;

    /// <summary>Number of groups (entries of group_indices minus one).</summary>
    public int GroupCount => _groupIndices.Length - 1;

    /// <summary>Whether inputs are stored as int32 ('&lt;i4') rather than uint8.</summary>
    public bool InputsAreInt32 => _inputs.ItemSize == 4;

    /// <summary>Puzzle p's embedding identifier.</summary>
    public ReadOnlySpan<int> PuzzleIdentifiers => _puzzleIdentifiers;

    /// <summary>Puzzle p holds examples [PuzzleIndices[p], PuzzleIndices[p + 1]).</summary>
    public ReadOnlySpan<int> PuzzleIndices => _puzzleIndices;

    /// <summary>Group g holds puzzles [GroupIndices[g], GroupIndices[g + 1]).</summary>
    public ReadOnlySpan<int> GroupIndices => _groupIndices;

    /// <summary>Opens and validates <c>root/split/{set}__*.npy</c> and <c>root/split/dataset.json</c>.</summary>
    /// <param name="root">The dataset directory.</param>
    /// <param name="split">"train" or "test".</param>
    /// <param name="set">The set name; it must be listed in the metadata's sets.</param>
    /// <returns>The open dataset; dispose it to unmap the files.</returns>
    /// <exception cref="HrmFormatException">
    /// A missing file or a broken invariant, naming the file and field.
    /// </exception>
    public static PuzzleDataset Open(string root, string split, string set = "all")
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentException.ThrowIfNullOrEmpty(split);
        ArgumentException.ThrowIfNullOrEmpty(set);
        string metaPath = Path.Combine(DatasetLayout.SplitDir(root, split), DatasetMetadata.FileName);
        if (!File.Exists(metaPath))
        {
            throw new HrmFormatException(metaPath, "file",
                $"is missing; is '{root}' a dataset with a '{split}' split?");
        }
        DatasetMetadata meta = DatasetMetadata.Read(metaPath);
        if (Array.IndexOf(meta.Sets, set) < 0)
            throw new HrmFormatException(metaPath, "sets", $"[{string.Join(", ", meta.Sets)}] does not list '{set}'");
        string F(string field) => DatasetLayout.Array(root, split, set, field);
        foreach (string field in (string[])[DatasetLayout.Inputs, DatasetLayout.Labels, DatasetLayout.PuzzleIdentifiers,
            DatasetLayout.PuzzleIndices, DatasetLayout.GroupIndices])
        {
            if (!File.Exists(F(field)))
                throw new HrmFormatException(F(field), "file", $"is missing ({field} of set '{set}')");
        }
        int[] ids = ReadIndex(F(DatasetLayout.PuzzleIdentifiers));
        int[] puzzleIdx = ReadIndex(F(DatasetLayout.PuzzleIndices));
        int[] groupIdx = ReadIndex(F(DatasetLayout.GroupIndices));
        MappedTokenFile? inputs = null, labels = null;
        try
        {
            inputs = MappedTokenFile.Open(F(DatasetLayout.Inputs), DatasetLayout.Inputs, meta.SeqLen);
            labels = MappedTokenFile.Open(F(DatasetLayout.Labels), DatasetLayout.Labels, meta.SeqLen);
            if (labels.Rows != inputs.Rows)
            {
                throw new HrmFormatException(labels.Path, "shape",
                    $"has {labels.Rows} rows but {inputs.Path} has {inputs.Rows}; inputs and labels must match");
            }
            Check(F(DatasetLayout.PuzzleIdentifiers), DatasetChecks.PuzzleIdentifiers(ids, meta.NumPuzzleIdentifiers));
            Check(F(DatasetLayout.PuzzleIndices), DatasetChecks.PuzzleIndices(puzzleIdx, ids.Length, inputs.Rows));
            Check(F(DatasetLayout.GroupIndices), DatasetChecks.GroupIndices(groupIdx, ids.Length));
            if (meta.Sets.Length == 1 && meta.TotalGroups != groupIdx.Length - 1)
            {
                throw new HrmFormatException(metaPath, "total_groups", $"is {meta.TotalGroups} but " +
                    $"{F(DatasetLayout.GroupIndices)} holds {groupIdx.Length - 1} groups (training counts its steps from it)");
            }
            Check(inputs.Path, inputs.Scan(meta.VocabSize, null));
            Check(labels.Path, labels.Scan(meta.VocabSize, meta.IgnoreLabelId));
            return new PuzzleDataset(meta, inputs, labels, ids, puzzleIdx, groupIdx);
        }
        catch
        {
            inputs?.Dispose();
            labels?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Copies example <paramref name="example"/> as int32: inputs as stored, labels with the metadata's
    /// ignore_label_id replaced by <see cref="IgnoreLabel"/> (-100).
    /// </summary>
    /// <param name="example">The row, in [0, <see cref="ExampleCount"/>).</param>
    /// <param name="inputs">Receives <see cref="SeqLen"/> tokens.</param>
    /// <param name="labels">Receives <see cref="SeqLen"/> labels.</param>
    /// <exception cref="ArgumentOutOfRangeException">The example does not exist.</exception>
    /// <exception cref="ArgumentException">A destination is not <see cref="SeqLen"/> long.</exception>
    public void ReadExample(int example, Span<int> inputs, Span<int> labels)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((uint)example >= (uint)ExampleCount)
        {
            throw new ArgumentOutOfRangeException(nameof(example), example,
                $"the dataset has {ExampleCount} examples (0..{ExampleCount - 1})");
        }
        if (inputs.Length != SeqLen || labels.Length != SeqLen)
        {
            throw new ArgumentException(
                $"inputs and labels must hold seq_len = {SeqLen} tokens; got {inputs.Length} and {labels.Length}",
                nameof(inputs));
        }
        _inputs.ReadRow(example, inputs);
        _labels.ReadRow(example, labels);
        if (Metadata.IgnoreLabelId is int ignore) labels.Replace(ignore, IgnoreLabel);
    }

    /// <summary>Unmaps the files.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _inputs.Dispose();
        _labels.Dispose();
    }

    private static int[] ReadIndex(string path)
    {
        NpyArray a = Npy.Read(path);
        if (a.Shape.Length != 1)
            throw new HrmFormatException(path, "shape", $"is {Npy.FormatShape(a.Shape)}; expected a 1-D array");
        return a.ToInt32();
    }

    private static void Check(string path, string? problem)
    {
        if (problem is not null) throw new HrmFormatException(path, "data", problem);
    }
}
