using Hrm.Runtime.Backends.Cuda.Interop;

namespace Hrm.Runtime.Backends.Cuda;

/// <summary>
/// Device time per op inside a CUDA graph, for benchmarks (<see cref="CudaBackend.StartOpTimeline"/>): while the
/// backend captures a graph, every op that ends records an event node of the graph after its work
/// (<see cref="CudaEvent.RecordInGraph"/>), named after the op; every replay records those events again. A replay
/// between <see cref="BeginReplay"/> (an event on the stream just before the graph's launch) and
/// <see cref="EndReplay"/> adds the time from each event to the next to the op that ends there: its kernels and the
/// gap before them, as the graph spends them (the <see cref="CudaBackendOptions.SynchronizeEachOp"/> profile adds a
/// launch and a wait to every op instead, which at batch 1 are most of its time). The event nodes cost a little each,
/// so the sum is somewhat above the graph's time without them. Follows the graph captured last; allocates events
/// while a graph is captured and nothing during replays.
/// </summary>
internal sealed class GraphOpTimeline : IDisposable
{
    private readonly CudaPrimaryContext _context;
    private readonly CudaStream _stream;
    private readonly List<CudaEvent> _events = []; // [0]: the start; [i]: after op _ops[i - 1] (pooled)
    private readonly List<string> _ops = [];       // (marks) the op names of the graph captured last, in order
    private readonly Dictionary<string, (long Calls, double Ms)> _totals = [];
    private bool _disposed;

    internal GraphOpTimeline(CudaPrimaryContext context, CudaStream stream)
    {
        _context = context;
        _stream = stream;
        _events.Add(CudaEvent.Create(context));
    }

    /// <summary>Event nodes in the graph captured last (one per op that ended during its capture).</summary>
    public int Marks => _ops.Count;

    /// <summary>Replays measured so far.</summary>
    public int Replays { get; private set; }

    /// <summary>A capture begins or is abandoned: forgets the marks of the graph before (not the totals).</summary>
    internal void ClearMarks() => _ops.Clear();

    /// <summary>After op <paramref name="op"/>: an event node when the stream is capturing, else nothing.</summary>
    internal void Mark(string op)
    {
        if (!_stream.Capturing) return;
        if (_events.Count == _ops.Count + 1) _events.Add(CudaEvent.Create(_context));
        _events[_ops.Count + 1].RecordInGraph(_stream);
        _ops.Add(op);
    }

    /// <summary>Records the start event on the stream: call just before the ops that replay the graph.</summary>
    public void BeginReplay()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_stream.Capturing) throw new InvalidOperationException("the op timeline starts a replay, not a capture");
        _events[0].Record(_stream);
    }

    /// <summary>
    /// After the replay: waits for its last event and adds each op's time (from the event before it) to the totals.
    /// Throws when no graph with marks was captured.
    /// </summary>
    public void EndReplay()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_ops.Count == 0) throw new InvalidOperationException("the op timeline has no captured graph to read");
        _events[_ops.Count].Synchronize();
        for (int i = 0; i < _ops.Count; i++)
        {
            double ms = CudaEvent.ElapsedMilliseconds(_events[i], _events[i + 1]);
            (long calls, double sum) = _totals.GetValueOrDefault(_ops[i]);
            _totals[_ops[i]] = (calls + 1, sum + ms);
        }
        Replays++;
    }

    /// <summary>(op, calls, total ms) over the replays measured, most time first.</summary>
    public IReadOnlyList<(string Op, long Calls, double Ms)> Totals()
    {
        var rows = new List<(string Op, long Calls, double Ms)>();
        foreach (var (op, (calls, ms)) in _totals) rows.Add((op, calls, ms));
        rows.Sort((a, b) => b.Ms.CompareTo(a.Ms));
        return rows;
    }

    /// <summary>Frees the events (the backend drops its graphs first: they record them).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (CudaEvent e in _events) e.Dispose();
        _events.Clear();
    }
}
