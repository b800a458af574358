using Hrm.Runtime.Backends;
using Hrm.Runtime.Model;
using Hrm.Runtime.Numerics;

namespace Hrm.Runtime.Solver;

/// <summary>
/// The scheduler behind <see cref="HrmSolver"/> and <c>hrm eval --halting</c>: one thread owns the model and its
/// B batch slots; callers on any thread queue jobs (<see cref="Submit"/>). Each iteration: rows of cancelled jobs
/// leave the batch, free slots take queued rows (continuous batching; a new row starts from H_init/L_init exactly
/// as <see cref="HrmModel.ActStep(ActState, ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{int}, bool, Numerics.HrmRandom?, int)"/> resets a halted row), every active row runs one segment, the
/// <see cref="HaltingPolicy"/> decides which rows are done, those complete their job, and the batch is compacted
/// so the next segment runs only on the n rows still active (<see cref="HrmModel.SegmentRows"/>).
/// </summary>
internal sealed class SolverEngine : IDisposable
{
    private readonly HrmModel _model;
    private readonly BatchSlots _slots;
    private readonly Queue<SolveJob> _queue = new();
    private readonly object _gate = new();
    private readonly Thread _thread;
    private readonly float[] _q;            // (B, 2) [halt, continue]
    private readonly float[] _logits;       // (B, L, V)
    private readonly bool[] _done;          // (B)
    private bool _stopping;
    private Exception? _fault;

    /// <summary>Reserves <paramref name="slots"/> inference rows on <paramref name="model"/> and starts the thread.</summary>
    public SolverEngine(HrmModel model, HaltingPolicy policy, int slots)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        _model = model;
        Policy = policy;
        model.Reserve(slots, training: false);
        _slots = new BatchSlots(model);
        int l = model.Config.SeqLen, v = model.Config.VocabSize;
        _q = new float[2 * slots];
        _logits = new float[(long)slots * l * v];
        _done = new bool[slots];
        _thread = new Thread(Run) { IsBackground = true, Name = "hrm-solver" };
        _thread.Start();
    }

    /// <summary>When rows halt unless a job brings its own policy.</summary>
    public HaltingPolicy Policy { get; }

    /// <summary>Rows run together (B).</summary>
    public int Slots => _slots.Capacity;

    /// <summary>
    /// Queues token rows (rows·L values in [0, V)) with their puzzle identifiers (rows, in [0, NP)); the task
    /// completes with one prediction per row in row order. Inputs are checked and copied before this returns.
    /// The rows halt by <paramref name="policy"/>, or by <see cref="Policy"/> when it is null.
    /// </summary>
    /// <exception cref="ArgumentException">Lengths or values out of range (the message names row and position).</exception>
    /// <exception cref="ObjectDisposedException">The solver was disposed.</exception>
    /// <exception cref="InvalidOperationException">The engine stopped after an error (the inner exception).</exception>
    public Task<TokenPrediction[]> Submit(ReadOnlySpan<int> tokens, ReadOnlySpan<int> puzzleIds, HaltingPolicy? policy,
        CancellationToken ct)
    {
        int l = _model.Config.SeqLen;
        if ((long)puzzleIds.Length * l != tokens.Length)
        {
            throw new ArgumentException(
                $"inputs: {puzzleIds.Length} puzzle identifiers need {puzzleIds.Length}·{l} = {(long)puzzleIds.Length * l} " +
                $"tokens (seq_len {l} per row), got {tokens.Length}", nameof(tokens));
        }
        _model.CheckInputValues(tokens, puzzleIds);
        if (ct.IsCancellationRequested) return Task.FromCanceled<TokenPrediction[]>(ct);
        if (puzzleIds.IsEmpty) return Task.FromResult(Array.Empty<TokenPrediction>());
        var job = new SolveJob(tokens.ToArray(), puzzleIds.ToArray(), policy ?? Policy);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stopping, typeof(HrmSolver));
            if (_fault != null) throw new InvalidOperationException($"the solver stopped after an error: {_fault.Message}", _fault);
            job.CancelOn(ct);
            _queue.Enqueue(job);
            Monitor.Pulse(_gate);
        }
        return job.Task;
    }

    /// <summary>Stops the thread; queued and running jobs fail with <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_stopping) return;
            _stopping = true;
            Monitor.Pulse(_gate);
        }
        if (Thread.CurrentThread != _thread) _thread.Join();
    }

    private void Run()
    {
        Exception? error = null;
        // The engine owns the model and never writes its parameters: the backend may keep what it derives from
        // the weights for the whole run.
        IHrmBackend backend = _model.Backend; // read once: the solver frees the model only after this thread ends
        backend.BeginWeightReuse();
        try
        {
            while (true)
            {
                DropFinishedJobs();
                lock (_gate)
                {
                    while (!_stopping && _slots.Count == 0 && _queue.Count == 0) Monitor.Wait(_gate);
                    if (_stopping) break;
                    Admit();
                }
                if (_slots.Count > 0) Step();
            }
        }
#pragma warning disable CA1031 // the engine thread must hand any failure to the waiting callers, not crash the process
        catch (Exception e)
#pragma warning restore CA1031
        {
            error = e;
        }
        finally
        {
            backend.EndWeightReuse();
        }
        lock (_gate)
        {
            _fault = error;
            error ??= new ObjectDisposedException(nameof(HrmSolver), "the solver was disposed");
            _slots.FailAll(error);
            while (_queue.TryDequeue(out SolveJob? job)) job.Fail(error);
        }
    }

    /// <summary>Rows whose job was cancelled (or failed) leave the batch.</summary>
    private void DropFinishedJobs()
    {
        for (int s = _slots.Count - 1; s >= 0; s--)
        {
            if (_slots.Job(s).IsFinished) _slots.Remove(s);
        }
    }

    /// <summary>Fills free slots with queued rows, in order (under the lock).</summary>
    private void Admit()
    {
        while (_slots.Count < _slots.Capacity && _queue.TryPeek(out SolveJob? job))
        {
            if (job.IsFinished || job.NextRow == job.Rows)
            {
                _queue.Dequeue();
                continue;
            }
            _slots.Admit(job);
        }
    }

    /// <summary>One segment on the active rows, then completions and compaction.</summary>
    private void Step()
    {
        int n = _slots.Count, l = _model.Config.SeqLen, v = _model.Config.VocabSize;
        if (_slots.AnyFresh)
        {
            _model.ResetRows(n, _slots.Fresh.AsSpan(0, n));
            Array.Clear(_slots.Fresh);
            _slots.AnyFresh = false;
        }
        if (_slots.InputsChanged)
        {
            _model.SetInputRows(n, _slots.Tokens.AsSpan(0, n * l), _slots.PuzzleIds.AsSpan(0, n));
            _slots.InputsChanged = false;
        }
        _model.SegmentRows(n);
        Span<float> q = _q.AsSpan(0, 2 * n);
        Span<float> logits = _logits.AsSpan(0, n * l * v);
        _model.ReadQRows(n, q);
        _model.ReadLogitsRows(n, logits);
        for (int s = 0; s < n; s++)
        {
            int steps = ++_slots.Steps[s];
            if (UpdatePrediction(s, logits.Slice(s * l * v, l * v), v)) _slots.StableSince[s] = steps;
            _done[s] = _slots.Job(s).Policy.ShouldHalt(q[2 * s], q[2 * s + 1], steps);
        }
        for (int s = n - 1; s >= 0; s--)
        {
            if (!_done[s]) continue;
            _slots.Complete(s, q[2 * s], q[2 * s + 1]);
            _slots.Remove(s);
        }
    }

    /// <summary>Writes the argmax of every position of slot <paramref name="s"/>; true when any token changed.</summary>
    private bool UpdatePrediction(int s, ReadOnlySpan<float> rowLogits, int v)
    {
        Span<int> predicted = _slots.Predicted.AsSpan(s * (rowLogits.Length / v), rowLogits.Length / v);
        bool changed = false;
        for (int i = 0; i < predicted.Length; i++)
        {
            int token = Logits.ArgMax(rowLogits.Slice(i * v, v));
            changed |= token != predicted[i];
            predicted[i] = token;
        }
        return changed;
    }
}
