namespace Hrm.Runtime.Backends.Cuda;

/// <summary>
/// The known value range of int32 device memory: every <c>UploadInts</c> (and every zeroed allocation) records
/// [min, max] of what it wrote, so token and id buffers can be validated on the host before a launch without
/// copying them back (kernels never throw). Records never overlap: a write drops the records it overlaps.
/// </summary>
internal sealed class IntRanges
{
    private readonly List<Entry> _entries = [];

    /// <summary>Records that [address, address + count·4) now holds values in [min, max].</summary>
    public void Record(nint address, long count, int min, int max)
    {
        Forget(address, count);
        if (count > 0) _entries.Add(new Entry(address, count * sizeof(int), min, max));
    }

    /// <summary>Drops every record overlapping [address, address + count·4).</summary>
    public void Forget(nint address, long count)
    {
        long start = address, end = start + count * sizeof(int);
        for (int i = _entries.Count - 1; i >= 0; i--)
        {
            Entry e = _entries[i];
            if ((long)e.Address < end && start < (long)e.Address + e.Bytes) _entries.RemoveAt(i);
        }
    }

    /// <summary>True, with the recorded bounds, when one record covers [address, address + count·4).</summary>
    public bool TryGet(nint address, long count, out int min, out int max)
    {
        long start = address, end = start + count * sizeof(int);
        foreach (Entry e in _entries)
        {
            if ((long)e.Address <= start && end <= (long)e.Address + e.Bytes)
            {
                (min, max) = (e.Min, e.Max);
                return true;
            }
        }
        (min, max) = (0, 0);
        return false;
    }

    private readonly record struct Entry(nint Address, long Bytes, int Min, int Max);
}
