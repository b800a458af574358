using System.Runtime.InteropServices;
using Hrm.Runtime.Backends;
using Hrm.Runtime.Memory;

namespace Hrm.Runtime.Loss;

/// <summary>
/// The host copy of the per-row outputs of one <see cref="IHrmBackend.StablemaxCe"/> call: rowLoss (B,3) double
/// [lm_b, qhalt_b, qcont_b] and rowStats (B,3) int [n_b, correct_b, seq_correct_b], with the statistics HrmMetrics
/// reads split out per row. Reading allocates nothing.
/// </summary>
public sealed class StablemaxCeRows
{
    private readonly double[] _loss;   // (B, 3)
    private readonly int[] _stats;     // (B, 3)
    private readonly int[] _valid;     // (B)
    private readonly int[] _correct;   // (B)
    private readonly bool[] _seqCorrect; // (B)

    /// <summary>Rows for batches of <paramref name="batch"/>.</summary>
    public StablemaxCeRows(int batch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        Batch = batch;
        _loss = new double[3 * batch];
        _stats = new int[3 * batch];
        _valid = new int[batch];
        _correct = new int[batch];
        _seqCorrect = new bool[batch];
    }

    /// <summary>B.</summary>
    public int Batch { get; }

    /// <summary>
    /// Int32 elements of the device region that holds rowLoss (B,3) doubles: 6·B (the op's rowLoss argument is an
    /// int region of this length, 8-byte aligned, read back bit for bit with DownloadInts).
    /// </summary>
    public static long RowLossInts(int batch) => 6L * batch;

    /// <summary>n_b of the last call: positions with a label other than −100 (B).</summary>
    public ReadOnlySpan<int> ValidCounts => _valid;

    /// <summary>Valid positions whose argmax equals the label, per row, of the last call (B).</summary>
    public ReadOnlySpan<int> CorrectCounts => _correct;

    /// <summary>seq_correct_b of the last call (B): CorrectCounts == ValidCounts (true when n_b = 0).</summary>
    public ReadOnlySpan<bool> SeqCorrect => _seqCorrect;

    /// <summary>rowLoss (B,3) of the last call.</summary>
    public ReadOnlySpan<double> RowLoss => _loss;

    /// <summary>rowLoss (B,3) to write on the host.</summary>
    internal Span<double> LossSpan => _loss;

    /// <summary>rowStats (B,3) to write on the host.</summary>
    internal Span<int> StatsSpan => _stats;

    /// <summary>
    /// Downloads rowLoss (an int region of <see cref="RowLossInts"/> elements) and rowStats (3·B ints) from
    /// <paramref name="backend"/> and returns the batch's <see cref="LossParts"/>.
    /// </summary>
    public LossParts Read(IHrmBackend backend, Buf rowLoss, Buf rowStats, bool training)
    {
        ArgumentNullException.ThrowIfNull(backend);
        backend.DownloadInts(rowLoss, MemoryMarshal.Cast<double, int>(_loss.AsSpan()));
        backend.DownloadInts(rowStats, _stats);
        return Finish(training);
    }

    /// <summary>Splits rowStats into the per-row statistics and sums rowLoss (after the host wrote both).</summary>
    internal LossParts Finish(bool training)
    {
        for (int b = 0; b < Batch; b++)
        {
            _valid[b] = _stats[3 * b];
            _correct[b] = _stats[3 * b + 1];
            _seqCorrect[b] = _stats[3 * b + 2] != 0;
        }
        return StablemaxCeMath.Sum(_loss, training);
    }
}
