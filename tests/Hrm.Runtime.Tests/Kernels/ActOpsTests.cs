using System.Runtime.InteropServices;
using Hrm.Runtime.Backends;
using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Backends.Reference;
using Hrm.Runtime.Loss;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;
using Hrm.Runtime.Tests.TestUtil;
using static Hrm.Runtime.Tests.TestUtil.BackendBuffers;

namespace Hrm.Runtime.Tests.Kernels;

/// <summary>
/// The ACT bookkeeping ops (SelectRows, ActHalt, ActTarget, ActMetrics) and the optimisers' skip flag on the CPU
/// and reference backends: each against values written out by hand or an independent loop here, on fresh random
/// inputs.
/// </summary>
[Collection(KernelTestGroup.Name)]
public sealed class ActOpsTests
{
    [Fact]
    public void SelectRows_replaces_exactly_the_masked_rows()
    {
        using var cpu = new CpuBackend(1);
        const int rows = 7, width = 5;
        int[] dst = TestData.Ints(1, rows * width, 0, 100), src = TestData.Ints(2, rows * width, 100, 200);
        int[] mask = [1, 0, 0, 3, 0, -1, 1]; // any non-zero value selects
        Buf d = Ints(cpu, dst), s = Ints(cpu, src), m = Ints(cpu, mask);
        cpu.SelectRows(d, s, m, rows, width);
        int[] got = Read(cpu, d);
        for (int r = 0; r < rows; r++)
        {
            int[] want = mask[r] != 0 ? src : dst;
            Assert.Equal(want.AsSpan(r * width, width).ToArray(), got.AsSpan(r * width, width).ToArray());
        }
        using var reference = new ReferenceBackend();
        Buf rd = Ints(reference, dst);
        reference.SelectRows(rd, Ints(reference, src), Ints(reference, mask), rows, width);
        Assert.Equal(got, Read(reference, rd));
    }

    [Theory]
    [InlineData(ActHaltRule.MaxSteps)]
    [InlineData(ActHaltRule.QHaltOverContinue)]
    [InlineData(ActHaltRule.QHaltPositive)]
    public void ActHalt_counts_steps_and_applies_the_rule(ActHaltRule rule)
    {
        const int batch = 64, maxSteps = 4;
        int[] halted = TestData.Ints(3, batch, 0, 2), steps = TestData.Ints(4, batch, 0, maxSteps);
        int[] minSteps = TestData.Ints(5, batch, 0, maxSteps + 1);
        for (int b = 0; b < batch; b += 3) minSteps[b] = 0;
        float[] q = TestData.Floats(6, 2 * batch, 3f);
        var wantHalted = new int[batch];
        var wantSteps = new int[batch];
        for (int b = 0; b < batch; b++)
        {
            int s = halted[b] == 1 ? 1 : steps[b] + 1;
            bool h = s >= maxSteps;
            if (rule == ActHaltRule.QHaltOverContinue) h = (h || q[2 * b] > q[2 * b + 1]) && s >= minSteps[b];
            if (rule == ActHaltRule.QHaltPositive) h = (h || q[2 * b] > 0) && s >= minSteps[b];
            wantSteps[b] = s;
            wantHalted[b] = h ? 1 : 0;
        }
        Assert.Contains(0, wantHalted);
        Assert.Contains(1, wantHalted);

        using var cpu = new CpuBackend(1);
        Buf h1 = Ints(cpu, halted), s1 = Ints(cpu, steps), q1 = Up(cpu, q);
        Buf m1 = rule == ActHaltRule.MaxSteps ? Buf.Empty : Ints(cpu, minSteps);
        cpu.ActHalt(h1, s1, q1, m1, batch, maxSteps, rule);
        Assert.Equal(wantHalted, Read(cpu, h1));
        Assert.Equal(wantSteps, Read(cpu, s1));

        using var reference = new ReferenceBackend();
        Buf h2 = Ints(reference, halted), s2 = Ints(reference, steps);
        Buf q2 = reference.Allocate(q.Length, "q");
        reference.Upload(q, q2);
        reference.ActHalt(h2, s2, q2, Ints(reference, minSteps), batch, maxSteps, rule);
        Assert.Equal(wantHalted, Read(reference, h2));
        Assert.Equal(wantSteps, Read(reference, s2));
    }

    [Fact]
    public void ActTarget_is_the_sigmoid_of_the_bootstrap_logit()
    {
        const int batch = 33, maxSteps = 3;
        float[] qNext = TestData.Floats(7, 2 * batch, 4f);
        qNext[10] = float.NaN; // row 5: a NaN continue logit propagates through max unless the row is at max steps
        int[] steps = TestData.Ints(8, batch, 1, maxSteps + 1);
        steps[5] = 1;
        using var cpu = new CpuBackend(1);
        Buf t = cpu.Allocate(batch, "target");
        cpu.ActTarget(t, Up(cpu, qNext), Ints(cpu, steps), batch, maxSteps);
        var got = new float[batch];
        cpu.Download(t, got);
        for (int b = 0; b < batch; b++)
        {
            double x = steps[b] >= maxSteps ? qNext[2 * b] : Math.Max(qNext[2 * b], (double)qNext[2 * b + 1]);
            double want = 1.0 / (1.0 + Math.Exp(-x));
            if (b == 5) Assert.True(float.IsNaN(got[b]), "NaN continue logit");
            else Assert.Equal(want, got[b], 1e-6);
        }
        using var reference = new ReferenceBackend();
        Buf rt = reference.Allocate(batch, "target");
        reference.ActTarget(rt, Up(reference, qNext), Ints(reference, steps), batch, maxSteps);
        float[] r = Down(reference, rt);
        for (int b = 0; b < batch; b++)
        {
            if (b == 5) Assert.True(float.IsNaN(r[b]));
            else Assert.Equal(got[b], r[b], 1e-6);
        }
    }

    [Fact]
    public void ActMetrics_adds_the_halted_valid_rows_and_flags_a_non_finite_total()
    {
        const int batch = 40;
        int[] halted = TestData.Ints(9, batch, 0, 2), steps = TestData.Ints(10, batch, 1, 17);
        float[] q = TestData.Floats(11, 2 * batch, 2f);
        double[] rowLoss = TestData.Doubles(12, 3 * batch).Select(Math.Abs).ToArray();
        var stats = new int[3 * batch];
        int[] n = TestData.Ints(13, batch, 0, 5), extra = TestData.Ints(14, batch, 0, 2);
        for (int b = 0; b < batch; b++)
        {
            int correct = Math.Max(0, n[b] - extra[b]);
            stats[3 * b] = n[b];
            stats[3 * b + 1] = correct;
            stats[3 * b + 2] = correct == n[b] ? 1 : 0;
        }
        using var cpu = new CpuBackend(1);
        Buf sums = cpu.AllocateInts(ActMetricSums.Ints(3), "sums"), skip = cpu.AllocateInts(1, "skip");
        Buf hb = Ints(cpu, halted), sb = Ints(cpu, steps), qb = Up(cpu, q), st = Ints(cpu, stats);
        Buf rl = cpu.AllocateInts(StablemaxCeRows.RowLossInts(batch), "row loss");
        cpu.UploadInts(MemoryMarshal.Cast<double, int>(rowLoss.AsSpan()), rl);
        cpu.ActMetrics(sums, skip, hb, sb, qb, rl, st, batch, 0);
        cpu.ActMetrics(sums, skip, hb, sb, qb, rl, st, batch, 1); // the same step twice: sums double

        double count = 0, acc = 0, exact = 0, qAcc = 0, stepSum = 0, lm = 0, qh = 0, qc = 0;
        for (int b = 0; b < batch; b++)
        {
            lm += rowLoss[3 * b];
            qh += rowLoss[3 * b + 1];
            qc += rowLoss[3 * b + 2];
            if (halted[b] == 0 || n[b] == 0) continue;
            bool seq = stats[3 * b + 1] == n[b];
            count++;
            acc += (double)stats[3 * b + 1] / n[b];
            exact += seq ? 1 : 0;
            qAcc += (q[2 * b] >= 0) == seq ? 1 : 0;
            stepSum += steps[b];
        }
        Assert.True(count > 3 && count < batch, $"count {count}");
        double[] got = ReadDoubles(cpu, sums);
        Assert.Equal([2 * count, 2 * exact, 2 * qAcc, 2 * stepSum],
            [got[ActMetricSums.Count], got[ActMetricSums.ExactAccuracy], got[ActMetricSums.QHaltAccuracy], got[ActMetricSums.Steps]]);
        Assert.Equal(2 * acc, got[ActMetricSums.Accuracy], 1e-12);
        Assert.Equal(2 * lm, got[ActMetricSums.LmLoss], 1e-12);
        Assert.Equal(2 * qh, got[ActMetricSums.QHaltLoss], 1e-12);
        Assert.Equal(2 * qc, got[ActMetricSums.QContinueLoss], 1e-12);
        double total = lm + 0.5 * (qh + qc);
        Assert.Equal(total, got[ActMetricSums.Fixed], 1e-12);
        Assert.Equal(total, got[ActMetricSums.Fixed + 1], 1e-12);
        Assert.Equal(0, got[ActMetricSums.Fixed + 2]);
        Assert.Equal([0], Read(cpu, skip));

        rowLoss[4] = double.PositiveInfinity;
        cpu.UploadInts(MemoryMarshal.Cast<double, int>(rowLoss.AsSpan()), rl);
        cpu.ActMetrics(sums, skip, hb, sb, qb, rl, st, batch, 2);
        Assert.Equal([1], Read(cpu, skip));
        Assert.Equal(double.PositiveInfinity, ReadDoubles(cpu, sums)[ActMetricSums.Fixed + 2]);
        rowLoss[4] = 0.5; // finite again: the flag stays set
        cpu.UploadInts(MemoryMarshal.Cast<double, int>(rowLoss.AsSpan()), rl);
        cpu.ActMetrics(sums, skip, hb, sb, qb, rl, st, batch, 0);
        Assert.Equal([1], Read(cpu, skip));
        Assert.Throws<ArgumentException>(() => cpu.ActMetrics(sums, skip, hb, sb, qb, rl, st, batch, 3));

        using var reference = new ReferenceBackend();
        Buf rs = reference.AllocateInts(ActMetricSums.Ints(1), "sums"), rk = reference.AllocateInts(1, "skip");
        Buf rrl = reference.AllocateInts(StablemaxCeRows.RowLossInts(batch), "row loss");
        reference.UploadInts(MemoryMarshal.Cast<double, int>(rowLoss.AsSpan()), rrl);
        reference.ActMetrics(rs, rk, Ints(reference, halted), Ints(reference, steps), Up(reference, q), rrl,
            Ints(reference, stats), batch, 0);
        Assert.Equal([count, acc, exact, qAcc, stepSum], ReadDoubles(reference, rs)[..5]);
    }

    [Fact]
    public void A_set_skip_flag_makes_both_optimisers_write_nothing()
    {
        using var cpu = new CpuBackend(1);
        const int n = 300, rows = 4, width = 8;
        float[] p0 = TestData.Floats(15, n);
        Buf param = Up(cpu, p0), grad = Up(cpu, TestData.Floats(16, n)), m = cpu.Allocate(n, "m"), v = cpu.Allocate(n, "v");
        Buf skip = Ints(cpu, [1]);
        cpu.AdamATan2Step(param, grad, m, v, 1e-2, 0.9, 0.95, 0.1, 1, skip);
        Assert.Equal(p0, Down(cpu, param));
        Assert.All(Down(cpu, m), x => Assert.Equal(0f, x));
        float[] t0 = TestData.Floats(17, 10 * width);
        Buf table = Up(cpu, t0), rowGrads = Up(cpu, TestData.Floats(18, rows * width)), ids = Ints(cpu, [1, 3, 3, 7]);
        cpu.SignSgdRows(table, rowGrads, ids, rows, width, 0.1, 0.1, skip);
        Assert.Equal(t0, Down(cpu, table));

        cpu.UploadInts([0], skip); // a clear flag is the same as none
        Buf param2 = Up(cpu, p0), m2 = cpu.Allocate(n, "m2"), v2 = cpu.Allocate(n, "v2");
        cpu.AdamATan2Step(param, grad, m, v, 1e-2, 0.9, 0.95, 0.1, 1, skip);
        cpu.AdamATan2Step(param2, grad, m2, v2, 1e-2, 0.9, 0.95, 0.1, 1);
        Assert.Equal(Down(cpu, param2), Down(cpu, param));
        Assert.NotEqual(p0, Down(cpu, param));

        using var reference = new ReferenceBackend();
        Buf rp = reference.Allocate(n, "p");
        reference.Upload(p0, rp);
        Buf rg = reference.Allocate(n, "g");
        reference.Upload(TestData.Floats(16, n), rg);
        reference.AdamATan2Step(rp, rg, reference.Allocate(n, "m"), reference.Allocate(n, "v"), 1e-2, 0.9, 0.95, 0.1, 1,
            Ints(reference, [1]));
        Assert.Equal(p0, Down(reference, rp));
    }

    private static Buf Ints(IHrmBackend b, int[] values)
    {
        Buf buf = b.AllocateInts(values.Length, "test ints");
        b.UploadInts(values, buf);
        return buf;
    }

    private static int[] Read(IHrmBackend b, Buf buf)
    {
        var r = new int[buf.Length];
        b.DownloadInts(buf, r);
        return r;
    }

    private static double[] ReadDoubles(IHrmBackend b, Buf buf)
    {
        var r = new double[buf.Length / 2];
        b.DownloadInts(buf, MemoryMarshal.Cast<double, int>(r.AsSpan()));
        return r;
    }
}
