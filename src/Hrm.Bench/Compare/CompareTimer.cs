using System.Diagnostics;

namespace Hrm.Bench.Compare;

/// <summary>
/// Times two implementations of one case side by side: warm-up calls of each, then <c>reps</c> rounds that run
/// both, alternating which goes first, so drift in machine load hits both alike. Returns both medians.
/// </summary>
public static class CompareTimer
{
    public static (double OursMs, double TorchMs) Time(Action ours, Action torch, int reps, int warmup = 1)
    {
        for (int i = 0; i < warmup; i++)
        {
            ours();
            torch();
        }
        var a = new double[reps];
        var b = new double[reps];
        for (int r = 0; r < reps; r++)
        {
            if (r % 2 == 0)
            {
                a[r] = Ms(ours);
                b[r] = Ms(torch);
            }
            else
            {
                b[r] = Ms(torch);
                a[r] = Ms(ours);
            }
        }
        return (Median(a), Median(b));
    }

    private static double Ms(Action run)
    {
        long start = Stopwatch.GetTimestamp();
        run();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private static double Median(double[] x)
    {
        Array.Sort(x);
        return x.Length % 2 == 1 ? x[x.Length / 2] : 0.5 * (x[x.Length / 2 - 1] + x[x.Length / 2]);
    }
}
