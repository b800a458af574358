using System.Diagnostics;
using System.Globalization;
using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Threading;

namespace Hrm.Bench;

/// <summary>
/// <c>hrm-bench optim [threads]</c>: Stopwatch medians of the optimiser steps at the Sudoku size — AdamATan2 over
/// 27,275,266 dense parameters and SignSGD over 768 puzzle rows of 512 — with managed bytes per call.
/// </summary>
public static class OptimizerTimer
{
    public static void Run(TextWriter o, int threads)
    {
        using var pool = new WorkerPool(threads == 0 ? Environment.ProcessorCount : threads);
        const int n = 27_275_266;
        var rng = new Random(1);
        float[] p = Fill(rng, n, 0.05f), g = Fill(rng, n, 1e-3f), m = new float[n], v = new float[n];
        int t = 0;
        o.WriteLine("| case | median ms | GB/s (7 streams) | managed bytes/call |");
        o.WriteLine("|---|---:|---:|---:|");
        (double ms, long bytes) = MedianTimer.Time(() => CpuOps.AdamATan2Step(p, g, m, v, 1e-4, 0.9, 0.95, 0.1, ++t, pool), 9);
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| AdamATan2, {n:N0} floats | {ms:F1} | {7.0 * 4 * n / ms / 1e6:F1} | {bytes} |"));

        const int rows = 768, w = 512;
        float[] table = Fill(rng, 1000 * w, 0.1f), grads = Fill(rng, rows * w, 1f);
        int[] ids = new int[rows], one = new int[rows];
        for (int i = 0; i < rows; i++) ids[i] = rng.Next(1000);
        (ms, bytes) = MedianTimer.Time(() => CpuOps.SignSgdRows(table, grads, ids, w, 1e-2, 0.1, pool), 21);
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| SignSGD, {rows} rows x {w}, random ids of 1000 | {ms:F3} | | {bytes} |"));
        (ms, bytes) = MedianTimer.Time(() => CpuOps.SignSgdRows(table, grads, one, w, 1e-2, 0.1, pool), 21);
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| SignSGD, {rows} rows x {w}, all id 0 | {ms:F3} | | {bytes} |"));
    }


    private static float[] Fill(Random rng, int n, float scale)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)((rng.NextDouble() * 2 - 1) * scale);
        return a;
    }
}
