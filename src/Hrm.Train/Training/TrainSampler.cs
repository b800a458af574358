using Hrm.Runtime.Numerics;
using Hrm.Train.Data;

namespace Hrm.Train.Training;

/// <summary>
/// The reference's training sampler (spec 5.5), seeded and resumable: a pass covers <c>epochsPerPass</c>
/// shuffled orders of the groups; for each group one random member puzzle contributes up to the remaining
/// batch room of its examples (without replacement); a pass ends when a full batch can no longer be made.
/// Pass p draws everything from its own generator seeded with (seed, p), so <see cref="GetState"/> /
/// <see cref="SetState"/> (pass, position, generator state) resume exactly.
/// </summary>
public sealed class TrainSampler
{
    private readonly PuzzleDataset _ds;
    private readonly int _batch, _epochsPerPass, _l;
    private readonly ulong _seed;
    private readonly int[] _order;
    private readonly int[] _pick;       // scratch: example indices of one puzzle
    private readonly int[] _rowIn, _rowLabel;
    private HrmRandom _rng;

    public TrainSampler(PuzzleDataset dataset, int globalBatch, int epochsPerPass, ulong seed)
    {
        _ds = dataset;
        _batch = globalBatch;
        _epochsPerPass = epochsPerPass;
        _seed = seed;
        _l = dataset.SeqLen;
        _order = new int[(long)dataset.GroupCount * epochsPerPass > int.MaxValue
            ? throw new ArgumentException("too many groups x epochs per pass")
            : dataset.GroupCount * epochsPerPass];
        int maxPuzzle = 1;
        for (int p = 0; p < dataset.PuzzleCount; p++)
            maxPuzzle = Math.Max(maxPuzzle, dataset.PuzzleIndices[p + 1] - dataset.PuzzleIndices[p]);
        _pick = new int[maxPuzzle];
        _rowIn = new int[_l];
        _rowLabel = new int[_l];
        _rng = new HrmRandom(seed);
        Pass = -1;
    }

    /// <summary>Index of the current pass (-1 before the first).</summary>
    public long Pass { get; private set; }

    /// <summary>Next position in the pass's group order.</summary>
    public int Position { get; private set; }

    /// <summary>Whether the current pass has handed out every group it will (a pass ends when it cannot fill a batch,
    /// having gone through its whole order).</summary>
    public bool PassDone => Position >= _order.Length;

    /// <summary>How many groups a pass goes through (the groups times the epochs per pass).</summary>
    public int PassLength => _order.Length;

    /// <summary>Starts the next pass: a fresh generator and a new order of the groups.</summary>
    public void StartPass()
    {
        Pass++;
        Position = 0;
        _rng = PassRandom(_seed, Pass);
        int g = _ds.GroupCount;
        for (int e = 0; e < _epochsPerPass; e++)
        {
            Span<int> perm = _order.AsSpan(e * g, g);
            for (int i = 0; i < g; i++) perm[i] = i;
            for (int i = g - 1; i > 0; i--)
            {
                int j = _rng.NextInt(0, i + 1);
                (perm[i], perm[j]) = (perm[j], perm[i]);
            }
        }
    }

    /// <summary>
    /// Fills one global batch (B·L tokens and labels, B puzzle ids). Labels equal to the dataset's ignore id are
    /// -100. Returns false, filling nothing useful, when the pass cannot make another full batch.
    /// </summary>
    public bool NextBatch(Span<int> tokens, Span<int> labels, Span<int> puzzleIds)
    {
        if (Pass < 0) throw new InvalidOperationException("call StartPass first");
        int filled = 0;
        while (Position < _order.Length && filled < _batch)
        {
            int g = _order[Position++];
            int p = _rng.NextInt(_ds.GroupIndices[g], _ds.GroupIndices[g + 1]);
            int start = _ds.PuzzleIndices[p], size = _ds.PuzzleIndices[p + 1] - start;
            int k = Math.Min(size, _batch - filled);
            for (int i = 0; i < size; i++) _pick[i] = start + i;
            for (int i = 0; i < k; i++)
            {
                int j = _rng.NextInt(i, size);
                (_pick[i], _pick[j]) = (_pick[j], _pick[i]);
                _ds.ReadExample(_pick[i], _rowIn, _rowLabel);
                _rowIn.CopyTo(tokens.Slice(filled * _l, _l));
                _rowLabel.CopyTo(labels.Slice(filled * _l, _l));
                puzzleIds[filled] = _ds.PuzzleIdentifiers[p];
                filled++;
            }
        }
        return filled == _batch;
    }

    /// <summary>(pass, position, generator state).</summary>
    public (long Pass, int Position, (ulong, ulong, ulong, ulong) Rng) GetState() => (Pass, Position, _rng.GetState());

    /// <summary>Restores a state from <see cref="GetState"/>; the pass's order is regenerated from the seed.</summary>
    public void SetState(long pass, int position, (ulong, ulong, ulong, ulong) rng)
    {
        if (pass >= 0)
        {
            Pass = pass - 1;
            StartPass();
            _rng.SetState(rng);
        }
        else
        {
            Pass = pass;
        }
        Position = position;
    }

    private static HrmRandom PassRandom(ulong seed, long pass) =>
        new(seed * 0x9E3779B97F4A7C15UL + (ulong)pass * 0xD1B54A32D192ED03UL + 0x632BE59BD9B4E019UL);
}
