namespace Hrm.Runtime.Threading;

/// <summary>
/// A fixed set of worker threads with static task assignment: task i of a job always runs on thread
/// i mod ThreadCount, so results are deterministic for a given thread count. Dispatch allocates nothing:
/// the job is an unmanaged struct on the caller's stack, reached through a function pointer, and the caller
/// runs its own share and waits for the workers. One job at a time (not reentrant).
/// </summary>
public sealed unsafe class WorkerPool : IDisposable
{
    private readonly Thread[] _threads;
    // One start signal per worker: a shared semaphore released N times lets a fast worker take a second
    // signal in the same job (running its share twice) while another worker's share never runs.
    private readonly SemaphoreSlim[] _start;
    private readonly Lock _dispatchLock = new();
    private volatile int _pending;
    private volatile bool _disposed;
    private delegate*<void*, int, void> _body;
    private void* _state;
    private int _count;
    private Exception? _failure;

    /// <summary>Most threads a pool takes: more than any machine's cores, few enough that their stacks fit (100,000
    /// threads made the runtime abort with "Out of memory" before any check could report it).</summary>
    public const int MaxThreads = 1024;

    /// <summary>Creates a pool running on <paramref name="threads"/> threads (the caller counts as one), 1 to
    /// <see cref="MaxThreads"/>.</summary>
    public WorkerPool(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(threads, MaxThreads);
        ThreadCount = threads;
        _threads = new Thread[threads - 1];
        _start = new SemaphoreSlim[threads - 1];
        for (int i = 0; i < _start.Length; i++) _start[i] = new SemaphoreSlim(0);
        for (int i = 0; i < _threads.Length; i++)
        {
            int worker = i + 1;
            _threads[i] = new Thread(() => WorkerLoop(worker))
            {
                IsBackground = true,
                Name = $"hrm-worker-{worker}",
            };
            _threads[i].Start();
        }
    }

    /// <summary>Threads that run tasks, the calling thread included.</summary>
    public int ThreadCount { get; }

    /// <summary>A pool sized to the machine: <see cref="DefaultThreads"/>.</summary>
    public static WorkerPool CreateDefault() => new(DefaultThreads);

    /// <summary>One thread per logical processor, at most <see cref="MaxThreads"/>.</summary>
    public static int DefaultThreads => Math.Min(Environment.ProcessorCount, MaxThreads);

    /// <summary>Runs <paramref name="count"/> tasks of <paramref name="job"/> and returns when all are done.</summary>
    public void Run<TJob>(TJob* job, int count) where TJob : unmanaged, IParallelJob
    {
        if (count <= 0) return;
        if (ThreadCount == 1 || count == 1)
        {
            for (int i = 0; i < count; i++) job->Execute(i);
            return;
        }
        lock (_dispatchLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _body = &Invoke<TJob>;
            _state = job;
            _count = count;
            _failure = null;
            _pending = _threads.Length;
            foreach (SemaphoreSlim s in _start) s.Release();
            Exception? own = null;
            try
            {
                RunShare(0);
            }
            catch (Exception e)
            {
                own = e;
            }
            var spin = new SpinWait();
            while (_pending != 0) spin.SpinOnce(sleep1Threshold: -1);
            Exception? failure = own ?? _failure;
            _state = null;
            if (failure != null) throw new AggregateException("a parallel task failed", failure);
        }
    }

    private static void Invoke<TJob>(void* state, int index) where TJob : unmanaged, IParallelJob
        => ((TJob*)state)->Execute(index);

    private void RunShare(int thread)
    {
        for (int i = thread; i < _count; i += ThreadCount) _body(_state, i);
    }

    private void WorkerLoop(int thread)
    {
        while (true)
        {
            _start[thread - 1].Wait();
            if (_disposed) return;
            try
            {
                RunShare(thread);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, e, null);
            }
            Interlocked.Decrement(ref _pending);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed) return;
        lock (_dispatchLock)
        {
            _disposed = true;
            foreach (SemaphoreSlim s in _start) s.Release();
        }
        foreach (Thread t in _threads) t.Join();
        foreach (SemaphoreSlim s in _start) s.Dispose();
    }
}
