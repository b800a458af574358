using System.Diagnostics;

namespace Hrm.Bench;

/// <summary>Stopwatch median of a call after warm-up calls (see the code), with the most managed bytes any timed call allocated.</summary>
public static class MedianTimer
{
    public static (double Ms, long Bytes) Time(Action run, int reps)
    {
        // Warm-up: packing scratch, and the JIT's tier-up (after 30 calls plus a background compile): 3 calls, then
        // more until 40 calls or 1.5 s (3 calls alone timed tier-0 code for the fast cases).
        var warm = Stopwatch.StartNew();
        for (int i = 0; i < 40 && (i < 3 || warm.ElapsedMilliseconds < 1500); i++) run();
        var times = new double[reps];
        long bytes = 0;
        for (int i = 0; i < reps; i++)
        {
            long before = GC.GetTotalAllocatedBytes(true);
            long start = Stopwatch.GetTimestamp();
            run();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            bytes = Math.Max(bytes, GC.GetTotalAllocatedBytes(true) - before);
        }
        Array.Sort(times);
        return (times[reps / 2], bytes);
    }
}
