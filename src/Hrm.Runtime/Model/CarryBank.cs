using Hrm.Runtime.Backends;
using Hrm.Runtime.Memory;

namespace Hrm.Runtime.Model;

/// <summary>
/// The ACT carry of a whole batch (B rows) where the model runs, for a training step taken in micro-batches of b
/// rows (Hrm.Train's TrainingStep): the model's workspace holds one micro-batch, and before each micro-batch its
/// rows of the carry are copied in (<see cref="Load"/>) and after it copied back (<see cref="Store"/>), on the
/// device (z_H, z_L by <see cref="IHrmBackend.Copy"/>, the int bookkeeping by <see cref="IHrmBackend.SelectRows"/>
/// under an all-ones mask), so nothing is read back. Also the step's puzzle ids and per-row puzzle-embedding
/// gradients of all B rows, which SignSGD takes once per step (a puzzle in two micro-batches gets sign(Σg), as in
/// one batch).
/// </summary>
internal sealed class CarryBank : IDisposable
{
    private readonly IHrmBackend _b;
    private readonly int _rows, _t, _c, _l, _pd;
    private readonly Buf _floats, _ints;

    /// <summary>A fresh carry of <paramref name="batch"/> rows (every row halted, as <see cref="ActState"/> starts)
    /// for micro-batches of <paramref name="microBatch"/> rows.</summary>
    public CarryBank(IHrmBackend backend, int batch, int microBatch, int t, int c, int l, int pd)
    {
        _b = backend;
        _rows = microBatch;
        (_t, _c, _l, _pd) = (t, c, l, pd);
        long zRows = (long)batch * t * c;
        _floats = backend.Allocate(2 * zRows + (long)batch * pd, $"micro-batch carry (B={batch})");
        ZH = _floats.Slice(0, zRows);
        ZL = _floats.Slice(zRows, zRows);
        PuzzleRowsGrad = _floats.Slice(2 * zRows, (long)batch * pd);
        try
        {
            // Separate int regions: each keeps its own recorded value range on the GPU (token and id checks).
            Halted = backend.AllocateInts(batch, "micro-batch carry: halted");
            Steps = backend.AllocateInts(batch, "micro-batch carry: steps");
            Tokens = backend.AllocateInts((long)batch * l, "micro-batch carry: tokens");
            Labels = backend.AllocateInts((long)batch * l, "micro-batch carry: labels");
            PuzzleIds = backend.AllocateInts(batch, "micro-batch carry: puzzle ids");
            _ints = backend.AllocateInts(microBatch, "micro-batch all-ones mask");
        }
        catch
        {
            Dispose(); // out of memory part way
            throw;
        }
        var ones = new int[microBatch];
        Array.Fill(ones, 1);
        backend.UploadInts(ones, _ints);
        var halted = new int[batch];
        Array.Fill(halted, 1);
        backend.UploadInts(halted, Halted);
    }

    public Buf ZH { get; }             // (B, T, C) carry z_H
    public Buf ZL { get; }             // (B, T, C) carry z_L
    public Buf PuzzleRowsGrad { get; } // (B, Pd) this step's per-row puzzle-embedding gradients
    public Buf Halted { get; }         // (B) int
    public Buf Steps { get; }          // (B) int
    public Buf Tokens { get; }         // (B, L) int
    public Buf Labels { get; }         // (B, L) int
    public Buf PuzzleIds { get; }      // (B) int: the carry's data ids, after a step also the step's ids

    /// <summary>Micro-batch <paramref name="chunk"/>'s rows of the carry into the model's workspace.</summary>
    public void Load(HrmModel model, int chunk)
    {
        Workspace ws = model.Ws;
        _b.Copy(ws.ZH, Z(ZH, chunk));
        _b.Copy(ws.ZL, Z(ZL, chunk));
        CopyInts(ws.Halted, Rows(Halted, chunk, 1), 1);
        CopyInts(ws.Steps, Rows(Steps, chunk, 1), 1);
        CopyInts(ws.Tokens, Rows(Tokens, chunk, _l), _l);
        CopyInts(ws.Labels, Rows(Labels, chunk, _l), _l);
        CopyInts(ws.PuzzleIds, Rows(PuzzleIds, chunk, 1), 1);
    }

    /// <summary>The workspace's carry back into micro-batch <paramref name="chunk"/>'s rows, with the puzzle-row
    /// gradients of its backward (when <paramref name="withGrads"/>).</summary>
    public void Store(HrmModel model, int chunk, bool withGrads)
    {
        Workspace ws = model.Ws;
        _b.Copy(Z(ZH, chunk), ws.ZH);
        _b.Copy(Z(ZL, chunk), ws.ZL);
        CopyInts(Rows(Halted, chunk, 1), ws.Halted, 1);
        CopyInts(Rows(Steps, chunk, 1), ws.Steps, 1);
        CopyInts(Rows(Tokens, chunk, _l), ws.Tokens, _l);
        CopyInts(Rows(Labels, chunk, _l), ws.Labels, _l);
        CopyInts(Rows(PuzzleIds, chunk, 1), ws.PuzzleIds, 1);
        if (withGrads && _pd > 0)
            _b.Copy(PuzzleRowsGrad.Slice((long)chunk * _rows * _pd, (long)_rows * _pd), model.PuzzleRowsGrad);
    }

    /// <summary>dst = src, <see cref="_rows"/> rows of <paramref name="width"/> ints.</summary>
    private void CopyInts(Buf dst, Buf src, int width) => _b.SelectRows(dst, src, _ints, _rows, width);

    private Buf Z(Buf z, int chunk) => z.Slice((long)chunk * _rows * _t * _c, (long)_rows * _t * _c);

    private Buf Rows(Buf b, int chunk, int width) => b.Slice((long)chunk * _rows * width, (long)_rows * width);

    public void Dispose()
    {
        foreach (Buf b in new[] { _floats, Halted, Steps, Tokens, Labels, PuzzleIds, _ints })
        {
            if (!b.IsEmpty) _b.Free(b);
        }
    }
}
