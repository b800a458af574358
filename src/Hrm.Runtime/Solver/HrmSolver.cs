using Hrm.Runtime.Backends;
using Hrm.Runtime.Config;
using Hrm.Runtime.Model;

namespace Hrm.Runtime.Solver;

/// <summary>
/// A trained HRM checkpoint, ready to solve puzzles:
/// <code>
/// using var solver = HrmSolver.Load("model.safetensors");
/// SudokuResult r = solver.Solve(SudokuGrid.Parse("8..........36......7..9.2...5...7.......457.....1...3...1....68..85...1..9....4.."));
/// Console.WriteLine($"{r.Answer}\nvalid: {r.IsValid}, {r.Segments} segments");
/// </code>
/// Every Solve/Predict call, from any number of threads at once, goes to one scheduler that owns the model and
/// <see cref="SolverOptions.BatchSlots"/> batch rows: queued puzzles take free rows at each segment, finished ones
/// leave at once (see <see cref="HaltingPolicy"/>), and the model runs only on the rows still working. A puzzle's
/// answer does not depend on which other puzzles share the batch. Dispose to free the model; calls still waiting
/// then fail with <see cref="ObjectDisposedException"/>.
/// </summary>
public sealed partial class HrmSolver : IDisposable
{
    private readonly HrmModel _model;
    private readonly SolverEngine _engine;
    private int _disposed; // 1 once Dispose began (Interlocked): only one thread stops the engine and frees the model

    private HrmSolver(HrmModel model, SolverOptions options, string device, string checkpointPath)
    {
        HaltingPolicy policy = HaltingPolicy.For(model.Config, options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSlots, 1, nameof(options.BatchSlots));
        _model = model;
        _engine = new SolverEngine(model, policy, options.BatchSlots);
        Device = device;
        CheckpointPath = checkpointPath;
    }

    /// <summary>The checkpoint file this solver was loaded from.</summary>
    public string CheckpointPath { get; }

    /// <summary>The checkpoint's architecture.</summary>
    public HrmConfig Config => _model.Config;

    /// <summary>The model (tests: the backend it runs on).</summary>
    internal HrmModel Model => _model;

    /// <summary>When puzzles stop (mode, max and min segments, margin).</summary>
    public HaltingPolicy Halting => _engine.Policy;

    /// <summary>Rows the model runs together.</summary>
    public int BatchSlots => _engine.Slots;

    /// <summary>The device in words (e.g. "device: cpu (2 threads, 256-bit vectors: AVX2 + FMA)"; for Auto on a CPU
    /// machine, why CUDA was not used).</summary>
    public string Device { get; }

    /// <summary>
    /// Loads a safetensors checkpoint (written by <c>hrm train</c>, or converted from the reference with
    /// <see cref="SolverOptions.Config"/> giving its architecture) onto <see cref="SolverOptions.Device"/>.
    /// </summary>
    /// <exception cref="Formats.HrmFormatException">The file is not a checkpoint of a valid architecture (the message
    /// names the tensor or field).</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="Backends.Cuda.CudaUnavailableException">Device Cuda on a machine where CUDA cannot run.</exception>
    public static HrmSolver Load(string checkpointPath, SolverOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(checkpointPath);
        options ??= new SolverOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(options.Threads, nameof(options.Threads));
        ArgumentOutOfRangeException.ThrowIfNegative(options.GpuOrdinal, nameof(options.GpuOrdinal));
        string device = options.Device switch
        {
            SolverDevice.Auto => "auto",
            SolverDevice.Cpu => "cpu",
            SolverDevice.Cuda => "cuda",
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Device, "unknown device"),
        };
        IHrmBackend backend = BackendFactory.Create(device, options.Threads,
            new Backends.Cuda.CudaBackendOptions
            {
                Bf16Matmul = options.Bf16Matmul,
                Bf16Stream = options.Bf16Stream,
                FusedModuleMaxRows = options.FusedModule && options.Bf16Matmul
                    ? Backends.Cuda.CudaBackendOptions.FusedModuleDefaultRows : 0,
                DeviceOrdinal = options.GpuOrdinal,
            }, out string notice);
        return Load(checkpointPath, options, backend, notice);
    }

    /// <summary>
    /// <see cref="Load(string, SolverOptions?)"/> onto a backend the caller created (the CLI's <c>--device</c>,
    /// which also offers the reference backend); the solver owns it from now on, and frees it if loading fails.
    /// </summary>
    internal static HrmSolver Load(string checkpointPath, SolverOptions options, IHrmBackend backend, string device)
    {
        HrmModel? model = null;
        try
        {
            model = HrmCheckpoint.Load(checkpointPath, backend, options.Config);
            return new HrmSolver(model, options, device, checkpointPath);
        }
        catch
        {
            if (model != null) model.Dispose();
            else backend.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The low-level entry: runs token rows (rows·L tokens in [0, V), row-major) with their puzzle identifiers
    /// (rows, in [0, num_puzzle_identifiers)) and returns, per row in order, the argmax tokens, Q logits and
    /// segments used. Each row starts from the initial carry, exactly as the reference's evaluation does.
    /// </summary>
    /// <exception cref="ArgumentException">Lengths disagree or a value is out of range (row and position named).</exception>
    public TokenPrediction[] Predict(ReadOnlySpan<int> tokens, ReadOnlySpan<int> puzzleIds) =>
        PredictAsync(tokens, puzzleIds, CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>
    /// <see cref="Predict"/> without blocking; the inputs are checked and copied before this returns.
    /// Cancelling removes the rows from the batch at the next segment and cancels the task.
    /// </summary>
    public Task<TokenPrediction[]> PredictAsync(ReadOnlySpan<int> tokens, ReadOnlySpan<int> puzzleIds,
        CancellationToken cancellationToken = default) => PredictAsync(tokens, puzzleIds, null, cancellationToken);

    /// <summary><see cref="PredictAsync(ReadOnlySpan{int}, ReadOnlySpan{int}, CancellationToken)"/> with its own
    /// halting policy (<c>hrm eval</c> compares policies on one loaded model); null = <see cref="Halting"/>.</summary>
    internal Task<TokenPrediction[]> PredictAsync(ReadOnlySpan<int> tokens, ReadOnlySpan<int> puzzleIds,
        HaltingPolicy? halting, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _engine.Submit(tokens, puzzleIds, halting, cancellationToken);
    }

    /// <summary>Stops the scheduler and frees the model; idempotent, and safe from several threads at once (one of
    /// them stops the scheduler's thread, waiting for it, before the model is freed).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try
        {
            _engine.Dispose();
        }
        finally
        {
            _model.Dispose();
        }
    }
}
