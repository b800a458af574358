using Hrm.Runtime.Backends.Cuda.Interop;

namespace Hrm.Runtime.Backends.Cuda;

/// <summary>
/// Device time per op inside a CUDA graph, for benchmarks (<see cref="CudaBackend.StartOpTimeline"/>): while the
/// backend captures a graph, an event node opens it and every op that ends records another after its work
/// (<see cref="CudaEvent.RecordInGraph"/>), named after the op; every replay records those events again. A replay of
/// that graph between <see cref="BeginReplay"/> and <see cref="EndReplay"/> adds the time from each event to the next
/// to the op that ends there: its kernels and the gap before them inside the graph, as the graph spends them (the
/// <see cref="CudaBackendOptions.SynchronizeEachOp"/> profile adds a launch and a wait to every op instead, which at
/// batch 1 are most of its time; the graph's own launch is in neither). The event nodes cost a little each, so a graph
/// with them is somewhat slower than without. Follows the graph captured last; allocates events while a graph is
/// captured and nothing during replays.
/// </summary>
internal sealed class GraphOpTimeline : IDisposable
{
    private readonly CudaPrimaryContext _context;
    private readonly CudaStream _stream;
    private readonly List<CudaEvent> _events = []; // [0]: the graph's first node; [i]: after op _ops[i - 1] (pooled)
    private readonly List<string> _ops = [];       // (marks) the op names of the graph captured last, in order
    private readonly Dictionary<string, (long Calls, double Ms)> _totals = [];
    private CudaGraphExec? _followed;               // the graph captured last with these marks, until it is dropped
    private int _launches = -1;                      // launches of _followed since BeginReplay (-1: none begun)
    private bool _disposed;

    internal GraphOpTimeline(CudaPrimaryContext context, CudaStream stream)
    {
        _context = context;
        _stream = stream;
        _events.Add(CudaEvent.Create(context));
    }

    /// <summary>Event nodes after ops in the graph captured last (one per op that ended during its capture).</summary>
    public int Marks => _ops.Count;

    /// <summary>The ops those event nodes follow, in the graph's order.</summary>
    internal IReadOnlyList<string> MarkNames => _ops;

    /// <summary>Replays measured so far.</summary>
    public int Replays { get; private set; }

    /// <summary>A capture begins (the stream is capturing): the event node that opens the graph.</summary>
    internal void CaptureStarted()
    {
        ClearMarks();
        _events[0].RecordInGraph(_stream);
    }

    /// <summary>A capture is abandoned, or begins: forgets the previous graph's marks (not the totals).</summary>
    internal void ClearMarks()
    {
        _ops.Clear();
        _followed = null;
    }

    /// <summary>After op <paramref name="op"/>: an event node when the stream is capturing, else nothing.</summary>
    internal void Mark(string op)
    {
        if (!_stream.Capturing) return;
        if (_events.Count == _ops.Count + 1) _events.Add(CudaEvent.Create(_context));
        _events[_ops.Count + 1].RecordInGraph(_stream);
        _ops.Add(op);
    }

    /// <summary>The capture that recorded the current marks became <paramref name="exec"/>.</summary>
    internal void Captured(CudaGraphExec exec) => _followed = exec;

    /// <summary><paramref name="exec"/> was launched on the stream.</summary>
    internal void Launched(CudaGraphExec exec)
    {
        if (ReferenceEquals(exec, _followed) && _launches >= 0) _launches++;
    }

    /// <summary>Starts counting launches of the followed graph: call before the ops that replay it.</summary>
    public void BeginReplay()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _launches = 0;
    }

    /// <summary>
    /// After the replay: waits for its last event and adds each op's time (from the event before it) to the totals.
    /// Throws unless the graph captured last ran exactly once since <see cref="BeginReplay"/> (its events would be
    /// another run's, or none).
    /// </summary>
    public void EndReplay()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int launches = _launches;
        _launches = -1;
        if (_followed is null || _ops.Count == 0)
            throw new InvalidOperationException("the op timeline has no captured graph to read");
        if (launches != 1)
        {
            throw new InvalidOperationException(launches < 0 ? "EndReplay without BeginReplay"
                : $"the graph the op timeline follows ran {launches} times since BeginReplay, not once");
        }
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
