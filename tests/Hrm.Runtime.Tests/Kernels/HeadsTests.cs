using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Backends.Reference;
using Hrm.Runtime.Tests.TestUtil;
using Hrm.Runtime.Threading;
using static Hrm.Runtime.Tests.Kernels.KernelTestUtil;

namespace Hrm.Runtime.Tests.Kernels;

[Collection(KernelTestGroup.Name)]
public sealed class HeadsTests
{
    [Fact]
    public void Reference_lm_head_backward_matches_finite_differences()
    {
        const int batch = 2, t = 4, p = 1, c = 5, v = 3, l = t - p;
        double[] z = Doubles(1, batch * t * c), w = Doubles(2, v * c), r = Doubles(3, batch * l * v);
        var logits = new double[batch * l * v];
        double Loss()
        {
            ReferenceOps.LmHeadForward(logits, z, w, batch, t, p, c, v);
            return FiniteDiff.Dot(logits, r);
        }
        var dz = Doubles(4, z.Length); // written (=), including the zero prefix
        var dw0 = Doubles(5, w.Length);
        var dw = (double[])dw0.Clone(); // accumulated (+=)
        ReferenceOps.LmHeadBackward(dz, dw, r, z, w, batch, t, p, c, v);
        FiniteDiff.Check(z, dz, Loss, "dzH", samples: z.Length);
        FiniteDiff.Check(w, Minus(dw, dw0), Loss, "dW", samples: w.Length);
    }

    [Fact]
    public void Reference_q_head_backward_matches_finite_differences()
    {
        const int batch = 3, t = 2, c = 5;
        double[] z = Doubles(1, batch * t * c), w = Doubles(2, 2 * c), bias = Doubles(3, 2), r = Doubles(4, 2 * batch);
        var q = new double[2 * batch];
        double Loss()
        {
            ReferenceOps.QHeadForward(q, z, w, bias, batch, t, c);
            return FiniteDiff.Dot(q, r);
        }
        double[] dz0 = Doubles(5, z.Length), dw0 = Doubles(6, w.Length), db0 = Doubles(7, 2);
        double[] dz = (double[])dz0.Clone(), dw = (double[])dw0.Clone(), db = (double[])db0.Clone();
        ReferenceOps.QHeadBackward(dz, dw, db, r, z, w, batch, t, c);
        FiniteDiff.Check(z, Minus(dz, dz0), Loss, "dzH", samples: z.Length);
        FiniteDiff.Check(w, Minus(dw, dw0), Loss, "dW", samples: w.Length);
        FiniteDiff.Check(bias, Minus(db, db0), Loss, "dbias");
    }

    [Theory]
    [InlineData(1, 1, 0, 7, 1)]
    [InlineData(3, 6, 2, 45, 6)]
    [InlineData(4, 82, 1, 512, 11)] // HRM shape
    public void Cpu_lm_head_matches_reference(int batch, int t, int p, int c, int v)
    {
        int l = t - p;
        float[] z = TestData.Floats(1 + c, batch * t * c), w = TestData.Floats(2 + c, v * c);
        float[] dlogits = TestData.Floats(3 + c, batch * l * v), dw0 = TestData.Floats(4 + c, v * c);
        var refLogits = new double[batch * l * v];
        ReferenceOps.LmHeadForward(refLogits, TestData.ToDouble(z), TestData.ToDouble(w), batch, t, p, c, v);
        var refDz = new double[z.Length];
        double[] refDw = TestData.ToDouble(dw0);
        ReferenceOps.LmHeadBackward(refDz, refDw, TestData.ToDouble(dlogits), TestData.ToDouble(z),
            TestData.ToDouble(w), batch, t, p, c, v);

        using var pool = new WorkerPool(2);
        var logits = new float[refLogits.Length];
        CpuOps.LmHeadForward(logits, z, w, batch, t, p, c, v, pool);
        TensorAssert.Close(refLogits, logits, 1e-5, 1e-4, 1e-10, "logits");
        float[] dz = TestData.Floats(5, z.Length), dw = (float[])dw0.Clone();
        CpuOps.LmHeadBackward(dz, dw, dlogits, z, w, batch, t, p, c, v, pool);
        TensorAssert.Close(refDz, dz, 1e-5, 1e-4, 1e-10, "dzH");
        TensorAssert.Close(refDw, dw, 1e-4, 1e-4, 1e-10, "dW");
    }

    [Theory]
    [InlineData(1, 1, 3)]
    [InlineData(5, 3, 37)]
    [InlineData(16, 82, 512)] // HRM shape
    public void Cpu_q_head_matches_reference(int batch, int t, int c)
    {
        float[] z = TestData.Floats(1 + c, batch * t * c), w = TestData.Floats(2 + c, 2 * c), bias = [0.25f, -0.5f];
        float[] dq = TestData.Floats(3 + c, 2 * batch);
        float[] dz0 = TestData.Floats(4 + c, z.Length), dw0 = TestData.Floats(5 + c, 2 * c), db0 = [0.5f, 1.5f];
        var refQ = new double[2 * batch];
        ReferenceOps.QHeadForward(refQ, TestData.ToDouble(z), TestData.ToDouble(w), TestData.ToDouble(bias),
            batch, t, c);
        double[] refDz = TestData.ToDouble(dz0), refDw = TestData.ToDouble(dw0), refDb = TestData.ToDouble(db0);
        ReferenceOps.QHeadBackward(refDz, refDw, refDb, TestData.ToDouble(dq), TestData.ToDouble(z),
            TestData.ToDouble(w), batch, t, c);

        using var pool = new WorkerPool(2);
        var q = new float[2 * batch];
        CpuOps.QHeadForward(q, z, w, bias, batch, t, c, pool);
        TensorAssert.Close(refQ, q, 1e-5, 1e-4, 1e-10, "q");
        float[] dz = (float[])dz0.Clone(), dw = (float[])dw0.Clone(), db = (float[])db0.Clone();
        CpuOps.QHeadBackward(dz, dw, db, dq, z, w, batch, t, c, pool);
        TensorAssert.Close(refDz, dz, 1e-5, 1e-4, 1e-10, "dzH");
        TensorAssert.Close(refDw, dw, 1e-5, 1e-4, 1e-10, "dW");
        TensorAssert.Close(refDb, db, 1e-5, 1e-4, 1e-10, "dbias");
    }

    [Fact]
    public void Results_are_deterministic_and_calls_allocate_nothing()
    {
        const int batch = 8, t = 82, p = 1, c = 512, v = 11, l = t - p;
        float[] z = TestData.Floats(1, batch * t * c), w = TestData.Floats(2, v * c);
        float[] dlogits = TestData.Floats(3, batch * l * v);
        float[] qw = TestData.Floats(4, 2 * c), bias = [0.1f, 0.2f], dq = TestData.Floats(5, 2 * batch);
        using var pool = new WorkerPool(2);
        var outs = new float[2][];
        for (int k = 0; k < 2; k++)
        {
            float[] logits = new float[batch * l * v], dz = new float[z.Length], dw = TestData.Floats(6, v * c);
            float[] q = new float[2 * batch], dqw = TestData.Floats(7, 2 * c), db = [1f, 2f];
            CpuOps.LmHeadForward(logits, z, w, batch, t, p, c, v, pool);
            CpuOps.LmHeadBackward(dz, dw, dlogits, z, w, batch, t, p, c, v, pool);
            CpuOps.QHeadForward(q, z, qw, bias, batch, t, c, pool);
            CpuOps.QHeadBackward(dz, dqw, db, dq, z, qw, batch, t, c, pool);
            outs[k] = [.. logits, .. dz, .. dw, .. q, .. dqw, .. db];
        }
        AssertBitwiseEqual(outs[0], outs[1], "heads");

        float[] lg = new float[batch * l * v], gz = new float[z.Length], gw = new float[v * c];
        float[] qq = new float[2 * batch], gqw = new float[2 * c], gb = new float[2];
        AssertNoAllocation(() =>
        {
            CpuOps.LmHeadForward(lg, z, w, batch, t, p, c, v, pool);
            CpuOps.LmHeadBackward(gz, gw, dlogits, z, w, batch, t, p, c, v, pool);
            CpuOps.QHeadForward(qq, z, qw, bias, batch, t, c, pool);
            CpuOps.QHeadBackward(gz, gqw, gb, dq, z, qw, batch, t, c, pool);
        }, "heads");
    }

    [Fact]
    public void Wrong_lengths_throw_naming_the_operand()
    {
        using var pool = new WorkerPool(2);
        var e = Assert.Throws<ArgumentException>(() =>
            CpuOps.LmHeadForward(new float[2 * 3], new float[3 * 4], new float[3 * 4 + 1], 1, 3, 1, 4, 3, pool));
        Assert.Equal("weight", e.ParamName);
        e = Assert.Throws<ArgumentException>(() =>
            CpuOps.QHeadForward(new float[2], new float[4], new float[8], new float[1], 1, 1, 4, pool));
        Assert.Equal("bias", e.ParamName);
    }
}
