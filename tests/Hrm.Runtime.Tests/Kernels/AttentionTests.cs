using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Backends.Reference;
using Hrm.Runtime.Tests.TestUtil;
using Hrm.Runtime.Threading;
using static Hrm.Runtime.Tests.Kernels.KernelTestUtil;

namespace Hrm.Runtime.Tests.Kernels;

[Collection(KernelTestGroup.Name)]
public sealed class AttentionTests
{
    [Theory]
    [InlineData(2, 5, 2, 4)]
    [InlineData(1, 3, 1, 6)]
    public void Reference_backward_matches_finite_differences(int batch, int t, int nh, int hs)
    {
        int c = nh * hs;
        double[] qkv = Doubles(1, 3 * batch * t * c, 1.5), r = Doubles(2, batch * t * c);
        var output = new double[batch * t * c];
        var lse = new double[batch * nh * t];
        double Loss()
        {
            ReferenceOps.AttentionForward(output, lse, qkv, batch, t, nh, hs);
            return FiniteDiff.Dot(output, r);
        }
        Loss();
        var dqkv = Doubles(3, qkv.Length); // written (=)
        ReferenceOps.AttentionBackward(dqkv, r, qkv, output, lse, batch, t, nh, hs);
        FiniteDiff.Check(qkv, dqkv, Loss, "dqkv", samples: qkv.Length);
    }

    [Theory]
    [InlineData(1, 1, 1, 8)]    // T = 1
    [InlineData(2, 7, 3, 16)]   // one key vector (the one-vector score kernel)
    [InlineData(2, 70, 3, 10)]  // one tile of 5 vectors, the last ragged; HS with a scalar tail
    [InlineData(1, 300, 2, 16)] // tiles of 256 + 44 keys (online softmax, ragged tile); AVX-512: the lanes forward
                                // and backward, 18 blocks of 16 queries and a ragged one of 12
    [InlineData(1, 65, 1, 96)]  // HS = 64 + 32
    [InlineData(2, 82, 8, 64)]  // HRM shape (sudoku): forward one 96-key tile, backward 64 + 32
    [InlineData(2, 82, 4, 16)]  // small heads (quickstart preset): one tile of 6 vectors (4 + 2), split FMA chains;
                                // AVX-512: the lanes forward and backward, 5 blocks, the last 2 queries on the key
                                // tiles (forward) or the tail path (backward)
    [InlineData(1, 1, 2, 16)]   // AVX-512 backward: one query, on the tail path
    [InlineData(1, 27, 1, 16)]  // AVX-512 backward: a lanes block and the longest tail taken one query at a time (11)
    [InlineData(1, 28, 1, 16)]  // AVX-512 backward: a lanes block and a ragged one of 12 (zero rows, P = 0)
    [InlineData(1, 67, 2, 32)]  // two 16-column blocks, one tile of 5 vectors (4 + 1), key count not a multiple of 4
    [InlineData(1, 901, 2, 64)] // ARC length: 14 tiles of 64 keys then 5, query rows split over tasks
    [InlineData(2, 3, 1, 512)]  // scratch too large for the stack: the heap path
    [InlineData(1, 128, 2, 64)] // the longest sequence of the per-head GEMM backward (W = 160)
    [InlineData(2, 30, 2, 32)]  // per-head GEMM backward: 3 micro-panels (42 rows) wider than one 32-key panel
    [InlineData(3, 1, 2, 32)]   // per-head GEMM backward, T = 1
    [InlineData(1, 129, 1, 64)] // one past it: the tiled backward
    [InlineData(1, 37, 2, 24)]  // a 16-column group and an 8-column tail (quads, a pair and an odd query)
    [InlineData(2, 70, 1, 40)]  // two 16-column groups and an 8-column tail
    public void Cpu_matches_reference(int batch, int t, int nh, int hs)
    {
        int c = nh * hs;
        // Scores of a few units so the softmax is neither flat nor one-hot.
        float[] qkv = TestData.Floats(10 + t, 3 * batch * t * c, 2f), dout = TestData.Floats(20 + t, batch * t * c);
        double[] qkvd = TestData.ToDouble(qkv);
        var refOut = new double[batch * t * c];
        var refLse = new double[batch * nh * t];
        ReferenceOps.AttentionForward(refOut, refLse, qkvd, batch, t, nh, hs);
        var refDqkv = new double[qkv.Length];
        ReferenceOps.AttentionBackward(refDqkv, TestData.ToDouble(dout), qkvd, refOut, refLse, batch, t, nh, hs);

        using var pool = new WorkerPool(2);
        var output = new float[refOut.Length];
        var lse = new float[refLse.Length];
        CpuOps.AttentionForward(output, lse, qkv, batch, t, nh, hs, pool);
        TensorAssert.Close(refOut, output, 1e-5, 1e-4, 1e-9, "out");
        TensorAssert.Close(refLse, lse, 1e-5, 1e-5, 1e-10, "lse");
        var dqkv = TestData.Floats(30, qkv.Length); // written (=), so garbage must not survive
        CpuOps.AttentionBackward(dqkv, dout, qkv, ToFloat(refOut), ToFloat(refLse), batch, t, nh, hs, pool);
        TensorAssert.Close(refDqkv, dqkv, 1e-5, 1e-4, 1e-9, "dqkv");
    }

    [Theory]
    [InlineData(1, 82, 8, 64)]  // batch-1 Sudoku
    [InlineData(3, 7, 2, 16)]   // quads, a pair and an odd query
    [InlineData(1, 300, 1, 32)] // one head on two threads: query rows split
    [InlineData(2, 150, 2, 64)] // several key tiles
    [InlineData(1, 9, 2, 22)]   // half = 11: rotation with a scalar tail, attention with scalar columns
    public void Rope_attention_equals_rope_then_attention_bitwise(int batch, int t, int nh, int hs)
    {
        int c = nh * hs;
        (double[] cosD, double[] sinD) = RopeTables(t, hs);
        float[] cos = ToFloat(cosD), sin = ToFloat(sinD);
        float[] qkv = TestData.Floats(40 + t, 3 * batch * t * c, 2f);
        using var pool = new WorkerPool(2);
        float[] q1 = (float[])qkv.Clone(), o1 = new float[batch * t * c], l1 = new float[batch * nh * t];
        CpuOps.RopeForward(q1, cos, sin, batch, t, nh, hs, pool);
        CpuOps.AttentionForward(o1, l1, q1, batch, t, nh, hs, pool);
        float[] q2 = (float[])qkv.Clone(), o2 = TestData.Floats(41, o1.Length), l2 = TestData.Floats(42, l1.Length);
        CpuOps.RopeAttentionForward(o2, l2, q2, cos, sin, batch, t, nh, hs, pool);
        Assert.Equal(q1, q2); // rotated in place, as the backward expects
        Assert.Equal(o1, o2);
        Assert.Equal(l1, l2);
        Assert.NotEqual(qkv, q2); // the rotation happened
    }

    /// <summary>
    /// The fused backward (with AVX-512 and heads of 16, the rotation inside the lanes job, on every dQ row of a block,
    /// of a tail query and on every dK row) must give RopeBackward's bits after AttentionBackward.
    /// </summary>
    [Theory]
    [InlineData(2, 82, 4, 16)] // five lanes blocks and two tail queries per head
    [InlineData(1, 28, 2, 16)] // a lanes block and a ragged one of 12
    [InlineData(1, 7, 1, 16)]  // tail queries only
    [InlineData(2, 40, 2, 64)] // the two passes
    public void Rope_attention_backward_equals_attention_then_rope_bitwise(int batch, int t, int nh, int hs)
    {
        int c = nh * hs;
        (double[] cosD, double[] sinD) = RopeTables(t, hs);
        float[] cos = ToFloat(cosD), sin = ToFloat(sinD);
        float[] qkv = TestData.Floats(50 + t, 3 * batch * t * c, 2f), dout = TestData.Floats(51 + t, batch * t * c);
        using var pool = new WorkerPool(2);
        float[] o = new float[batch * t * c], l = new float[batch * nh * t];
        CpuOps.RopeAttentionForward(o, l, qkv, cos, sin, batch, t, nh, hs, pool);
        float[] g1 = TestData.Floats(52, qkv.Length), g2 = TestData.Floats(53, qkv.Length);
        CpuOps.AttentionBackward(g1, dout, qkv, o, l, batch, t, nh, hs, pool);
        CpuOps.RopeBackward(g1, cos, sin, batch, t, nh, hs, pool);
        CpuOps.RopeAttentionBackward(g2, dout, qkv, o, l, cos, sin, batch, t, nh, hs, pool);
        AssertBitwiseEqual(g1, g2, "dqkv");
        var ex = Assert.Throws<ArgumentException>(() => CpuOps.RopeAttentionBackward(g2, dout, qkv, o, l,
            cos.AsSpan(0, cos.Length - 1), sin, batch, t, nh, hs, pool));
        Assert.Equal("cos", ex.ParamName);
    }

    [Fact]
    public void Rope_attention_rejects_short_tables()
    {
        using var pool = new WorkerPool(2);
        var qkv = new float[3 * 4 * 16];
        var ex = Assert.Throws<ArgumentException>(() => CpuOps.RopeAttentionForward(new float[4 * 16], new float[4],
            qkv, new float[4 * 16 - 1], new float[4 * 16], 1, 4, 1, 16, pool));
        Assert.Contains("cos", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Large_scores_do_not_overflow()
    {
        const int batch = 1, t = 100, nh = 1, hs = 16;
        float[] qkv = TestData.Floats(5, 3 * batch * t * nh * hs, 12f); // |scores| up to hundreds
        double[] qkvd = TestData.ToDouble(qkv);
        var refOut = new double[batch * t * nh * hs];
        var refLse = new double[batch * nh * t];
        ReferenceOps.AttentionForward(refOut, refLse, qkvd, batch, t, nh, hs);
        using var pool = new WorkerPool(2);
        var output = new float[refOut.Length];
        var lse = new float[refLse.Length];
        CpuOps.AttentionForward(output, lse, qkv, batch, t, nh, hs, pool);
        TensorAssert.Close(refOut, output, 1e-4, 1e-4, 1e-8, "out");
        TensorAssert.Close(refLse, lse, 1e-4, 1e-5, 1e-10, "lse");
    }

    [Theory]
    [InlineData(8, 64)] // the Sudoku model's heads
    [InlineData(4, 16)] // the quickstart's: with AVX-512 the lanes forward and backward
    public void Results_are_deterministic_and_calls_allocate_nothing(int nh, int hs)
    {
        const int batch = 2, t = 82;
        int c = nh * hs;
        float[] qkv = TestData.Floats(1, 3 * batch * t * c, 2f), dout = TestData.Floats(2, batch * t * c);
        using var pool = new WorkerPool(2);
        float[] o1 = new float[batch * t * c], o2 = new float[batch * t * c];
        float[] l1 = new float[batch * nh * t], l2 = new float[batch * nh * t];
        float[] g1 = new float[qkv.Length], g2 = new float[qkv.Length];
        CpuOps.AttentionForward(o1, l1, qkv, batch, t, nh, hs, pool);
        CpuOps.AttentionForward(o2, l2, qkv, batch, t, nh, hs, pool);
        CpuOps.AttentionBackward(g1, dout, qkv, o1, l1, batch, t, nh, hs, pool);
        CpuOps.AttentionBackward(g2, dout, qkv, o1, l1, batch, t, nh, hs, pool);
        AssertBitwiseEqual(o1, o2, "out");
        AssertBitwiseEqual(l1, l2, "lse");
        AssertBitwiseEqual(g1, g2, "dqkv");
        (double[] cosD, double[] sinD) = RopeTables(t, hs);
        float[] cos = ToFloat(cosD), sin = ToFloat(sinD), rotated = (float[])qkv.Clone();
        AssertNoAllocation(() =>
        {
            CpuOps.AttentionForward(o1, l1, qkv, batch, t, nh, hs, pool);
            CpuOps.AttentionBackward(g1, dout, qkv, o1, l1, batch, t, nh, hs, pool);
            CpuOps.RopeAttentionForward(o2, l2, rotated, cos, sin, batch, t, nh, hs, pool);
        }, "attention");
    }

    /// <summary>
    /// One (batch, head) pair splits its query rows over the threads (2 parts on 1 thread, 3 on 4), which moves
    /// queries between the quad, pair and single-query kernels (T = 99: row 32 is the odd query of the first of three
    /// parts and in a quad of the first of two); each row's result must not change.
    /// </summary>
    [Theory]
    [InlineData(16)] // 16-column groups: two FMA chains on Vector512
    [InlineData(20)] // a group and a 4-column tail
    [InlineData(24)] // a group and an 8-column tail
    [InlineData(32)]
    [InlineData(64)] // a 64-column block
    [InlineData(80)] // a 64-column block and a 16-column group
    public void A_querys_result_does_not_depend_on_its_slot(int hs)
    {
        const int t = 99;
        float[] qkv = TestData.Floats(7, 3 * t * hs, 2f);
        float[] o1 = new float[t * hs], o4 = new float[t * hs], l1 = new float[t], l4 = new float[t];
        using var pool1 = new WorkerPool(1);
        using var pool4 = new WorkerPool(4);
        CpuOps.AttentionForward(o1, l1, qkv, 1, t, 1, hs, pool1);
        CpuOps.AttentionForward(o4, l4, qkv, 1, t, 1, hs, pool4);
        AssertBitwiseEqual(o1, o4, $"out, HS {hs}, 1 vs 4 threads");
        AssertBitwiseEqual(l1, l4, $"lse, HS {hs}, 1 vs 4 threads");
    }

    /// <summary>
    /// The backward runs a task per (batch, head) whatever the thread count; with 16-wide heads on AVX-512 each task
    /// sums dK and dV in its own scratch (heads share the dqkv rows' cache lines), so 1 and 3 threads must agree bit
    /// for bit (T = 82: five lanes blocks and two tail queries per head).
    /// </summary>
    [Theory]
    [InlineData(16)]
    [InlineData(64)]
    public void Backward_does_not_depend_on_the_thread_count(int hs)
    {
        const int batch = 2, t = 82, nh = 3;
        int c = nh * hs;
        float[] qkv = TestData.Floats(8, 3 * batch * t * c, 2f), dout = TestData.Floats(9, batch * t * c);
        var output = new float[batch * t * c];
        var lse = new float[batch * nh * t];
        using var pool1 = new WorkerPool(1);
        using var pool3 = new WorkerPool(3);
        CpuOps.AttentionForward(output, lse, qkv, batch, t, nh, hs, pool1);
        float[] g1 = TestData.Floats(10, qkv.Length), g3 = TestData.Floats(11, qkv.Length);
        CpuOps.AttentionBackward(g1, dout, qkv, output, lse, batch, t, nh, hs, pool1);
        CpuOps.AttentionBackward(g3, dout, qkv, output, lse, batch, t, nh, hs, pool3);
        AssertBitwiseEqual(g1, g3, $"dqkv, HS {hs}, 1 vs 3 threads");
    }

    [Fact]
    public void Wrong_lengths_throw_naming_the_operand()
    {
        using var pool = new WorkerPool(2);
        var e = Assert.Throws<ArgumentException>(() =>
            CpuOps.AttentionForward(new float[8], new float[3], new float[24], 1, 2, 2, 2, pool));
        Assert.Equal("lse", e.ParamName);
        e = Assert.Throws<ArgumentException>(() =>
            CpuOps.AttentionBackward(new float[24], new float[8], new float[24], new float[7], new float[4],
                1, 2, 2, 2, pool));
        Assert.Equal("output", e.ParamName);
    }
}
