using System.Diagnostics;

namespace Hrm.Bench.Compare;

/// <summary>
/// Times two implementations of one case side by side: warm-up calls of each, then <c>reps</c> rounds that run
/// both, alternating which goes first, so drift in machine load hits both alike. Returns both medians.
/// Each timed call follows an untimed call of the same implementation, so it runs in that implementation's steady
/// state and never right after the other's: libtorch's OpenMP threads (libgomp) spin for some milliseconds after
/// each parallel region, on the same two cores. Measured with the timed calls back to back, then with libgomp told
/// not to spin (OMP_WAIT_POLICY=passive): our batch-1 segment forward 52.5 → 49.0 ms, our
/// [5248,512]x[512,3072] GEMM 44.1-44.8 → 41.9 ms.
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
                a[r] = Settled(ours);
                b[r] = Settled(torch);
            }
            else
            {
                b[r] = Settled(torch);
                a[r] = Settled(ours);
            }
        }
        return (Median(a), Median(b));
    }

    /// <summary>An untimed call, then the timed one.</summary>
    private static double Settled(Action run)
    {
        run();
        return Ms(run);
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
