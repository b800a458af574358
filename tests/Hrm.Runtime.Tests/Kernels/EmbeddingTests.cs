using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Backends.Reference;
using Hrm.Runtime.Tests.TestUtil;
using Hrm.Runtime.Threading;
using static Hrm.Runtime.Tests.Kernels.KernelTestUtil;

namespace Hrm.Runtime.Tests.Kernels;

[Collection(KernelTestGroup.Name)]
public sealed class EmbeddingTests
{
    // (batch, l, p, pd, c, v, learned positions)
    public static TheoryData<int, int, int, int, int, int, bool> FdShapes => new()
    {
        { 2, 3, 1, 4, 4, 5, false },  // Pd == C
        { 2, 3, 1, 3, 5, 4, true },   // Pd < C: zero padding, learned positions
        { 2, 2, 2, 5, 4, 3, false },  // P = 2, Pd = 2C − 3
        { 1, 3, 2, 5, 4, 3, true },
    };

    [Theory]
    [MemberData(nameof(FdShapes))]
    public void Reference_backward_matches_finite_differences(int batch, int l, int p, int pd, int c, int v,
        bool learned)
    {
        int t = l + p;
        const double scale = 1.7;
        int[] tokens = TestData.Ints(1, batch * l, 0, v);
        double[] puzzle = Doubles(2, batch * pd), tok = Doubles(3, v * c);
        double[] pos = learned ? Doubles(4, t * c) : [];
        double[] r = Doubles(5, batch * t * c);
        var x = new double[batch * t * c];
        double Loss()
        {
            ReferenceOps.EmbeddingForward(x, tokens, puzzle, tok, pos, batch, l, p, pd, c, v, scale);
            return FiniteDiff.Dot(x, r);
        }
        var dTok = new double[v * c];
        var dPuzzle = new double[batch * pd];
        var dPos = new double[pos.Length];
        ReferenceOps.EmbeddingBackward(dTok, dPuzzle, dPos, r, tokens, batch, l, p, pd, c, v, scale);
        FiniteDiff.Check(tok, dTok, Loss, "dTokTable");
        FiniteDiff.Check(puzzle, dPuzzle, Loss, "dPuzzleRows");
        if (learned) FiniteDiff.Check(pos, dPos, Loss, "dPosTable");
    }

    [Theory]
    [InlineData(1, 1, 1, 3, 5, 3, false)]      // T = 2, Pd < C
    [InlineData(3, 7, 2, 2 * 19 - 3, 19, 6, true)] // C not a multiple of 16, P = 2
    [InlineData(2, 81, 1, 512, 512, 11, false)] // HRM shape
    [InlineData(2, 81, 1, 512, 512, 11, true)]
    public void Cpu_matches_reference(int batch, int l, int p, int pd, int c, int v, bool learned)
    {
        int t = l + p;
        const float scale = 22.627417f;
        int[] tokens = TestData.Ints(11, batch * l, 0, v);
        float[] puzzle = TestData.Floats(12, batch * pd), tok = TestData.Floats(13, v * c);
        float[] pos = learned ? TestData.Floats(14, t * c) : [];
        float[] dx = TestData.Floats(15, batch * t * c);
        float[] dTok0 = TestData.Floats(16, v * c), dPos0 = learned ? TestData.Floats(17, t * c) : [];

        var refX = new double[batch * t * c];
        ReferenceOps.EmbeddingForward(refX, tokens, TestData.ToDouble(puzzle), TestData.ToDouble(tok),
            TestData.ToDouble(pos), batch, l, p, pd, c, v, scale);
        double[] refDTok = TestData.ToDouble(dTok0), refDPos = TestData.ToDouble(dPos0);
        double[] refDPuzzle = Doubles(18, batch * pd); // overwritten (=)
        ReferenceOps.EmbeddingBackward(refDTok, refDPuzzle, refDPos, TestData.ToDouble(dx), tokens,
            batch, l, p, pd, c, v, scale);

        using var pool = new WorkerPool(2);
        var x = new float[batch * t * c];
        CpuOps.EmbeddingForward(x, tokens, puzzle, tok, pos, batch, l, p, pd, c, v, scale, pool);
        TensorAssert.Close(refX, x, 1e-5, 1e-5, 1e-12, "x");
        float[] dTok = (float[])dTok0.Clone(), dPos = (float[])dPos0.Clone();
        float[] dPuzzle = TestData.Floats(18, batch * pd);
        CpuOps.EmbeddingBackward(dTok, dPuzzle, dPos, dx, tokens, batch, l, p, pd, c, v, scale, pool);
        TensorAssert.Close(refDTok, dTok, 1e-4, 1e-5, 1e-10, "dTokTable");
        TensorAssert.Close(refDPuzzle, dPuzzle, 1e-5, 1e-5, 1e-12, "dPuzzleRows");
        TensorAssert.Close(refDPos, dPos, 1e-4, 1e-5, 1e-10, "dPosTable");
    }

    [Fact]
    public void GatherRows_matches_reference_and_rejects_bad_ids()
    {
        const int rows = 9, w = 37;
        float[] table = TestData.Floats(1, rows * w);
        int[] ids = [3, 0, 8, 3, 5];
        var expected = new double[ids.Length * w];
        ReferenceOps.GatherRows(expected, TestData.ToDouble(table), ids, w);
        using var pool = new WorkerPool(2);
        var dst = new float[ids.Length * w];
        CpuOps.GatherRows(dst, table, ids, w, pool);
        TensorAssert.Close(expected, dst, 0, 0, 0, "gather");

        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            CpuOps.GatherRows(dst, table, [1, 2, 3, 4, 9], w, pool));
        Assert.Equal("ids", e.ParamName);
        Assert.Contains("puzzle identifier 9 at row 4", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => CpuOps.GatherRows(dst, table, [1, -1, 3, 4, 0], w, pool));
    }

    [Fact]
    public void Out_of_range_tokens_and_wrong_lengths_throw()
    {
        using var pool = new WorkerPool(2);
        int[] tokens = [0, 1, 5, 2];
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => CpuOps.EmbeddingForward(new float[2 * 3 * 4], tokens,
            new float[2 * 4], new float[5 * 4], [], 2, 2, 1, 4, 4, 5, 1f, pool));
        Assert.Equal("tokens", e.ParamName);
        Assert.Contains("token 5 at flat index 2", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => CpuOps.EmbeddingBackward(new float[5 * 4], new float[2 * 4],
            [], new float[2 * 3 * 4], [0, -1, 2, 2], 2, 2, 1, 4, 4, 5, 1f, pool));
        var a = Assert.Throws<ArgumentException>(() => CpuOps.EmbeddingForward(new float[2 * 3 * 4], [0, 1, 2, 2],
            new float[2 * 4], new float[5 * 4], new float[7], 2, 2, 1, 4, 4, 5, 1f, pool));
        Assert.Equal("posTable", a.ParamName);
    }

    [Fact]
    public void Results_are_deterministic_and_calls_allocate_nothing()
    {
        const int batch = 4, l = 81, p = 1, pd = 512, c = 512, v = 11, t = l + p;
        int[] tokens = TestData.Ints(1, batch * l, 0, v);
        float[] puzzle = TestData.Floats(2, batch * pd), tok = TestData.Floats(3, v * c);
        float[] pos = TestData.Floats(4, t * c);
        float[] dx = TestData.Floats(5, batch * t * c);
        using var pool = new WorkerPool(2);
        float[] x1 = new float[batch * t * c], x2 = new float[batch * t * c];
        CpuOps.EmbeddingForward(x1, tokens, puzzle, tok, pos, batch, l, p, pd, c, v, 2f, pool);
        CpuOps.EmbeddingForward(x2, tokens, puzzle, tok, pos, batch, l, p, pd, c, v, 2f, pool);
        AssertBitwiseEqual(x1, x2, "x");
        float[][] grads = new float[2][];
        for (int k = 0; k < 2; k++)
        {
            float[] dTok = TestData.Floats(6, v * c), dPuz = new float[batch * pd], dPos = TestData.Floats(7, t * c);
            CpuOps.EmbeddingBackward(dTok, dPuz, dPos, dx, tokens, batch, l, p, pd, c, v, 2f, pool);
            grads[k] = [.. dTok, .. dPuz, .. dPos];
        }
        AssertBitwiseEqual(grads[0], grads[1], "gradients");

        float[] gTok = new float[v * c], gPuz = new float[batch * pd], gPos = new float[t * c];
        int[] ids = [1, 0, 3, 2];
        AssertNoAllocation(() =>
        {
            CpuOps.EmbeddingForward(x1, tokens, puzzle, tok, pos, batch, l, p, pd, c, v, 2f, pool);
            CpuOps.EmbeddingBackward(gTok, gPuz, gPos, dx, tokens, batch, l, p, pd, c, v, 2f, pool);
            CpuOps.EmbeddingForward(x1, tokens, puzzle, tok, [], batch, l, p, pd, c, v, 2f, pool);
            CpuOps.EmbeddingBackward(gTok, gPuz, [], dx, tokens, batch, l, p, pd, c, v, 2f, pool);
            CpuOps.GatherRows(gPuz, puzzle, ids, pd, pool);
        }, "embedding");
    }
}
