using System.Diagnostics;

namespace Hrm.Bench;

/// <summary>Stopwatch median of a call after 3 warm-up calls, with the most managed bytes any timed call allocated.</summary>
public static class MedianTimer
{
    public static (double Ms, long Bytes) Time(Action run, int reps)
    {
        for (int i = 0; i < 3; i++) run(); // warm-up: JIT tiers, packing scratch
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
