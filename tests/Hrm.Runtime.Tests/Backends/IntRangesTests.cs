using Hrm.Runtime.Backends.Cuda;

namespace Hrm.Runtime.Tests.Backends;

/// <summary>The CUDA backend's record of int32 value ranges (host-side token and id checks without reading back).</summary>
public sealed class IntRangesTests
{
    private const nint Base = 0x10000;

    [Fact]
    public void A_write_into_a_slice_keeps_the_rest_of_the_buffer_known()
    {
        var r = new IntRanges();
        r.Record(Base, 16, 0, 0);                      // a zeroed allocation of 16 ints
        r.Record(Base + 4 * 4, 4, 3, 9);               // rows 4..7 written (a micro-batch's slice)
        Assert.True(r.TryGet(Base, 4, out int min, out int max));
        Assert.Equal((0, 0), (min, max));               // before the slice: still the allocation's
        Assert.True(r.TryGet(Base + 8 * 4, 8, out min, out max));
        Assert.Equal((0, 0), (min, max));               // after it too
        Assert.True(r.TryGet(Base + 4 * 4, 4, out min, out max));
        Assert.Equal((3, 9), (min, max));
        Assert.True(r.TryGet(Base, 16, out min, out max)); // the whole buffer: the pieces together
        Assert.Equal((0, 9), (min, max));
        Assert.True(r.TryGet(Base + 2 * 4, 4, out min, out max)); // straddling two pieces
        Assert.Equal((0, 9), (min, max));
        r.Record(Base + 4 * 4, 4, 1, 2);               // the same slice again: no growth
        Assert.Equal(3, r.Count);
        Assert.True(r.TryGet(Base, 16, out min, out max));
        Assert.Equal((0, 2), (min, max));
    }

    [Fact]
    public void A_gap_or_a_forgotten_part_makes_the_range_unknown()
    {
        var r = new IntRanges();
        r.Record(Base, 8, -1, 5);
        r.Record(Base + 12 * 4, 4, 0, 0);              // ints 8..11 never recorded
        Assert.False(r.TryGet(Base, 16, out _, out _));
        Assert.False(r.TryGet(Base + 6 * 4, 4, out _, out _));
        Assert.True(r.TryGet(Base + 12 * 4, 4, out _, out _));
        r.Forget(Base + 2 * 4, 2);                     // ints 2, 3 unknown; 0, 1 and 4..7 kept
        Assert.False(r.TryGet(Base, 8, out _, out _));
        Assert.True(r.TryGet(Base, 2, out int min, out int max));
        Assert.Equal((-1, 5), (min, max));
        Assert.True(r.TryGet(Base + 4 * 4, 4, out _, out _));
        Assert.False(r.TryGet(Base + 3 * 4, 2, out _, out _));
        r.Forget(Base, 64);                            // a freed region: nothing left
        Assert.Equal(0, r.Count);
    }
}
