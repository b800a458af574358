using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Backends.Reference;
using Hrm.Runtime.Tests.TestUtil;
using Hrm.Runtime.Threading;

namespace Hrm.Runtime.Tests.Kernels;

/// <summary>The GEMMs with a fused epilogue (SwiGLU, RoPE) against the GEMM then the separate op: bitwise the same,
/// on every path and thread count. In <see cref="MatmulSerial"/> with <see cref="MatmulTests"/>.</summary>
[Collection(nameof(MatmulSerial))]
public sealed unsafe class MatmulFusedTests : IDisposable
{
    private readonly WorkerPool _pool = new(2);

    public void Dispose() => _pool.Dispose();

    [Theory]
    [InlineData(82, 512, 1536)] // batch-1 Sudoku: fused (few rows)
    [InlineData(15, 45, 50)]    // fused; panels of 32 + 18 columns, a scalar tail (50 = 3·16 + 2)
    [InlineData(97, 600, 40)]   // fused; two reduction chunks (K > Kc)
    [InlineData(600, 512, 40)]  // many rows: fused in the general GEMM's tiles (K <= Kc)
    [InlineData(700, 512, 320)] // general fused, two column groups
    [InlineData(601, 450, 50)]  // general fused; edge rows, an 18-column edge panel, a scalar tail
    [InlineData(600, 600, 40)]  // many rows and K > Kc: the GEMM into gateUp, then the SwiGLU
    [InlineData(601, 512, 64)]  // general fused, one column group: A read in place (rows 512 apart), a ragged last micro-panel
    public void MatmulSwiGlu_IsBitwiseMatmulThenSwiGlu(int m, int k, int inter)
    {
        if (Gemm.Best != GemmPath.Scalar) Assert.Equal(m < 600, Gemm.FewRows(m, k, Gemm.Best)); // which path is tested
        float[] x = TestData.Floats(90, m * k), w = TestData.Floats(91, 2 * inter * k);
        var gateUp = new float[2 * m * inter];
        var expected = new float[m * inter];
        CpuOps.MatmulForward(gateUp, x, w, m, k, 2 * inter, _pool);
        CpuOps.SwiGluForward(expected, gateUp, m, inter, _pool);
        float[] act = TestData.Floats(92, m * inter), scratch = TestData.Floats(93, 2 * m * inter); // garbage
        CpuOps.MatmulSwiGluForward(act, scratch, x, w, m, k, inter, _pool);
        Assert.Equal(expected, act);
        // Recorded forwards keep the product for the backward.
        float[] act2 = TestData.Floats(95, m * inter), kept = TestData.Floats(96, 2 * m * inter);
        CpuOps.MatmulSwiGluForward(act2, kept, x, w, m, k, inter, _pool, keepGateUp: true);
        Assert.Equal(expected, act2);
        Assert.Equal(gateUp, kept);
        // And against the double reference, through the same two ops.
        double[] gu = MatmulTests.RefForward(x, w, m, k, 2 * inter);
        var refAct = new double[m * inter];
        ReferenceOps.SwiGluForward(refAct, gu, m, inter);
        TensorAssert.Close(refAct, act, MatmulTests.Atol, MatmulTests.Rtol, MatmulTests.MaxNmse, "act");
        // The narrower paths (6x16 tiles) fuse the same way.
        foreach (GemmPath path in MatmulTests.NarrowPaths())
        {
            var gateUpN = new float[2 * m * inter];
            var expectedN = new float[m * inter];
            float[] actN = TestData.Floats(94, m * inter);
            fixed (float* px = x, pw = w, pg = gateUpN, pa = actN)
            {
                Gemm.Forward(pg, px, pw, m, k, 2 * inter, _pool, path);
                bool fused = Gemm.TryForwardSwiGlu(pa, px, pw, m, k, inter, _pool, path);
                Assert.Equal(k <= Gemm.Kc || m < 600, fused);
                if (!fused) continue;
            }
            CpuOps.SwiGluForward(expectedN, gateUpN, m, inter, _pool);
            Assert.Equal(expectedN, actN);
            MatmulTests.AssertSameAsVector256(path, gateUpN, x, w, m, k, 2 * inter, _pool);
        }
    }

    [Theory]
    [InlineData(1, 82, 512, 8, 64)]  // batch-1 Sudoku: few rows, the product then the separate pass
    [InlineData(8, 82, 512, 8, 64)]  // general: 3 column groups of 8 heads, an edge micro-panel (656 = 46·14 + 12)
    [InlineData(20, 33, 600, 3, 48)] // general, K > Kc; heads of 48 (groups of lcm(48, NR) columns), an edge panel
    [InlineData(6, 101, 520, 4, 16)] // general; heads of 16 (two per Vector512 panel)
    [InlineData(12, 50, 512, 2, 66)] // general; heads of 66, not a whole number of panels wide (one column group)
    public void MatmulRope_IsBitwiseMatmulThenRope(int batch, int t, int k, int nh, int hs)
    {
        int m = batch * t, n = 3 * nh * hs;
        if (Gemm.Best != GemmPath.Scalar) Assert.Equal(batch == 1, Gemm.FewRows(m, k, Gemm.Best)); // which path is tested
        float[] x = TestData.Floats(100, m * k), w = TestData.Floats(101, n * k);
        (double[] cd, double[] sd) = KernelTestUtil.RopeTables(t, hs);
        float[] cos = KernelTestUtil.ToFloat(cd), sin = KernelTestUtil.ToFloat(sd);
        var expected = new float[m * n];
        CpuOps.MatmulForward(expected, x, w, m, k, n, _pool);
        CpuOps.RopeForward(expected, cos, sin, batch, t, nh, hs, _pool);
        foreach (int threads in new[] { 1, 2, 3 })
        {
            using var pool = new WorkerPool(threads);
            float[] qkv = TestData.Floats(102, m * n); // garbage
            CpuOps.MatmulRopeForward(qkv, x, w, cos, sin, batch, t, k, nh, hs, pool);
            Assert.Equal(expected, qkv);
        }
        // The narrower paths (16-column panels: other head groupings) rotate in their tiles the same way.
        foreach (GemmPath path in MatmulTests.NarrowPaths())
        {
            var expectedN = new float[m * n];
            float[] qkvN = TestData.Floats(103, m * n);
            fixed (float* px = x, pw = w, pe = expectedN, pq = qkvN, pc = cos, ps = sin)
            {
                Gemm.Forward(pe, px, pw, m, k, n, _pool, path);
                Gemm.ForwardRope(pq, px, pw, m, k, n, pc, ps, t, hs, _pool, path);
            }
            MatmulTests.AssertSameAsVector256(path, expectedN, x, w, m, k, n, _pool);
            CpuOps.RopeForward(expectedN, cos, sin, batch, t, nh, hs, _pool);
            Assert.Equal(expectedN, qkvN);
        }
    }

    [Fact]
    public void MatmulRope_RejectsWrongLengths()
    {
        var ex = Assert.Throws<ArgumentException>(() => CpuOps.MatmulRopeForward(new float[6 * 24], new float[6 * 5],
            new float[24 * 5], new float[3 * 8], new float[3 * 8 - 1], 2, 3, 5, 1, 8, _pool));
        Assert.Contains("sin", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MatmulSwiGlu_RejectsWrongLengths()
    {
        var ex = Assert.Throws<ArgumentException>(() => CpuOps.MatmulSwiGluForward(new float[10 * 8], new float[10 * 16],
            new float[10 * 4], new float[16 * 4 - 1], 10, 4, 8, _pool));
        Assert.Contains("weight", ex.Message, StringComparison.Ordinal);
    }
}
