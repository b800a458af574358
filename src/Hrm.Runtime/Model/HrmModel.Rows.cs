using Hrm.Runtime.Backends;
using Hrm.Runtime.Memory;
using static Hrm.Runtime.Memory.ParameterLayout;

namespace Hrm.Runtime.Model;

/// <summary>
/// Inference on the first n &lt;= B reserved rows (the solver's compacted batch): each method runs the ordinary
/// forward code on a view of the workspace whose every buffer is the leading n rows of the reserved one
/// (<see cref="ActivationPlan.RowsOf"/>), so rows n..B-1 cost nothing and keep their contents. A row's result does
/// not depend on n as long as every op treats rows independently (the CPU GEMM reduces each output element in a
/// fixed order, so it does; see the solver tests).
/// </summary>
public sealed partial class HrmModel
{
    private Workspace? _rowView;           // while a row method runs, Ws is this view
    private Workspace?[] _rowViews = [];   // [n] = view of the first n rows of _rowViewsOf, built on first use
    private Workspace? _rowViewsOf;
    private Action?[] _segmentRows = [];   // [n] = SegmentOn(view of the first n rows), the recorded sequence's key
    private Workspace? _segmentRowsOf;

    /// <summary>
    /// Checks token values (in [0, V)) and puzzle identifiers (in [0, NP)) of whole rows without staging them;
    /// the messages name the row and position. Reads only the config (safe from any thread).
    /// </summary>
    internal void CheckInputValues(ReadOnlySpan<int> tokens, ReadOnlySpan<int> puzzleIds)
    {
        int l = Config.SeqLen, v = Config.VocabSize;
        for (int i = 0; i < tokens.Length; i++)
        {
            if ((uint)tokens[i] >= (uint)v)
                throw new ArgumentOutOfRangeException(nameof(tokens),
                    $"inputs: token {tokens[i]} at row {i / l}, position {i % l} is outside [0, {v})");
        }
        for (int i = 0; i < puzzleIds.Length; i++)
        {
            if ((uint)puzzleIds[i] >= (uint)Config.NumPuzzleIdentifiers)
                throw new ArgumentOutOfRangeException(nameof(puzzleIds),
                    $"puzzle identifier {puzzleIds[i]} at row {i} is outside [0, {Config.NumPuzzleIdentifiers})");
        }
    }

    /// <summary><see cref="SetInputs"/> for the first <paramref name="rows"/> rows: tokens (rows·L), ids (rows).</summary>
    internal void SetInputRows(int rows, ReadOnlySpan<int> tokens, ReadOnlySpan<int> puzzleIds)
    {
        _rowView = RowView(rows);
        try
        {
            SetInputs(tokens, puzzleIds);
        }
        finally
        {
            _rowView = null;
        }
    }

    /// <summary>
    /// Rows b &lt; <paramref name="rows"/> with <paramref name="reset"/>[b] != 0 get the initial carry (z_H = H_init,
    /// z_L = L_init at every position), exactly as <see cref="ActStep(ActState, ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{int}, bool, Numerics.HrmRandom?, int)"/> resets halted rows.
    /// </summary>
    internal void ResetRows(int rows, ReadOnlySpan<int> reset)
    {
        Workspace view = RowView(rows);
        int t = Config.TotalSeqLen, c = Config.HiddenSize;
        _b.UploadInts(reset, view.Halted);
        _b.ResetCarry(view.ZH, Param(Names.HInit), view.Halted, rows, t, c);
        _b.ResetCarry(view.ZL, Param(Names.LInit), view.Halted, rows, t, c);
    }

    /// <summary>
    /// One no-grad segment on the first <paramref name="rows"/> rows (their carry, staged inputs), as one recorded
    /// sequence (<see cref="IHrmBackend.RunRecorded"/>: a CUDA graph per row count, replayed every segment).
    /// </summary>
    internal void SegmentRows(int rows)
    {
        Workspace view = RowView(rows);
        Workspace ws = _ws!;
        if (!ReferenceEquals(_segmentRowsOf, ws))
        {
            _segmentRows = new Action?[ws.Batch + 1];
            _segmentRowsOf = ws;
        }
        _b.RunRecorded(_segmentRows[rows] ??= () => SegmentOn(view));
    }

    /// <summary>The segment of <see cref="SegmentRows"/> on a row view: device ops only, same ones every call.</summary>
    private void SegmentOn(Workspace view)
    {
        _rowView = view;
        try
        {
            Segment(view.ZH, view.ZL, record: false, view.Logits, view.Q);
        }
        finally
        {
            _rowView = null;
        }
    }

    /// <summary>Copies row <paramref name="from"/>'s carry (z_H, z_L) over row <paramref name="to"/>'s.</summary>
    internal void MoveRow(int from, int to)
    {
        Workspace ws = Ws;
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)from, (uint)ws.Batch, nameof(from));
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)to, (uint)ws.Batch, nameof(to));
        long row = (long)Config.TotalSeqLen * Config.HiddenSize;
        _b.Copy(ws.ZH.Slice(to * row, row), ws.ZH.Slice(from * row, row));
        _b.Copy(ws.ZL.Slice(to * row, row), ws.ZL.Slice(from * row, row));
    }

    /// <summary>Copies the Q logits (rows, 2) [halt, continue] of the first rows' last segment to the host.</summary>
    internal void ReadQRows(int rows, Span<float> dst) => _b.Download(RowView(rows).Q, dst);

    /// <summary>Copies the logits (rows, L, V) of the first rows' last segment to the host.</summary>
    internal void ReadLogitsRows(int rows, Span<float> dst) => _b.Download(RowView(rows).Logits, dst);

    private Workspace RowView(int rows)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Workspace ws = _ws ?? throw new InvalidOperationException("call Reserve(batch, training) first");
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(rows, ws.Batch);
        if (rows == ws.Batch) return ws;
        if (!ReferenceEquals(_rowViewsOf, ws))
        {
            _rowViews = new Workspace?[ws.Batch];
            _rowViewsOf = ws;
        }
        return _rowViews[rows] ??= new Workspace(ActivationPlan.RowsOf(Plan!), Config, rows, training: false, ws.Bf16Intermediates,
            ws.Bf16Qkv, ws.Bf16Stream);
    }
}
