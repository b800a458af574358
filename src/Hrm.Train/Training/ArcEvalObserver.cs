using Hrm.Runtime.Arc;
using Hrm.Train.Data;

namespace Hrm.Train.Training;

/// <summary>
/// Feeds an ARC evaluation into <see cref="ArcVoting"/> as it runs, so no logits are kept: for each row, the
/// argmax prediction, the row's input and label from the dataset, its puzzle name and its q_halt logit.
/// </summary>
public sealed class ArcEvalObserver
{
    private readonly PuzzleDataset _data;
    private readonly IReadOnlyList<string> _names;
    private readonly int[] _input;
    private readonly int[] _label;
    private readonly int[] _predicted;

    /// <summary>Observes an evaluation of <paramref name="data"/>.</summary>
    /// <param name="data">The evaluated split (seq_len 900).</param>
    /// <param name="names">identifiers.json: the name of each puzzle identifier.</param>
    /// <param name="voting">Receives the rows.</param>
    public ArcEvalObserver(PuzzleDataset data, IReadOnlyList<string> names, ArcVoting voting)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(voting);
        if (data.SeqLen != ArcEncoding.SeqLen)
            throw new ArgumentException($"an ARC split has seq_len {ArcEncoding.SeqLen}; this one {data.SeqLen}",
                nameof(data));
        (_data, _names, Voting) = (data, names, voting);
        _input = new int[data.SeqLen];
        _label = new int[data.SeqLen];
        _predicted = new int[data.SeqLen];
    }

    /// <summary>The votes so far.</summary>
    public ArcVoting Voting { get; }

    /// <summary>Whether a dataset is an ARC dataset: 900 tokens of vocabulary 12 and names beyond the blank.</summary>
    /// <param name="meta">The split's metadata.</param>
    /// <param name="names">identifiers.json, or null.</param>
    /// <returns>True for ARC.</returns>
    public static bool IsArc(DatasetMetadata meta, IReadOnlyList<string>? names) =>
        meta is { SeqLen: ArcEncoding.SeqLen, VocabSize: ArcEncoding.VocabSize } && names is { Count: > 1 };

    /// <summary>The <see cref="EvalBatchObserver"/> to pass to <see cref="Evaluator.Run"/>.</summary>
    /// <param name="first">First example of the chunk.</param>
    /// <param name="rows">Rows of the chunk.</param>
    /// <param name="logits">(rows, 900, V).</param>
    /// <param name="qHalt">(rows).</param>
    public void Observe(int first, int rows, ReadOnlySpan<float> logits, ReadOnlySpan<float> qHalt)
    {
        int l = _data.SeqLen, v = logits.Length / Math.Max(1, rows * l);
        for (int r = 0; r < rows; r++)
        {
            int id = Evaluator.PuzzleOf(_data, first + r);
            if (id == _data.Metadata.BlankIdentifierId) continue;   // padding rows carry no task
            for (int i = 0; i < l; i++) _predicted[i] = HrmLoss.ArgMax(logits.Slice((r * l + i) * v, v));
            _data.ReadExample(first + r, _input, _label);
            string name = id < _names.Count ? _names[id] : "";
            Voting.AddRow(name, _input, _label, _predicted, qHalt[r]);
        }
    }
}
