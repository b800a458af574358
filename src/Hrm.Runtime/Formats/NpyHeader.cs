namespace Hrm.Runtime.Formats;

/// <summary>The validated header of a C-order, little-endian <c>.npy</c> file.</summary>
/// <param name="MajorVersion">The format's major version (1, 2 or 3).</param>
/// <param name="MinorVersion">The format's minor version (0).</param>
/// <param name="Descr">The numpy dtype string, e.g. <c>'&lt;i4'</c> (without quotes).</param>
/// <param name="Shape">The dimensions, outermost first; empty for a 0-d array.</param>
/// <param name="DataOffset">File offset of the first data byte (prefix plus header length).</param>
public sealed record NpyHeader(int MajorVersion, int MinorVersion, string Descr, long[] Shape, long DataOffset)
{
    /// <summary>The number of elements (product of <see cref="Shape"/>; 1 for a 0-d array).</summary>
    public long Count
    {
        get
        {
            long n = 1;
            foreach (long d in Shape) n *= d;
            return n;
        }
    }

    /// <summary>Bytes per element (1, 4 or 8), from the digit in <see cref="Descr"/>.</summary>
    public int ItemSize => NpyDescr.ItemSize(Descr);

    /// <summary>Bytes of element data: <see cref="Count"/> times <see cref="ItemSize"/>.</summary>
    public long DataLength => Count * ItemSize;
}
