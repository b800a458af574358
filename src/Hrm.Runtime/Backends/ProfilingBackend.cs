using System.Diagnostics;
using System.Globalization;
using System.Text;
using Hrm.Runtime.Loss;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;

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
public sealed class ProfilingBackend : IHrmBackend
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

    /// <inheritdoc/>
    public void Free(Buf region)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.Free(region);
        _ticks[0] += Stopwatch.GetTimestamp() - t0;
        _calls[0]++;
    }

    /// <inheritdoc/>
    public void Upload(ReadOnlySpan<float> src, Buf dst)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.Upload(src, dst);
        _ticks[1] += Stopwatch.GetTimestamp() - t0;
        _bytes[1] += Bytes(dst);
        _calls[1]++;
    }

    /// <inheritdoc/>
    public void Download(Buf src, Span<float> dst)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.Download(src, dst);
        _ticks[2] += Stopwatch.GetTimestamp() - t0;
        _bytes[2] += Bytes(src);
        _calls[2]++;
    }

    /// <inheritdoc/>
    public void UploadInts(ReadOnlySpan<int> src, Buf dst)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.UploadInts(src, dst);
        _ticks[3] += Stopwatch.GetTimestamp() - t0;
        _bytes[3] += Bytes(dst);
        _calls[3]++;
    }

    /// <inheritdoc/>
    public void DownloadInts(Buf src, Span<int> dst)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.DownloadInts(src, dst);
        _ticks[4] += Stopwatch.GetTimestamp() - t0;
        _bytes[4] += Bytes(src);
        _calls[4]++;
    }

    /// <inheritdoc/>
    public void Fill(Buf dst, float value)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.Fill(dst, value);
        _ticks[5] += Stopwatch.GetTimestamp() - t0;
        _bytes[5] += Bytes(dst);
        _calls[5]++;
    }

    /// <inheritdoc/>
    public void Copy(Buf dst, Buf src)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.Copy(dst, src);
        _ticks[6] += Stopwatch.GetTimestamp() - t0;
        _bytes[6] += Bytes(dst, src);
        _calls[6]++;
    }

    /// <inheritdoc/>
    public void Add(Buf dst, Buf a, Buf b)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.Add(dst, a, b);
        _ticks[7] += Stopwatch.GetTimestamp() - t0;
        _bytes[7] += Bytes(dst, a, b);
        _calls[7]++;
    }

    /// <inheritdoc/>
    public void ResetCarry(Buf z, Buf init, Buf halted, int batch, int t, int c)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.ResetCarry(z, init, halted, batch, t, c);
        _ticks[8] += Stopwatch.GetTimestamp() - t0;
        _bytes[8] += Bytes(z, init, halted);
        _calls[8]++;
    }

    /// <inheritdoc/>
    public void GatherRows(Buf dst, Buf table, Buf ids, int n, int w)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.GatherRows(dst, table, ids, n, w);
        _ticks[9] += Stopwatch.GetTimestamp() - t0;
        _bytes[9] += Bytes(dst, ids) + (long)n * w * table.ElemSize;
        _calls[9]++;
    }

    /// <inheritdoc/>
    public void EmbeddingForward(Buf x, Buf tokens, Buf puzzleRows, Buf tokTable, Buf posTable, int batch, int l, int p, int pd, int c, int v, float scale)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.EmbeddingForward(x, tokens, puzzleRows, tokTable, posTable, batch, l, p, pd, c, v, scale);
        _ticks[10] += Stopwatch.GetTimestamp() - t0;
        _bytes[10] += Bytes(x, tokens, puzzleRows, posTable) + (long)batch * l * c * tokTable.ElemSize; // rows read
        _calls[10]++;
    }

    /// <inheritdoc/>
    public void EmbeddingBackward(Buf dTokTable, Buf dPuzzleRows, Buf dPosTable, Buf dx, Buf tokens, int batch, int l, int p, int pd, int c, int v, float scale)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.EmbeddingBackward(dTokTable, dPuzzleRows, dPosTable, dx, tokens, batch, l, p, pd, c, v, scale);
        _ticks[11] += Stopwatch.GetTimestamp() - t0;
        _bytes[11] += Bytes(dPuzzleRows, dPosTable, dx, tokens) + 2L * batch * l * c * dTokTable.ElemSize; // rows updated
        _calls[11]++;
    }

    /// <inheritdoc/>
    public void MatmulForward(Buf output, Buf inp, Buf weight, int m, int k, int n)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.MatmulForward(output, inp, weight, m, k, n);
        _ticks[12] += Stopwatch.GetTimestamp() - t0;
        _bytes[12] += Bytes(output, inp, weight);
        _flops[12] += 2.0 * m * k * n;
        _calls[12]++;
    }

    /// <inheritdoc/>
    public void MatmulBackward(Buf dinp, Buf dweight, Buf dout, Buf inp, Buf weight, int m, int k, int n,
        bool accumulate = false)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.MatmulBackward(dinp, dweight, dout, inp, weight, m, k, n, accumulate);
        _ticks[13] += Stopwatch.GetTimestamp() - t0;
        _bytes[13] += Bytes(dinp, dweight, dout, inp, weight);
        _flops[13] += (dinp.IsEmpty ? 2.0 : 4.0) * m * k * n;
        _calls[13]++;
    }

    /// <inheritdoc/>
    public void RopeForward(Buf qkv, Buf cos, Buf sin, int batch, int t, int nh, int hs)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.RopeForward(qkv, cos, sin, batch, t, nh, hs);
        _ticks[14] += Stopwatch.GetTimestamp() - t0;
        _bytes[14] += Bytes(qkv, cos, sin);
        _calls[14]++;
    }

    /// <inheritdoc/>
    public void RopeBackward(Buf dqkv, Buf cos, Buf sin, int batch, int t, int nh, int hs)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.RopeBackward(dqkv, cos, sin, batch, t, nh, hs);
        _ticks[15] += Stopwatch.GetTimestamp() - t0;
        _bytes[15] += Bytes(dqkv, cos, sin);
        _calls[15]++;
    }

    /// <inheritdoc/>
    public void AttentionForward(Buf output, Buf lse, Buf qkv, int batch, int t, int nh, int hs)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.AttentionForward(output, lse, qkv, batch, t, nh, hs);
        _ticks[16] += Stopwatch.GetTimestamp() - t0;
        _bytes[16] += Bytes(output, lse, qkv);
        _flops[16] += 4.0 * batch * nh * t * (double)t * hs;
        _calls[16]++;
    }

    /// <inheritdoc/>
    public void BeginWeightReuse() => _inner.BeginWeightReuse();

    /// <inheritdoc/>
    public void EndWeightReuse() => _inner.EndWeightReuse();

    /// <inheritdoc/>
    /// <remarks>Runs the ops through this decorator, one by one, so each is timed (a recording inside the inner
    /// backend would time nothing).</remarks>
    public void RunRecorded(Action ops)
    {
        ArgumentNullException.ThrowIfNull(ops);
        ops();
    }

    /// <inheritdoc/>
    public void MatmulSwiGluForward(Buf act, Buf gateUp, Buf inp, Buf weight, int m, int k, int inter,
        bool keepGateUp = false)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.MatmulSwiGluForward(act, gateUp, inp, weight, m, k, inter, keepGateUp);
        _ticks[30] += Stopwatch.GetTimestamp() - t0;
        _bytes[30] += Bytes(act, gateUp, inp, weight);
        _flops[30] += 4.0 * m * k * inter;
        _calls[30]++;
    }

    /// <inheritdoc/>
    public void MatmulRopeForward(Buf qkv, Buf inp, Buf weight, Buf cos, Buf sin, int batch, int t, int k, int nh,
        int hs)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.MatmulRopeForward(qkv, inp, weight, cos, sin, batch, t, k, nh, hs);
        _ticks[31] += Stopwatch.GetTimestamp() - t0;
        _bytes[31] += Bytes(qkv, inp, weight, cos, sin);
        _flops[31] += 6.0 * batch * t * k * nh * hs;
        _calls[31]++;
    }

    /// <inheritdoc/>
    public bool TryFusedModuleForward(Buf z, Buf inj, ReadOnlySpan<Buf> weights, Buf cos, Buf sin, int batch, int t,
        int nh, int hs, int inter, float eps)
    {
        long t0 = Stopwatch.GetTimestamp();
        if (!_inner.TryFusedModuleForward(z, inj, weights, cos, sin, batch, t, nh, hs, inter, eps)) return false;
        _ticks[37] += Stopwatch.GetTimestamp() - t0;
        long bytes = Bytes(z, inj, cos, sin);
        double flops = 0;
        foreach (Buf w in weights)
        {
            bytes += w.Length * 2; // read as bf16
            flops += 2.0 * batch * t * w.Length;
        }
        _bytes[37] += bytes;
        _flops[37] += flops + weights.Length / 4 * 4.0 * batch * nh * t * (double)t * hs;
        _calls[37]++;
        return true;
    }

    /// <inheritdoc/>
    public void RopeAttentionForward(Buf output, Buf lse, Buf qkv, Buf cos, Buf sin, int batch, int t, int nh, int hs,
        bool keepRotated = true)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.RopeAttentionForward(output, lse, qkv, cos, sin, batch, t, nh, hs, keepRotated);
        _ticks[29] += Stopwatch.GetTimestamp() - t0;
        _bytes[29] += Bytes(output, lse, qkv, cos, sin);
        _flops[29] += 4.0 * batch * nh * t * (double)t * hs;
        _calls[29]++;
    }

    /// <inheritdoc/>
    public void AttentionBackward(Buf dqkv, Buf dout, Buf qkv, Buf output, Buf lse, int batch, int t, int nh, int hs)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.AttentionBackward(dqkv, dout, qkv, output, lse, batch, t, nh, hs);
        _ticks[17] += Stopwatch.GetTimestamp() - t0;
        _bytes[17] += Bytes(dqkv, dout, qkv, output, lse);
        _flops[17] += 8.0 * batch * nh * t * (double)t * hs;
        _calls[17]++;
    }

    /// <inheritdoc/>
    public void RopeAttentionBackward(Buf dqkv, Buf dout, Buf qkv, Buf output, Buf lse, Buf cos, Buf sin, int batch,
        int t, int nh, int hs)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.RopeAttentionBackward(dqkv, dout, qkv, output, lse, cos, sin, batch, t, nh, hs);
        _ticks[36] += Stopwatch.GetTimestamp() - t0;
        _bytes[36] += Bytes(dqkv, dout, qkv, output, lse, cos, sin);
        _flops[36] += 8.0 * batch * nh * t * (double)t * hs;
        _calls[36]++;
    }

    /// <inheritdoc/>
    public void AddRmsNormForward(Buf output, Buf rstd, Buf a, Buf b, int rows, int c, float eps)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.AddRmsNormForward(output, rstd, a, b, rows, c, eps);
        _ticks[18] += Stopwatch.GetTimestamp() - t0;
        _bytes[18] += Bytes(output, rstd, a, b);
        _calls[18]++;
    }

    /// <inheritdoc/>
    public void RmsNormBackward(Buf dinp, Buf dout, Buf output, Buf rstd, int rows, int c)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.RmsNormBackward(dinp, dout, output, rstd, rows, c);
        _ticks[19] += Stopwatch.GetTimestamp() - t0;
        _bytes[19] += Bytes(dinp, dout, output, rstd);
        _calls[19]++;
    }

    /// <inheritdoc/>
    public void SwiGluForward(Buf act, Buf gateUp, int rows, int inter)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.SwiGluForward(act, gateUp, rows, inter);
        _ticks[20] += Stopwatch.GetTimestamp() - t0;
        _bytes[20] += Bytes(act, gateUp);
        _calls[20]++;
    }

    /// <inheritdoc/>
    public void SwiGluBackward(Buf dgateUp, Buf dact, Buf gateUp, int rows, int inter)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.SwiGluBackward(dgateUp, dact, gateUp, rows, inter);
        _ticks[21] += Stopwatch.GetTimestamp() - t0;
        _bytes[21] += Bytes(dgateUp, dact, gateUp);
        _calls[21]++;
    }

    /// <inheritdoc/>
    public void LmHeadForward(Buf logits, Buf zH, Buf weight, int batch, int t, int p, int c, int v)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.LmHeadForward(logits, zH, weight, batch, t, p, c, v);
        _ticks[22] += Stopwatch.GetTimestamp() - t0;
        _bytes[22] += Bytes(logits, weight) + (long)batch * (t - p) * c * zH.ElemSize; // zH without the prefix
        _flops[22] += 2.0 * batch * (t - p) * c * v;
        _calls[22]++;
    }

    /// <inheritdoc/>
    public void LmHeadBackward(Buf dzH, Buf dweight, Buf dlogits, Buf zH, Buf weight, int batch, int t, int p, int c, int v)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.LmHeadBackward(dzH, dweight, dlogits, zH, weight, batch, t, p, c, v);
        _ticks[23] += Stopwatch.GetTimestamp() - t0;
        _bytes[23] += Bytes(dzH, dweight, dlogits, zH, weight);
        _flops[23] += 4.0 * batch * (t - p) * c * v;
        _calls[23]++;
    }

    /// <inheritdoc/>
    public void QHeadForward(Buf q, Buf zH, Buf weight, Buf bias, int batch, int t, int c)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.QHeadForward(q, zH, weight, bias, batch, t, c);
        _ticks[24] += Stopwatch.GetTimestamp() - t0;
        _bytes[24] += Bytes(q, weight, bias) + (long)batch * c * zH.ElemSize; // zH at position 0 only
        _calls[24]++;
    }

    /// <inheritdoc/>
    public void QHeadBackward(Buf dzH, Buf dweight, Buf dbias, Buf dq, Buf zH, Buf weight, int batch, int t, int c)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.QHeadBackward(dzH, dweight, dbias, dq, zH, weight, batch, t, c);
        _ticks[25] += Stopwatch.GetTimestamp() - t0;
        _bytes[25] += Bytes(dweight, dbias, dq, weight) + 2L * batch * c * zH.ElemSize; // zH, dzH at position 0
        _calls[25]++;
    }

    /// <inheritdoc/>
    public void AdamATan2Step(Buf param, Buf grad, Buf m, Buf v, double lr, double beta1, double beta2, double weightDecay, int stepNumber,
        Buf skip = default)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.AdamATan2Step(param, grad, m, v, lr, beta1, beta2, weightDecay, stepNumber, skip);
        _ticks[26] += Stopwatch.GetTimestamp() - t0;
        _bytes[26] += Bytes(param, grad, m, v) + Bytes(param, m, v); // read all, write back three
        _calls[26]++;
    }

    /// <inheritdoc/>
    public void SignSgdRows(Buf table, Buf rowGrads, Buf ids, int rows, int width, double lr, double weightDecay,
        Buf skip = default)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.SignSgdRows(table, rowGrads, ids, rows, width, lr, weightDecay, skip);
        _ticks[27] += Stopwatch.GetTimestamp() - t0;
        _bytes[27] += Bytes(rowGrads, ids) + 2L * rows * width * table.ElemSize;
        _calls[27]++;
    }

    /// <inheritdoc/>
    public void StablemaxCe(Buf dlogits, Buf dq, Buf rowLoss, Buf rowStats, Buf logits, Buf labels, Buf q, Buf target,
        int batch, int l, int v, LossType lossType, bool training, int globalBatch)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.StablemaxCe(dlogits, dq, rowLoss, rowStats, logits, labels, q, target, batch, l, v, lossType, training,
            globalBatch);
        _ticks[28] += Stopwatch.GetTimestamp() - t0;
        _bytes[28] += Bytes(dlogits, dq, rowLoss, rowStats, logits, labels, q, target);
        _calls[28]++;
    }

    /// <inheritdoc/>
    public void SelectRows(Buf dst, Buf src, Buf mask, int rows, int width)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.SelectRows(dst, src, mask, rows, width);
        _ticks[32] += Stopwatch.GetTimestamp() - t0;
        _bytes[32] += Bytes(dst, src, mask);
        _calls[32]++;
    }

    /// <inheritdoc/>
    public void ActHalt(Buf halted, Buf steps, Buf q, Buf minSteps, int batch, int maxSteps, ActHaltRule rule)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.ActHalt(halted, steps, q, minSteps, batch, maxSteps, rule);
        _ticks[33] += Stopwatch.GetTimestamp() - t0;
        _bytes[33] += Bytes(halted, steps, q, minSteps);
        _calls[33]++;
    }

    /// <inheritdoc/>
    public void ActTarget(Buf target, Buf qNext, Buf steps, int batch, int maxSteps)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.ActTarget(target, qNext, steps, batch, maxSteps);
        _ticks[34] += Stopwatch.GetTimestamp() - t0;
        _bytes[34] += Bytes(target, qNext, steps);
        _calls[34]++;
    }

    /// <inheritdoc/>
    public void ActMetrics(Buf sums, Buf skip, Buf halted, Buf steps, Buf q, Buf rowLoss, Buf rowStats, int batch, int slot)
    {
        long t0 = Stopwatch.GetTimestamp();
        _inner.ActMetrics(sums, skip, halted, steps, q, rowLoss, rowStats, batch, slot);
        _ticks[35] += Stopwatch.GetTimestamp() - t0;
        _bytes[35] += Bytes(sums, skip, halted, steps, q, rowLoss, rowStats);
        _calls[35]++;
    }
}
