using System.Runtime.InteropServices;
using Hrm.Runtime.Loss;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;
using Hrm.Runtime.Tests.TestUtil;

namespace Hrm.Runtime.Tests.Cuda;

/// <summary>CudaBackend ACT bookkeeping (act.cu) and the optimisers' skip flag vs CpuBackend (GPU only).</summary>
[Collection("Cuda")]
public sealed class CudaBackendActTests(CudaFixture cuda, ITestOutputHelper output)
{
    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData(1, 81)]
    [InlineData(768, 900)]
    [InlineData(300, 1)]
    public void SelectRows_is_bitwise_the_cpu(int rows, int width)
    {
        using var p = new BackendPair(cuda.BackendOrSkip(), output);
        Twin dst = p.Ints(TestData.Ints(1, rows * width, 0, 10)), src = p.Ints(TestData.Ints(2, rows * width, 10, 20));
        Twin mask = p.Ints(TestData.Ints(3, rows, 0, 2));
        p.Cpu.SelectRows(dst.C, src.C, mask.C, rows, width);
        p.Gpu.SelectRows(dst.G, src.G, mask.G, rows, width);
        SameInts(p, dst, "dst");
    }

    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData(ActHaltRule.MaxSteps)]
    [InlineData(ActHaltRule.QHaltOverContinue)]
    [InlineData(ActHaltRule.QHaltPositive)]
    public void ActHalt_is_bitwise_the_cpu(ActHaltRule rule)
    {
        using var p = new BackendPair(cuda.BackendOrSkip(), output);
        const int batch = 777, maxSteps = 8;
        Twin halted = p.Ints(TestData.Ints(4, batch, 0, 2)), steps = p.Ints(TestData.Ints(5, batch, 0, maxSteps));
        Twin q = p.Floats(6, 2 * batch, 3f), minSteps = p.Ints(TestData.Ints(7, batch, 0, maxSteps + 1));
        p.Cpu.ActHalt(halted.C, steps.C, q.C, minSteps.C, batch, maxSteps, rule);
        p.Gpu.ActHalt(halted.G, steps.G, q.G, rule == ActHaltRule.MaxSteps ? Buf.Empty : minSteps.G, batch, maxSteps, rule);
        SameInts(p, halted, "halted");
        SameInts(p, steps, "steps");
    }

    [Trait("Category", "Gpu")]
    [Fact]
    public void ActTarget_matches_the_cpu_to_an_ulp()
    {
        using var p = new BackendPair(cuda.BackendOrSkip(), output);
        const int batch = 513, maxSteps = 4;
        Twin target = p.Zeros(batch), qNext = p.Floats(8, 2 * batch, 6f), steps = p.Ints(TestData.Ints(9, batch, 1, maxSteps + 1));
        p.Cpu.ActTarget(target.C, qNext.C, steps.C, batch, maxSteps);
        p.Gpu.ActTarget(target.G, qNext.G, steps.G, batch, maxSteps);
        p.Close(target, 1e-6, "target");
    }

    [Trait("Category", "Gpu")]
    [Fact]
    public void ActMetrics_matches_the_cpu_and_sets_the_skip_flag_that_stops_both_optimisers()
    {
        using var p = new BackendPair(cuda.BackendOrSkip(), output);
        const int batch = 768, slots = 3;
        int[] stats = new int[3 * batch], n = TestData.Ints(10, batch, 0, 82), wrong = TestData.Ints(11, batch, 0, 3);
        for (int b = 0; b < batch; b++)
        {
            int right = Math.Max(0, n[b] - wrong[b]);
            (stats[3 * b], stats[3 * b + 1], stats[3 * b + 2]) = (n[b], right, right == n[b] ? 1 : 0);
        }
        double[] rowLoss = TestData.Doubles(12, 3 * batch).Select(Math.Abs).ToArray();
        Twin sums = p.Ints(new int[ActMetricSums.Ints(slots)]), skip = p.Ints([0]);
        Twin halted = p.Ints(TestData.Ints(13, batch, 0, 2)), steps = p.Ints(TestData.Ints(14, batch, 1, 17));
        Twin q = p.Floats(15, 2 * batch, 2f), st = p.Ints(stats);
        Twin rl = p.Ints(MemoryMarshal.Cast<double, int>(rowLoss.AsSpan()).ToArray());
        for (int slot = 0; slot < 2; slot++)
        {
            p.Cpu.ActMetrics(sums.C, skip.C, halted.C, steps.C, q.C, rl.C, st.C, batch, slot);
            p.Gpu.ActMetrics(sums.G, skip.G, halted.G, steps.G, q.G, rl.G, st.G, batch, slot);
        }
        (double[] c, double[] g) = (Doubles(p, sums.C, cpu: true), Doubles(p, sums.G, cpu: false));
        for (int i = 0; i < ActMetricSums.Doubles(2); i++)
            Assert.True(Math.Abs(c[i] - g[i]) <= 1e-12 * Math.Max(1, Math.Abs(c[i])), $"sum {i}: cpu {c[i]:R}, cuda {g[i]:R}");
        Assert.Equal([0], IntsOf(p, skip.G, cpu: false));

        rowLoss[7] = double.NaN;
        Twin bad = p.Ints(MemoryMarshal.Cast<double, int>(rowLoss.AsSpan()).ToArray());
        p.Gpu.ActMetrics(sums.G, skip.G, halted.G, steps.G, q.G, bad.G, st.G, batch, 2);
        Assert.Equal([1], IntsOf(p, skip.G, cpu: false));
        Assert.True(double.IsNaN(Doubles(p, sums.G, cpu: false)[ActMetricSums.Fixed + 2]));

        Twin param = p.Floats(16, 1000), grad = p.Floats(17, 1000), m = p.Zeros(1000), v = p.Zeros(1000);
        p.Gpu.AdamATan2Step(param.G, grad.G, m.G, v.G, 1e-2, 0.9, 0.95, 0.1, 1, skip.G);
        p.Same(param, "param (skipped on CUDA, untouched on the CPU)");
        Twin table = p.Floats(18, 10 * 300), rows = p.Floats(19, 4 * 300), ids = p.Ints([0, 3, 3, 9]);
        p.Gpu.SignSgdRows(table.G, rows.G, ids.G, 4, 300, 0.1, 0.1, skip.G);
        p.Same(table, "table (skipped on CUDA, untouched on the CPU)");
    }

    private static void SameInts(BackendPair p, Twin t, string what)
        => Assert.True(IntsOf(p, t.C, cpu: true).AsSpan().SequenceEqual(IntsOf(p, t.G, cpu: false)), $"{what} differs");

    private static int[] IntsOf(BackendPair p, Buf b, bool cpu)
    {
        var r = new int[b.Length];
        if (cpu) p.Cpu.DownloadInts(b, r);
        else p.Gpu.DownloadInts(b, r);
        return r;
    }

    private static double[] Doubles(BackendPair p, Buf b, bool cpu) =>
        MemoryMarshal.Cast<int, double>(IntsOf(p, b, cpu).AsSpan()).ToArray();
}
