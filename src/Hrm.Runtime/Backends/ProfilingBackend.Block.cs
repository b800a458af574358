using System.Diagnostics;
using Hrm.Runtime.Memory;

namespace Hrm.Runtime.Backends;

// ProfilingBackend's timed block ops: the embedding, the GEMMs, RoPE, the attention, the norms, SwiGLU.
public sealed partial class ProfilingBackend
{
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
}
