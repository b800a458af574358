using System.Runtime.InteropServices;
using Hrm.Runtime.Backends;
using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Backends.Reference;
using Hrm.Runtime.Loss;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Tests.TestUtil;

namespace Hrm.Runtime.Tests.Kernels;

/// <summary>
/// IHrmBackend.StablemaxCe on the CPU (float) and reference (double) backends: against StablemaxCeMath in double
/// on the host, against each other, and its gradients against finite differences of total/globalBatch.
/// </summary>
public sealed class StablemaxCeTests
{
    private const int Ignore = StablemaxCeMath.IgnoreLabel;

    /// <summary>Random inputs: logits (B,L,V) in [-4, 4), labels with ~1/4 ignored and one row all ignored.</summary>
    internal sealed record Inputs(int B, int L, int V, float[] Logits, int[] Labels, float[] Q, float[] Target)
    {
        public static Inputs Make(int seed, int b, int l, int v)
        {
            int[] labels = TestData.Ints(seed + 1, b * l, 0, v);
            int[] drop = TestData.Ints(seed + 2, b * l, 0, 4);
            for (int i = 0; i < labels.Length; i++) if (drop[i] == 0) labels[i] = Ignore;
            if (b > 1) Array.Fill(labels, Ignore, l, l); // row 1: n_b = 0
            float[] target = TestData.Floats(seed + 4, b, 0.5f);
            for (int i = 0; i < b; i++) target[i] += 0.5f;
            return new Inputs(b, l, v, TestData.Floats(seed, b * l * v, 4f), labels, TestData.Floats(seed + 3, 2 * b, 3f),
                target);
        }
    }

    /// <summary>The op's outputs on one backend, read to the host (floats via Download).</summary>
    internal sealed record Outputs(float[] DLogits, float[] Dq, double[] RowLoss, int[] RowStats);

    internal static Outputs Run(IHrmBackend be, Inputs x, LossType type, bool training, int globalBatch)
    {
        int b = x.B;
        Buf logits = be.Allocate(x.Logits.Length, "logits"), q = be.Allocate(2 * b, "q"), target = be.Allocate(b, "t");
        Buf labels = be.AllocateInts(x.Labels.Length, "labels");
        Buf dlogits = be.Allocate(x.Logits.Length, "dlogits"), dq = be.Allocate(2 * b, "dq");
        Buf rowLoss = be.AllocateInts(StablemaxCeRows.RowLossInts(b), "row_loss"), rowStats = be.AllocateInts(3 * b, "row_stats");
        be.Upload(x.Logits, logits);
        be.Upload(x.Q, q);
        be.Upload(x.Target, target);
        be.UploadInts(x.Labels, labels);
        be.StablemaxCe(dlogits, dq, rowLoss, rowStats, logits, labels, q, training ? target : Buf.Empty, b, x.L, x.V,
            type, training, globalBatch);
        var o = new Outputs(new float[x.Logits.Length], new float[2 * b], new double[3 * b], new int[3 * b]);
        be.Download(dlogits, o.DLogits);
        be.Download(dq, o.Dq);
        be.DownloadInts(rowLoss, MemoryMarshal.Cast<double, int>(o.RowLoss.AsSpan()));
        be.DownloadInts(rowStats, o.RowStats);
        return o;
    }

    [Theory]
    [InlineData(LossType.StablemaxCrossEntropy, true)]
    [InlineData(LossType.SoftmaxCrossEntropy, false)]
    public void Cpu_op_equals_the_double_math_and_the_reference_backend_bit_for_bit(LossType type, bool training)
    {
        Inputs x = Inputs.Make(11, 5, 9, 7);
        using var cpu = new CpuBackend(1);
        using var reference = new ReferenceBackend();
        Outputs c = Run(cpu, x, type, training, 13);
        Outputs r = Run(reference, x, type, training, 13);

        // The math in double on the host from the upcast inputs (the values the float op reads).
        var g = new double[x.Logits.Length];
        var dq = new double[2 * x.B];
        var rowLoss = new double[3 * x.B];
        var rowStats = new int[3 * x.B];
        StablemaxCeMath.Compute<double>(g, dq, rowLoss, rowStats, TestData.ToDouble(x.Logits), x.Labels,
            TestData.ToDouble(x.Q), training ? TestData.ToDouble(x.Target) : [], x.B, x.L, x.V, type, training, 13);

        foreach (Outputs o in new[] { c, r })
        {
            Assert.Equal(rowLoss, o.RowLoss);
            Assert.Equal(rowStats, o.RowStats);
            for (int i = 0; i < g.Length; i++) Assert.Equal((float)g[i], o.DLogits[i]);
            for (int i = 0; i < dq.Length; i++) Assert.Equal((float)dq[i], o.Dq[i]);
        }
        Assert.Equal([0, 0, 1], rowStats.AsSpan(3, 3).ToArray()); // the all-ignored row: n 0, seq_correct
        Assert.All(c.RowLoss, v => Assert.True(double.IsFinite(v)));
        if (!training) Assert.All(Enumerable.Range(0, x.B), b => Assert.Equal(0f, c.Dq[2 * b + 1]));
    }

    [Theory]
    [InlineData(LossType.StablemaxCrossEntropy)]
    [InlineData(LossType.SoftmaxCrossEntropy)]
    public void Reference_op_gradients_match_finite_differences(LossType type)
    {
        const int b = 3, l = 4, v = 5, globalBatch = 6;
        Inputs x = Inputs.Make(21, b, l, v);
        using var be = new ReferenceBackend();
        Buf logits = be.Allocate(b * l * v, "logits"), q = be.Allocate(2 * b, "q"), target = be.Allocate(b, "t");
        Buf labels = be.AllocateInts(b * l, "labels");
        Buf dlogits = be.Allocate(b * l * v, "dlogits"), dq = be.Allocate(2 * b, "dq");
        Buf rowLoss = be.AllocateInts(StablemaxCeRows.RowLossInts(b), "row_loss"), rowStats = be.AllocateInts(3 * b, "s");
        double[] lg = TestData.ToDouble(x.Logits), qv = TestData.ToDouble(x.Q);
        be.Upload(x.Target, target);
        be.UploadInts(x.Labels, labels);
        var rows = new StablemaxCeRows(b);

        double Objective(Buf gl, Buf gq)
        {
            ReferenceBackend.WriteDoubles(lg, logits);
            ReferenceBackend.WriteDoubles(qv, q);
            be.StablemaxCe(gl, gq, rowLoss, rowStats, logits, labels, q, target, b, l, v, type, true, globalBatch);
            return rows.Read(be, rowLoss, rowStats, training: true).Total / globalBatch;
        }

        Objective(dlogits, dq);
        double[] gLogits = ReferenceBackend.ReadDoubles(dlogits), gQ = ReferenceBackend.ReadDoubles(dq);
        FiniteDiff.Check(lg, gLogits, () => Objective(Buf.Empty, Buf.Empty), "dlogits", h: 1e-6, tol: 1e-7);
        FiniteDiff.Check(qv, gQ, () => Objective(Buf.Empty, Buf.Empty), "dq", h: 1e-6, tol: 1e-7);
        for (int i = 0; i < x.Labels.Length; i++)
        {
            if (x.Labels[i] != Ignore) continue;
            for (int j = 0; j < v; j++) Assert.Equal(0.0, gLogits[i * v + j]);
        }
    }

    [Fact]
    public void Bad_labels_and_buffers_throw_with_what_and_where()
    {
        Inputs x = Inputs.Make(5, 2, 3, 4);
        x.Labels[4] = 4;
        using var cpu = new CpuBackend(1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Run(cpu, x, LossType.StablemaxCrossEntropy, true, 2));
        Assert.Equal("labels", e.ParamName);
        Assert.Contains("label 4 at flat index 4", e.Message, StringComparison.Ordinal);

        Buf f = cpu.Allocate(2 * 3 * 4, "logits"), q = cpu.Allocate(4, "q"), lab = cpu.AllocateInts(6, "labels");
        Buf stats = cpu.AllocateInts(6, "stats"), loss = cpu.AllocateInts(13, "loss");
        var shortLoss = Assert.Throws<ArgumentException>(() => cpu.StablemaxCe(Buf.Empty, Buf.Empty, loss.Slice(0, 6),
            stats, f, lab, q, Buf.Empty, 2, 3, 4, LossType.StablemaxCrossEntropy, false, 2));
        Assert.Contains("rowLoss: expected 12 elements, got 6", shortLoss.Message, StringComparison.Ordinal);
        var misaligned = Assert.Throws<ArgumentException>(() => cpu.StablemaxCe(Buf.Empty, Buf.Empty,
            loss.Slice(1, 12), stats, f, lab, q, Buf.Empty, 2, 3, 4, LossType.StablemaxCrossEntropy, false, 2));
        Assert.Contains("8-byte aligned", misaligned.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => cpu.StablemaxCe(Buf.Empty, Buf.Empty, loss.Slice(0, 12), stats, f, lab,
            q, Buf.Empty, 2, 3, 4, LossType.StablemaxCrossEntropy, true, 2)); // training needs the targets
        Assert.True(cpu.SupportsOp(HrmOp.StablemaxCe));
    }
}
