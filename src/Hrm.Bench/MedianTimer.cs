using System.Diagnostics;

namespace Hrm.Bench;

/// <summary>Stopwatch median of a call after warm-up calls (see the code), with the most managed bytes any timed call allocated.</summary>
public static class MedianTimer
{
    public static (double Ms, long Bytes) Time(Action run, int reps)
    {
        // Warm-up: packing scratch, and the JIT's tier-up: a method is promoted after 30 calls, counted only once
        // 100 ms have passed without new tier-0 code, then compiled in the background. So at least 3 calls and 1 s
        // (up to 20,000 calls). 3 calls alone timed tier-0 code for the fast cases, and so did "40 calls or 1.5 s",
        // whichever came first: 40 calls of a 1.5 ms op end before counting starts (2026-12-02: a helper of the
        // attention backward left to tiering, 1.7-1.9 ms a call timed that way against 1.4-1.5 ms compiled fully).
        var warm = Stopwatch.StartNew();
        for (int i = 0; i < 20_000 && (i < 3 || warm.ElapsedMilliseconds < 1000); i++) run();
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
