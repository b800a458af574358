using System.Diagnostics;
using System.Globalization;
using System.Text;
using Hrm.Runtime.Memory;

namespace Hrm.Runtime.Backends;

/// <summary>
/// A decorator that times every op of another backend with the wall clock (calls and total time per op), for
/// `hrm train --profile` and benchmarks. Host backends finish an op before returning, so times are exact; an
/// asynchronous (GPU) backend would need a synchronising inner backend for the times to mean anything.
/// Also sums each op's operand bytes and, for the GEMMs and the attention, its FLOPs, so the report shows the
/// bandwidth and throughput each op achieved. Operand bytes are the sizes of the op's buffer arguments, each
/// counted once at its stored element size (a gather, a sparse update, the embedding and the Q head: only the rows
/// they touch; the lm_head: without the prefix rows; AdamATan2: its three updated buffers twice): a floor on the traffic of a streaming op, a rough figure for the rest (a bf16 GEMM
/// reads its weight's bf16 copy, counted here at fp32). Adds two timestamp reads per call and allocates nothing.
/// </summary>
public sealed partial class ProfilingBackend : IHrmBackend
{
    private static readonly string[] OpNames = ["Free", "Upload", "Download", "UploadInts", "DownloadInts", "Fill", "Copy", "Add", "ResetCarry", "GatherRows", "EmbeddingForward", "EmbeddingBackward", "MatmulForward", "MatmulBackward", "RopeForward", "RopeBackward", "AttentionForward", "AttentionBackward", "AddRmsNormForward", "RmsNormBackward", "SwiGluForward", "SwiGluBackward", "LmHeadForward", "LmHeadBackward", "QHeadForward", "QHeadBackward", "AdamATan2Step", "SignSgdRows", "StablemaxCe", "RopeAttentionForward", "MatmulSwiGluForward", "MatmulRopeForward", "SelectRows", "ActHalt", "ActTarget", "ActMetrics", "RopeAttentionBackward", "FusedModuleForward"];

    private readonly IHrmBackend _inner;
    private readonly long[] _ticks = new long[OpNames.Length];
    private readonly long[] _calls = new long[OpNames.Length];
    private readonly long[] _bytes = new long[OpNames.Length];
    private readonly double[] _flops = new double[OpNames.Length];

    /// <summary>Wraps <paramref name="inner"/>, which this object then owns (disposing it disposes the inner one).</summary>
    public ProfilingBackend(IHrmBackend inner) => _inner = inner ?? throw new ArgumentNullException(nameof(inner));

    /// <summary>The wrapped backend.</summary>
    public IHrmBackend Inner => _inner;

    /// <inheritdoc/>
    public string Name => _inner.Name;

    /// <inheritdoc/>
    public int ElementSize => _inner.ElementSize;

    /// <inheritdoc/>
    public long AllocatedBytes => _inner.AllocatedBytes;

    /// <inheritdoc/>
    public bool SupportsOp(HrmOp op) => _inner.SupportsOp(op);

    /// <inheritdoc/>
    public bool PrefersRopeInAttention => _inner.PrefersRopeInAttention;

    /// <inheritdoc/>
    public bool Bf16Intermediates => _inner.Bf16Intermediates;

    /// <inheritdoc/>
    public bool Bf16QkvForward(int t, int hs) => _inner.Bf16QkvForward(t, hs);

    /// <inheritdoc/>
    public bool Bf16StreamForward(int t, int hs) => _inner.Bf16StreamForward(t, hs);

    /// <inheritdoc/>
    public int BlockChunkRows(int rows, int t, int hs, bool record) =>
        _inner.BlockChunkRows(rows, t, hs, record);

    /// <inheritdoc/>
    public bool Bf16QkvRecorded(int t, int hs) => _inner.Bf16QkvRecorded(t, hs);

    /// <inheritdoc/>
    public Buf Allocate(long elements, string name) => _inner.Allocate(elements, name);

    /// <inheritdoc/>
    public Buf AllocateInts(long count, string name) => _inner.AllocateInts(count, name);

    /// <inheritdoc/>
    public void ReserveScratch(in ScratchShapes shapes, ReadOnlySpan<Buf> weights) => _inner.ReserveScratch(shapes, weights);

    /// <summary>Forgets every time measured so far.</summary>
    public void ResetTimes()
    {
        Array.Clear(_ticks);
        Array.Clear(_calls);
        Array.Clear(_bytes);
        Array.Clear(_flops);
    }

    /// <summary>
    /// (op, calls, total milliseconds, operand bytes, FLOPs) for every op called at least once, most expensive first
    /// (bytes and FLOPs as the class summary counts them).
    /// </summary>
    public IReadOnlyList<(string Op, long Calls, double Ms, long Bytes, double Flops)> Times()
    {
        var rows = new List<(string Op, long Calls, double Ms, long Bytes, double Flops)>();
        for (int i = 0; i < OpNames.Length; i++)
        {
            if (_calls[i] > 0)
                rows.Add((OpNames[i], _calls[i], _ticks[i] * 1000.0 / Stopwatch.Frequency, _bytes[i], _flops[i]));
        }
        rows.Sort((a, b) => b.Ms.CompareTo(a.Ms));
        return rows;
    }

    /// <summary>Σ of the views' sizes in bytes.</summary>
    private static long Bytes(params ReadOnlySpan<Buf> views)
    {
        long sum = 0;
        foreach (Buf b in views) sum += b.Length * b.ElemSize;
        return sum;
    }

    /// <summary>A text table of <see cref="Times"/> with each op's share of the total.</summary>
    public string Report()
    {
        var rows = Times();
        double total = 0;
        foreach (var r in rows) total += r.Ms;
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.AppendLine(inv, $"{"op",-20} {"calls",10} {"ms",12} {"ms/call",10} {"share",7} {"GB/s",8} {"TFLOP/s",8}");
        foreach (var (op, calls, ms, bytes, flops) in rows)
        {
            double seconds = Math.Max(ms, 1e-9) / 1000;
            string gbs = bytes > 0 ? (bytes / seconds / 1e9).ToString("F1", inv) : "";
            string tfs = flops > 0 ? (flops / seconds / 1e12).ToString("F2", inv) : "";
            sb.AppendLine(inv, $"{op,-20} {calls,10} {ms,12:F1} {ms / calls,10:F3} {100 * ms / Math.Max(total, 1e-9),6:F1}% {gbs,8} {tfs,8}");
        }
        sb.AppendLine(inv, $"{"total",-20} {"",10} {total,12:F1}");
        return sb.ToString();
    }

    /// <inheritdoc/>
    public void Dispose() => _inner.Dispose();
}
