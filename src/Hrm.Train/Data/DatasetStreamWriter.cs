using Hrm.Runtime.Formats;

namespace Hrm.Train.Data;

/// <summary>
/// Writes one split of a dataset (spec 5.1) example by example, so a build never holds the token arrays in
/// memory: inputs and labels stream to temporary files whose .npy headers are patched with the final row count
/// (numpy's header reserves room for any count, so its length does not change); the index arrays are kept (4
/// bytes per puzzle and per group) and written with dataset.json by <see cref="Complete"/>. Every file appears
/// atomically at Complete; disposing without completing leaves nothing behind. Not thread-safe.
/// </summary>
public sealed class DatasetStreamWriter : IDisposable
{
    private readonly string _root;
    private readonly string _split;
    private readonly string _set;
    private readonly int _seqLen;
    private readonly int _vocabSize;
    private readonly int? _ignoreLabelId;
    private readonly AtomicFileWriter _inputs;
    private readonly AtomicFileWriter _labels;
    private readonly int _headerLength;
    private readonly List<int> _puzzleIdentifiers = [];
    private readonly List<int> _puzzleIndices = [0];
    private readonly List<int> _groupIndices = [0];
    private bool _done;

    /// <summary>Starts <c>root/split/{set}__*.npy</c>.</summary>
    /// <param name="root">The dataset directory (created if needed).</param>
    /// <param name="split">"train" or "test".</param>
    /// <param name="seqLen">Tokens per example.</param>
    /// <param name="vocabSize">Every input and label token is below it.</param>
    /// <param name="ignoreLabelId">The label id that is ignored (it may be any byte), or null.</param>
    /// <param name="set">The set name ("all").</param>
    public DatasetStreamWriter(string root, string split, int seqLen, int vocabSize, int? ignoreLabelId,
        string set = "all")
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentException.ThrowIfNullOrEmpty(split);
        ArgumentException.ThrowIfNullOrEmpty(set);
        ArgumentOutOfRangeException.ThrowIfLessThan(seqLen, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(vocabSize, 256);
        (_root, _split, _set) = (root, split, set);
        (_seqLen, _vocabSize, _ignoreLabelId) = (seqLen, vocabSize, ignoreLabelId);
        Directory.CreateDirectory(DatasetLayout.SplitDir(root, split));
        byte[] header = Npy.BuildHeader("|u1", [0, seqLen]);
        _headerLength = header.Length;
        _inputs = new AtomicFileWriter(DatasetLayout.Array(root, split, set, DatasetLayout.Inputs));
        try
        {
            _labels = new AtomicFileWriter(DatasetLayout.Array(root, split, set, DatasetLayout.Labels));
        }
        catch
        {
            _inputs.Dispose();
            throw;
        }
        _inputs.Stream.Write(header);
        _labels.Stream.Write(header);
    }

    /// <summary>Examples written.</summary>
    public long Examples { get; private set; }

    /// <summary>Puzzles closed by <see cref="EndPuzzle"/>.</summary>
    public int Puzzles => _puzzleIdentifiers.Count;

    /// <summary>Groups closed by <see cref="EndGroup"/>.</summary>
    public int Groups => _groupIndices.Count - 1;

    /// <summary>Appends one example to the current puzzle.</summary>
    /// <param name="input">seq_len tokens below vocab_size.</param>
    /// <param name="label">seq_len tokens below vocab_size (or the ignore id).</param>
    /// <exception cref="ArgumentException">A length or token is out of range.</exception>
    public void AddExample(ReadOnlySpan<byte> input, ReadOnlySpan<byte> label)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        if (input.Length != _seqLen || label.Length != _seqLen)
        {
            throw new ArgumentException(
                $"an example has seq_len = {_seqLen} tokens; got {input.Length} inputs and {label.Length} labels",
                    nameof(input));
        }
        Check(DatasetChecks.Tokens(input, _vocabSize, null, _seqLen, Examples * _seqLen), nameof(input));
        Check(DatasetChecks.Tokens(label, _vocabSize, _ignoreLabelId, _seqLen, Examples * _seqLen), nameof(label));
        if (Examples == int.MaxValue)
            throw new InvalidOperationException($"a split holds at most {int.MaxValue} examples");
        _inputs.Stream.Write(input);
        _labels.Stream.Write(label);
        Examples++;
    }

    /// <summary>Closes the current puzzle (the examples since the previous one) with its identifier.</summary>
    /// <param name="identifier">The puzzle's embedding row (checked against the count at <see
    /// cref="Complete"/>).</param>
    public void EndPuzzle(int identifier)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        ArgumentOutOfRangeException.ThrowIfNegative(identifier);
        _puzzleIdentifiers.Add(identifier);
        _puzzleIndices.Add((int)Examples);
    }

    /// <summary>Closes the current group (the puzzles since the previous one).</summary>
    public void EndGroup()
    {
        ObjectDisposedException.ThrowIf(_done, this);
        _groupIndices.Add(Puzzles);
    }

    /// <summary>
    /// Patches the headers, publishes inputs and labels, writes the index arrays and dataset.json (pad 0,
    /// blank identifier 0, mean_puzzle_examples = examples / puzzles, or 0 without puzzles).
    /// </summary>
    /// <param name="numPuzzleIdentifiers">Rows of the puzzle-embedding table; every identifier is below it.</param>
    /// <param name="totalGroups">total_groups; null means the number of groups written.</param>
    /// <returns>The metadata written.</returns>
    /// <exception cref="InvalidOperationException">Examples after the last puzzle or puzzles after the last group.
    /// </exception>
    /// <exception cref="ArgumentException">An identifier is not below <paramref
    /// name="numPuzzleIdentifiers"/>.</exception>
    public DatasetMetadata Complete(int numPuzzleIdentifiers, int? totalGroups = null)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        if (_puzzleIndices[^1] != Examples)
            throw new InvalidOperationException($"{Examples - _puzzleIndices[^1]} examples follow the last EndPuzzle");
        if (_groupIndices[^1] != Puzzles)
            throw new InvalidOperationException($"{Puzzles - _groupIndices[^1]} puzzles follow the last EndGroup");
        Check(DatasetChecks.PuzzleIdentifiers(_puzzleIdentifiers.ToArray(), numPuzzleIdentifiers), "identifiers");
        var meta = new DatasetMetadata(PadId: 0, _ignoreLabelId, BlankIdentifierId: 0, _vocabSize, _seqLen,
            numPuzzleIdentifiers, totalGroups ?? Groups, Puzzles == 0 ? 0 : (double)Examples / Puzzles, [_set]);
        string? problem = meta.Check(out string field);
        if (problem is not null) throw new ArgumentException($"metadata {field} {problem}");
        byte[] header = Npy.BuildHeader("|u1", [Examples, _seqLen]);
        if (header.Length != _headerLength)
            throw new InvalidOperationException($"the .npy header grew from {_headerLength} to {header.Length} bytes");
        foreach (AtomicFileWriter file in (AtomicFileWriter[])[_inputs, _labels])
        {
            file.Stream.Position = 0;
            file.Stream.Write(header);
            file.Commit();
        }
        _done = true;
        Npy.WriteInt32(DatasetLayout.Array(_root, _split, _set, DatasetLayout.PuzzleIdentifiers),
            _puzzleIdentifiers.ToArray(), [Puzzles]);
        Npy.WriteInt32(DatasetLayout.Array(_root, _split, _set, DatasetLayout.PuzzleIndices),
            _puzzleIndices.ToArray(), [_puzzleIndices.Count]);
        Npy.WriteInt32(DatasetLayout.Array(_root, _split, _set, DatasetLayout.GroupIndices),
            _groupIndices.ToArray(), [_groupIndices.Count]);
        DatasetWriter.WriteText(Path.Combine(DatasetLayout.SplitDir(_root, _split), DatasetMetadata.FileName),
            meta.ToJson());
        return meta;
    }

    /// <summary>Removes the temporary files unless <see cref="Complete"/> ran.</summary>
    public void Dispose()
    {
        _done = true;
        _inputs.Dispose();
        _labels.Dispose();
    }

    private static void Check(string? problem, string paramName)
    {
        if (problem is not null) throw new ArgumentException($"{paramName} {problem}", paramName);
    }
}
