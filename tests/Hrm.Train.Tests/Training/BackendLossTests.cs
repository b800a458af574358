using Hrm.Runtime.Backends;
using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Backends.Reference;
using Hrm.Runtime.Loss;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Tests.TestUtil;
using Hrm.Train.Training;

namespace Hrm.Train.Tests.Training;

/// <summary>
/// BackendLoss (the trainer's and evaluator's loss, through IHrmBackend.StablemaxCe) against HrmLoss on host
/// arrays (the trainer's path before the op existed): the same parts, gradients and per-row statistics, bit for bit.
/// </summary>
public sealed class BackendLossTests
{
    [Theory]
    [InlineData("cpu", LossType.StablemaxCrossEntropy, true)]
    [InlineData("cpu", LossType.SoftmaxCrossEntropy, false)]
    [InlineData("reference", LossType.StablemaxCrossEntropy, true)]
    public void Backend_loss_equals_the_host_loss_bit_for_bit(string backend, LossType type, bool training)
    {
        const int b = 6, l = 17, v = 9, globalBatch = 24;
        var rng = new Random(41);
        float[] logits = new float[b * l * v];
        for (int i = 0; i < logits.Length; i++) logits[i] = (float)(rng.NextDouble() * 8 - 4);
        int[] labels = new int[b * l];
        for (int i = 0; i < labels.Length; i++) labels[i] = rng.Next(4) == 0 ? HrmLoss.IgnoreLabel : rng.Next(v);
        Array.Fill(labels, HrmLoss.IgnoreLabel, 2 * l, l);
        float[] q = new float[2 * b], qh = new float[b], qc = new float[b], target = new float[b];
        for (int i = 0; i < b; i++)
        {
            qh[i] = q[2 * i] = (float)(rng.NextDouble() * 6 - 3);
            qc[i] = q[2 * i + 1] = (float)(rng.NextDouble() * 6 - 3);
            target[i] = (float)rng.NextDouble();
        }
        var host = new HrmLoss(b, l, v, type);
        float[] g = new float[logits.Length], dq = new float[2 * b];
        LossParts expected = host.Compute(logits, labels, qh, qc, target, training, globalBatch, g, dq);

        using IHrmBackend be = backend == "cpu" ? new CpuBackend(1) : new ReferenceBackend();
        Buf dLogits = be.Allocate(logits.Length, "dlogits"), dQ = be.Allocate(2 * b, "dq");
        Buf xLogits = be.Allocate(logits.Length, "logits"), xQ = be.Allocate(2 * b, "q");
        be.Upload(logits, xLogits);
        be.Upload(q, xQ);
        using var loss = new BackendLoss(be, b, l, v, type);
        LossParts parts = loss.Compute(xLogits, labels, xQ, training ? target : [], training, globalBatch, dLogits, dQ);

        Assert.Equal(expected, parts);
        Assert.Equal(host.ValidCounts.ToArray(), loss.Rows.ValidCounts.ToArray());
        Assert.Equal(host.CorrectCounts.ToArray(), loss.Rows.CorrectCounts.ToArray());
        Assert.Equal(host.SeqCorrect.ToArray(), loss.Rows.SeqCorrect.ToArray());
        var gb = new float[g.Length];
        var dqb = new float[dq.Length];
        be.Download(dLogits, gb);
        be.Download(dQ, dqb);
        Assert.Equal(g, gb);
        Assert.Equal(dq, dqb);
    }

    [Fact]
    public void Labels_are_checked_on_the_host_and_calls_allocate_nothing()
    {
        const int b = 2, l = 3, v = 4;
        using var be = new CpuBackend(1);
        using var loss = new BackendLoss(be, b, l, v, LossType.StablemaxCrossEntropy);
        Buf logits = be.Allocate(b * l * v, "logits"), q = be.Allocate(2 * b, "q");
        Buf dl = be.Allocate(b * l * v, "dlogits"), dq = be.Allocate(2 * b, "dq");
        int[] labels = [0, 1, 2, 3, HrmLoss.IgnoreLabel, 5];
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => loss.Compute(logits, labels, q, [], false, b, dl, dq));
        Assert.Equal("labels", e.ParamName);
        Assert.Contains("label 5 at flat index 5 is neither -100 nor in [0, 4)", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => loss.Compute(logits, labels.AsSpan(0, 5), q, [], false, b, dl, dq));

        labels[5] = 1;
        float[] target = [0.25f, 0.75f];
        for (int i = 0; i < 3; i++) loss.Compute(logits, labels, q, target, true, b, dl, dq);
        ThreadAllocations.AssertNone(() =>
        {
            for (int i = 0; i < 3; i++)
            {
                loss.Compute(logits, labels, q, target, true, b, dl, dq);
                loss.Compute(logits, labels, q, [], false, b, Buf.Empty, Buf.Empty);
            }
        }, "3 warm backend loss computations");
    }
}
