using System.Globalization;
using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Threading;

namespace Hrm.Bench;

/// <summary>
/// <c>hrm-bench attention [threads] [B,T,NH,HS ...]</c>: Stopwatch medians of attention forward and backward at the
/// shapes given, or the model's (Sudoku 8x64 heads, the quickstart's 4x16, ARC/Maze length 901), with GFLOP/s
/// (4·T²·HS per head forward, twice that backward) and managed bytes per call.
/// </summary>
public static class AttentionTimer
{
    /// <summary>The shapes timed when none is given.</summary>
    private static readonly (int B, int T, int Nh, int Hs)[] ModelShapes =
        [(64, 82, 4, 16), (64, 82, 8, 64), (1, 82, 8, 64), (4, 901, 8, 64)];

    /// <summary>One shape argument, "B,T,NH,HS" (each at least 1).</summary>
    /// <exception cref="FormatException">Not four positive integers separated by commas.</exception>
    public static (int B, int T, int Nh, int Hs) ParseShape(string text)
    {
        string[] parts = text.Split(',');
        var v = new int[4];
        bool ok = parts.Length == 4;
        for (int i = 0; ok && i < 4; i++)
            ok = int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out v[i]) && v[i] >= 1;
        if (!ok)
            throw new FormatException($"attention: a shape is B,T,NH,HS (four integers of at least 1), got '{text}'");
        return (v[0], v[1], v[2], v[3]);
    }

    public static void Run(TextWriter o, int threads, (int B, int T, int Nh, int Hs)[] shapes)
    {
        if (shapes.Length == 0) shapes = ModelShapes;
        using var pool = new WorkerPool(threads == 0 ? Environment.ProcessorCount : threads);
        o.WriteLine("| B, T, NH, HS | fwd ms | fwd GFLOP/s | bwd ms | bwd GFLOP/s | managed bytes/call |");
        o.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach ((int b, int t, int nh, int hs) in shapes)
        {
            int c = nh * hs;
            var rng = new Random(1);
            float[] qkv = Fill(rng, 3 * b * t * c, 2f), dout = Fill(rng, b * t * c, 1f);
            float[] output = new float[b * t * c], lse = new float[b * nh * t], dqkv = new float[qkv.Length];
            int reps = b * t > 20_000 ? 5 : 21;
            (double fwd, long fb) = MedianTimer.Time(() => CpuOps.AttentionForward(output, lse, qkv, b, t, nh, hs, pool), reps);
            (double bwd, long bb) = MedianTimer.Time(
                () => CpuOps.AttentionBackward(dqkv, dout, qkv, output, lse, b, t, nh, hs, pool), reps);
            double flop = 4.0 * b * nh * t * (double)t * hs;
            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {b}, {t}, {nh}, {hs} | {fwd:F2} | {flop / fwd / 1e6:F1} | {bwd:F2} | {2 * flop / bwd / 1e6:F1} | {Math.Max(fb, bb)} |"));
        }
    }

    private static float[] Fill(Random rng, int n, float scale)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return a;
    }
}
