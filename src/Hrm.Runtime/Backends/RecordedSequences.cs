namespace Hrm.Runtime.Backends;

/// <summary>
/// The bookkeeping behind <see cref="IHrmBackend.RunRecorded"/> for a backend that can record a sequence of its ops
/// and replay the recording (the CUDA backend: a CUDA graph). Per sequence (keyed by the delegate instance): the
/// first call runs the ops one by one (warm-up: scratch buffers grow, GEMM plans are made), the second records them
/// and replays the recording, later calls replay it. A recording is replayed only while the backend's memory epoch
/// is the one it was recorded in (addresses it holds are still valid); otherwise it is dropped and the sequence warms
/// up again. A recording abandoned because memory had to grow is retried on the next call; one that fails for any
/// other reason (<see cref="RecordingFailedException"/>) leaves that sequence running op by op for good, with the
/// reason in <see cref="Fallbacks"/>. Not thread-safe, like the backends.
/// </summary>
/// <typeparam name="TRecording">The backend's recording (owned here: disposed when dropped).</typeparam>
internal sealed class RecordedSequences<TRecording> : IDisposable where TRecording : class, IDisposable
{
    private readonly Dictionary<Action, Entry> _entries = new(ReferenceEqualityComparer.Instance);
    private readonly Func<Action, TRecording?> _record;
    private readonly Action<TRecording> _replay;
    private readonly Func<long> _epoch;
    private readonly List<string> _fallbacks = [];

    /// <param name="record">Records the ops of a sequence without running them; null when recording was abandoned
    /// because a buffer had to grow (the ops then run op by op, which grows it); throws
    /// <see cref="RecordingFailedException"/> when the sequence cannot be recorded, any other exception when the ops
    /// themselves fail (after ending the recording).</param>
    /// <param name="replay">Queues a recording.</param>
    /// <param name="epoch">The backend's memory epoch: changes whenever an address a recording may hold is freed
    /// or replaced.</param>
    public RecordedSequences(Func<Action, TRecording?> record, Action<TRecording> replay, Func<long> epoch)
    {
        _record = record;
        _replay = replay;
        _epoch = epoch;
    }

    /// <summary>Recordings alive now.</summary>
    public int Count
    {
        get
        {
            int n = 0;
            foreach (Entry e in _entries.Values) n += e.Recording != null ? 1 : 0;
            return n;
        }
    }

    /// <summary>How many times a recording was replayed.</summary>
    public long Replays { get; private set; }

    /// <summary>Why sequences run op by op for good (one line per sequence that failed to record).</summary>
    public IReadOnlyList<string> Fallbacks => _fallbacks;

    /// <summary>Runs <paramref name="ops"/> (first call), records and replays it (second), or replays it.</summary>
    public void Run(Action ops)
    {
        ArgumentNullException.ThrowIfNull(ops);
        if (!_entries.TryGetValue(ops, out Entry? e))
        {
            e = new Entry();
            _entries.Add(ops, e);
        }
        if (e.Failed)
        {
            ops();
            return;
        }
        if (e.Recording != null)
        {
            if (e.Epoch == _epoch())
            {
                _replay(e.Recording);
                Replays++;
                return;
            }
            e.Recording.Dispose();
            e.Recording = null;
            e.Warm = false;
        }
        if (!e.Warm)
        {
            ops();
            e.Warm = true;
            return;
        }
        long before = _epoch();
        TRecording? recording;
        try
        {
            recording = _record(ops);
        }
        catch (RecordingFailedException failure)
        {
            e.Failed = true;
            _fallbacks.Add(failure.Message);
            ops();
            return;
        }
        if (recording == null || _epoch() != before)
        {
            recording?.Dispose();
            ops();
            return;
        }
        e.Recording = recording;
        e.Epoch = before;
        _replay(recording);
        Replays++;
    }

    /// <summary>Drops every recording and forgets every sequence (each warms up again on its next call).</summary>
    public void Clear()
    {
        foreach (Entry e in _entries.Values) e.Recording?.Dispose();
        _entries.Clear();
    }

    /// <inheritdoc/>
    public void Dispose() => Clear();

    private sealed class Entry
    {
        public TRecording? Recording { get; set; }

        public long Epoch { get; set; }

        public bool Warm { get; set; }

        public bool Failed { get; set; }
    }
}

/// <summary>A sequence of ops could not be recorded (the message says which call refused and why).</summary>
public sealed class RecordingFailedException : Exception
{
    /// <summary>Creates the exception with the failure that stopped the recording.</summary>
    public RecordingFailedException(string message, Exception inner) : base(message, inner)
    {
    }

    /// <summary>Creates the exception with no message.</summary>
    public RecordingFailedException() : base("the op sequence could not be recorded")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public RecordingFailedException(string message) : base(message)
    {
    }
}
