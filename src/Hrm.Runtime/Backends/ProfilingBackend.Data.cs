using System.Diagnostics;
using Hrm.Runtime.Memory;

namespace Hrm.Runtime.Backends;

// ProfilingBackend's timed data movement: uploads, downloads, fills, copies, carries, gathers.
public sealed partial class ProfilingBackend
{
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
}
