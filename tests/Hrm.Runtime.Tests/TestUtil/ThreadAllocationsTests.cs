namespace Hrm.Runtime.Tests.TestUtil;

/// <summary>The zero-allocation checks' measure: it must see a call that allocates, in every attempt.</summary>
public sealed class ThreadAllocationsTests
{
    private static object? _sink;

    [Fact]
    public void A_call_that_allocates_is_counted_in_every_attempt()
    {
        (long smallest, string counts) = ThreadAllocations.Measure(() => _sink = new byte[1000], attempts: 3);
        Assert.True(smallest >= 1000, $"smallest {smallest}");
        Assert.Equal(3, counts.Split(", ").Length);
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(
            () => ThreadAllocations.AssertNone(() => _sink = new long[4], "an array"));
    }

    [Fact]
    public void A_call_that_allocates_nothing_measures_zero()
    {
        var values = new int[64];
        void Sum()
        {
            int s = 0;
            foreach (int v in values) s += v;
            values[0] = s;
        }
        Sum();
        (long smallest, string counts) = ThreadAllocations.Measure(Sum);
        Assert.Equal(0, smallest);
        Assert.EndsWith("0", counts, StringComparison.Ordinal); // "0" unless the runtime allocated (then "N, 0")
        ThreadAllocations.AssertNone(Sum, "a sum");
        Assert.Throws<ArgumentOutOfRangeException>(() => ThreadAllocations.Measure(Sum, attempts: 0));
    }
}
