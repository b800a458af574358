using Hrm.Runtime.Memory;

namespace Hrm.Runtime.Backends;

/// <summary>Host-memory bookkeeping shared by the CPU-side backends: owned aligned regions and typed views.</summary>
public abstract unsafe class HostBackendBase : IDisposable
{
    private readonly List<AlignedBuffer> _regions = [];
    private bool _disposed;

    /// <summary>Bytes per floating-point element.</summary>
    public abstract int ElementSize { get; }

    /// <summary>Total bytes allocated.</summary>
    public long AllocatedBytes { get; private set; }

    /// <summary>A zeroed float region.</summary>
    public Buf Allocate(long elements, string name) => Region(elements, ElementSize, name);

    /// <summary>A zeroed int32 region.</summary>
    public Buf AllocateInts(long count, string name) => Region(count, sizeof(int), name);

    /// <summary>Frees a whole region returned by Allocate or AllocateInts.</summary>
    public void Free(Buf region)
    {
        int i = _regions.FindIndex(r => r.Address == region.Address);
        if (i < 0) throw new ArgumentException("not a region allocated by this backend (or already freed)", nameof(region));
        AllocatedBytes -= _regions[i].Bytes;
        _regions[i].Dispose();
        _regions.RemoveAt(i);
    }

    /// <summary>Runs the ops: a host backend has nothing to record (<see cref="IHrmBackend.RunRecorded"/>).</summary>
    public void RunRecorded(Action ops)
    {
        ArgumentNullException.ThrowIfNull(ops);
        ObjectDisposedException.ThrowIf(_disposed, this);
        ops();
    }

    /// <summary>Frees every region.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Dispose(true);
        foreach (AlignedBuffer r in _regions) r.Dispose();
        _regions.Clear();
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases backend-specific resources.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }

    /// <summary>Span of ints over an int buffer.</summary>
    protected static Span<int> Ints(Buf b)
    {
        if (b.ElemSize != sizeof(int)) throw new ArgumentException($"expected an int32 buffer, got {b.ElemSize}-byte elements");
        return new Span<int>((void*)b.Address, checked((int)b.Length));
    }

    /// <summary>
    /// The (B,3) doubles of a StablemaxCe rowLoss argument: an int32 region of exactly 6·B elements, 8-byte aligned.
    /// </summary>
    protected static Span<double> RowLossDoubles(Buf rowLoss, int batch)
    {
        Ints(rowLoss.Expect(Loss.StablemaxCeRows.RowLossInts(batch), nameof(rowLoss)));
        if (rowLoss.Address % sizeof(double) != 0)
            throw new ArgumentException($"rowLoss: expected an 8-byte aligned region, got address 0x{rowLoss.Address:x}", nameof(rowLoss));
        return new Span<double>((void*)rowLoss.Address, 3 * batch);
    }

    /// <summary>Span of ints over an int buffer, or an empty span for an empty view (an optional operand).</summary>
    protected static Span<int> IntsOrEmpty(Buf b) => b.IsEmpty ? [] : Ints(b);

    /// <summary>The doubles of an int32 region holding doubles bit for bit (even length, 8-byte aligned).</summary>
    protected static Span<double> IntRegionDoubles(Buf region, string name)
    {
        Span<int> ints = Ints(region);
        if (ints.Length % 2 != 0 || region.Address % sizeof(double) != 0)
        {
            throw new ArgumentException(
                $"{name}: expected an 8-byte aligned int32 region of even length, got {ints.Length} elements at 0x{region.Address:x}", name);
        }
        return new Span<double>((void*)region.Address, ints.Length / 2);
    }

    /// <summary>True when an optional skip flag (1 int) is given and set: the optimiser ops then write nothing.</summary>
    protected static bool Skipped(Buf skip) => !skip.IsEmpty && Ints(skip.Expect(1, nameof(skip)))[0] != 0;

    private Buf Region(long elements, int elemSize, string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var r = new AlignedBuffer(elements * elemSize, name);
        _regions.Add(r);
        AllocatedBytes += r.Bytes;
        return new Buf(r.Address, elements, elemSize);
    }
}
