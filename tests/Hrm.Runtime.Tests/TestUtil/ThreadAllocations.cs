namespace Hrm.Runtime.Tests.TestUtil;

/// <summary>
/// Managed bytes a warm call allocates on the calling thread, measured with
/// <see cref="GC.GetAllocatedBytesForCurrentThread"/>. The runtime may allocate on a thread for its own reasons
/// while tiered compilation settles (CI once counted 488 bytes in the emulated GPU training step, which allocated
/// nothing in 10 reruns, alone and under load), so a nonzero count is measured again: code that allocates per call
/// allocates in every attempt, and the smallest count is the call's.
/// </summary>
public static class ThreadAllocations
{
    /// <summary>
    /// Runs <paramref name="call"/> (already warm) up to <paramref name="attempts"/> times, stopping at the first run
    /// that allocates nothing; returns the smallest count and every count taken (in order, for the test's output).
    /// </summary>
    public static (long Smallest, string Counts) Measure(Action call, int attempts = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempts, 1);
        long smallest = long.MaxValue;
        var counts = new long[attempts];
        int taken = 0;
        while (taken < attempts && smallest != 0)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            call();
            counts[taken] = GC.GetAllocatedBytesForCurrentThread() - before;
            smallest = Math.Min(smallest, counts[taken++]);
        }
        return (smallest, string.Join(", ", counts.Take(taken)));
    }

    /// <summary>Asserts that a warm <paramref name="call"/> allocates nothing on this thread (see
    /// <see cref="Measure"/>).</summary>
    public static void AssertNone(Action call, string what, int attempts = 3)
    {
        (long smallest, string counts) = Measure(call, attempts);
        Assert.True(smallest == 0, $"{what}: allocated {counts} bytes in {attempts} warm runs (none allocation-free)");
    }
}
