namespace Hrm.Runtime.Backends.Cuda;

/// <summary>
/// The known value range of int32 device memory: every <c>UploadInts</c> (and every zeroed allocation) records
/// [min, max] of what it wrote, so token and id buffers can be validated on the host before a launch without
/// copying them back (kernels never throw). Records never overlap: a write cuts what it overwrites out of the records
/// it overlaps (the parts before and after keep their bounds), and a range is known when records tile it without a
/// gap (its bounds: theirs together). So a micro-batch's rows copied into a slice of a larger buffer, or out of one,
/// leave every other slice known.
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

    /// <summary>Cuts [address, address + count·4) out of every record (its bytes are no longer known).</summary>
    public void Forget(nint address, long count)
    {
        long start = address, end = start + count * sizeof(int);
        if (end <= start) return;
        for (int i = _entries.Count - 1; i >= 0; i--)
        {
            Entry e = _entries[i];
            long es = e.Address, ee = es + e.Bytes;
            if (es >= end || start >= ee) continue;
            _entries.RemoveAt(i);
            if (es < start) _entries.Add(e with { Bytes = start - es });
            if (end < ee) _entries.Add(e with { Address = (nint)end, Bytes = ee - end });
        }
    }

    /// <summary>True, with the bounds of all of them, when records cover [address, address + count·4) without a gap.</summary>
    public bool TryGet(nint address, long count, out int min, out int max)
    {
        long start = address, end = start + count * sizeof(int);
        (min, max) = (int.MaxValue, int.MinValue);
        long at = start;
        while (at < end)
        {
            bool found = false;
            foreach (Entry e in _entries)
            {
                if ((long)e.Address <= at && at < (long)e.Address + e.Bytes)
                {
                    (min, max) = (Math.Min(min, e.Min), Math.Max(max, e.Max));
                    at = (long)e.Address + e.Bytes;
                    found = true;
                    break;
                }
            }
            if (!found)
            {
                (min, max) = (0, 0);
                return false;
            }
        }
        if (end <= start) (min, max) = (0, 0);
        return true;
    }

    /// <summary>Records held (tests).</summary>
    internal int Count => _entries.Count;

    private readonly record struct Entry(nint Address, long Bytes, int Min, int Max);
}
