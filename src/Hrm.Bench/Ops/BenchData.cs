namespace Hrm.Bench.Ops;

/// <summary>Fixed-seed inputs for the op benchmarks (called from [GlobalSetup] only).</summary>
public static class BenchData
{
    /// <summary>n floats uniform in [−scale, scale), from <paramref name="seed"/>.</summary>
    public static float[] Uniform(int seed, long n, float scale = 1f)
    {
        var rng = new Random(seed);
        var a = new float[n];
        for (long i = 0; i < n; i++) a[i] = (float)((rng.NextDouble() * 2 - 1) * scale);
        return a;
    }

    /// <summary>n ints uniform in [lo, hi), from <paramref name="seed"/>.</summary>
    public static int[] Ints(int seed, long n, int lo, int hi)
    {
        var rng = new Random(seed);
        var a = new int[n];
        for (long i = 0; i < n; i++) a[i] = rng.Next(lo, hi);
        return a;
    }
}
