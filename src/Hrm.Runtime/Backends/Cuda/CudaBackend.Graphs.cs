using Hrm.Runtime.Backends.Cuda.Interop;

namespace Hrm.Runtime.Backends.Cuda;

/// <summary>
/// <see cref="RunRecorded"/> as CUDA graphs (<see cref="CudaBackendOptions.Graphs"/>): a sequence is captured on its
/// second call (the first warms it up: scratch grows, GEMM plans are made) and replayed with one
/// <c>cuGraphLaunch</c> from then on (<see cref="RecordedSequences{TRecording}"/>). A graph holds device addresses and
/// kernel arguments by value, so it is dropped whenever an address it may hold goes away: a region is freed, a
/// scratch buffer grows. With bf16 GEMMs a sequence recorded in a weight-reuse scope skips converting the weights
/// (they were converted when the scope opened), so it replays only in a scope; one recorded outside a scope converts
/// them itself and is recorded again in a scope, where the conversions are redundant.
/// </summary>
public sealed unsafe partial class CudaBackend
{
    private readonly RecordedSequences<CudaGraphExec> _graphs;
    private GraphOpTimeline? _timeline;

    /// <inheritdoc/>
    /// <remarks>Runs the ops directly when graphs are off, when <see cref="CudaBackendOptions.SynchronizeEachOp"/>
    /// is set (a graph cannot wait after each op) and inside another recording.</remarks>
    public void RunRecorded(Action ops)
    {
        ArgumentNullException.ThrowIfNull(ops);
        Enter();
        if (!Options.Graphs || _syncEach || _stream.Capturing)
        {
            ops();
            return;
        }
        _graphs.Run(ops);
    }

    /// <summary>CUDA graphs alive now (one per recorded sequence).</summary>
    public int GraphCount => _graphs.Count;

    /// <summary>How many times a graph was launched instead of its ops.</summary>
    public long GraphReplays => _graphs.Replays;

    /// <summary>Why sequences run op by op instead of as graphs (one line per sequence whose capture failed).</summary>
    public IReadOnlyList<string> GraphFallbacks => _graphs.Fallbacks;

    /// <summary>Changes whenever a scratch buffer a graph may hold is replaced (freed regions drop every graph:
    /// <see cref="ForgetRecordings"/>), and with bf16 GEMMs whenever a weight-reuse scope opens or closes.</summary>
    private long MemoryEpoch => 2 * (_qkvh.Allocations + _doh.Allocations + _dd.Allocations + _partial.Allocations +
        _full.Allocations + _tmp.Allocations + _opA.Allocations + _opB.Allocations + (_fused?.Allocations ?? 0)) +
        (Options.Bf16Matmul && _reuse.Open ? 1 : 0);

    /// <summary>Captures <paramref name="ops"/> into an instantiated graph (see <see cref="RecordedSequences{T}"/>).</summary>
    private CudaGraphExec? Capture(Action ops)
    {
        _stream.BeginCapture(CuStreamCaptureMode.ThreadLocal);
        try
        {
            _timeline?.CaptureStarted();
            ops();
        }
        catch (ScratchGrowthException)
        {
            _stream.AbortCapture();
            _timeline?.ClearMarks();
            return null;
        }
        catch (Exception e) when (e is CudaException or EntryPointNotFoundException)
        {
            _stream.AbortCapture();
            _timeline?.ClearMarks();
            throw new RecordingFailedException($"CUDA graph capture refused: {e.Message}", e);
        }
        catch
        {
            _stream.AbortCapture();
            _timeline?.ClearMarks();
            throw;
        }
        try
        {
            using CudaGraph graph = _stream.EndCapture();
            CudaGraphExec exec = graph.Instantiate();
            _timeline?.Captured(exec);
            return exec;
        }
        catch (Exception e) when (e is CudaException or EntryPointNotFoundException) // a driver older than CUDA 11.4
        {
            _timeline?.ClearMarks();
            throw new RecordingFailedException($"CUDA graph capture failed: {e.Message}", e);
        }
    }

    /// <summary>Launches a recorded graph (and tells the op timeline, which counts its own graph's launches).</summary>
    private void Replay(CudaGraphExec exec)
    {
        exec.Launch(_stream);
        _timeline?.Launched(exec);
    }

    /// <summary>Drops every graph (their sequences warm up again on next use).</summary>
    private void ForgetRecordings() => _graphs.Clear();

    private void DisposeRecordings()
    {
        _graphs.Dispose();
        _timeline?.Dispose();
        _timeline = null;
    }

    /// <summary>
    /// Starts timing each op inside the graphs captured from now on (<see cref="GraphOpTimeline"/>; benchmarks only):
    /// drops the graphs captured so far, which have no event nodes. The timeline follows the graph captured last.
    /// </summary>
    internal GraphOpTimeline StartOpTimeline()
    {
        Enter();
        if (_timeline is not null) throw new InvalidOperationException("an op timeline is already running");
        ForgetRecordings();
        _timeline = new GraphOpTimeline(_device.Context, _stream);
        return _timeline;
    }

    /// <summary>Stops the op timeline: drops the graphs that record its events, then frees them.</summary>
    internal void StopOpTimeline()
    {
        Enter();
        _stream.Synchronize();
        ForgetRecordings();
        _timeline?.Dispose();
        _timeline = null;
    }
}
