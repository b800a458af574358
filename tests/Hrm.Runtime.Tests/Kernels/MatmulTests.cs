using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Backends.Reference;
using Hrm.Runtime.Tests.TestUtil;
using Hrm.Runtime.Threading;

namespace Hrm.Runtime.Tests.Kernels;

/// <summary>
/// Runs alone: the allocation test reads the process-wide allocation counter, and the GEMM benefits from
/// having the cores to itself.
/// </summary>
[CollectionDefinition(nameof(MatmulSerial), DisableParallelization = true)]
public sealed class MatmulSerial;

[Collection(nameof(MatmulSerial))]
public sealed unsafe class MatmulTests : IDisposable
{
    // fp32 against the double reference: |err| grows like eps·sqrt(reduction)·|terms|, ~1e-6 here.
    internal const double Atol = 1e-4, Rtol = 1e-4, MaxNmse = 1e-10;

    private readonly WorkerPool _pool = new(2);

    public void Dispose() => _pool.Dispose();

    public static TheoryData<int, int, int> Shapes => new()
    {
        { 1, 512, 11 },
        { 7, 33, 45 },
        { 97, 512, 1536 },
        { 82, 1536, 512 },
        { 13, 17, 2 },
        { 97, 45, 33 },
        { 300, 70, 130 },
        { 1100, 24, 50 },
        { 1, 1, 1 },
        { 700, 512, 1100 }, // the general path: 3 column groups (A packed once for all tiles), a 12-column edge panel
        { 600, 600, 700 },  // general, 2 groups, 2 reduction chunks
        { 601, 512, 64 },   // general, one group: A read in place (rows 512 apart), a ragged last micro-panel packed
        { 401, 1536, 96 },  // the same with rows 1536 apart, 3 reduction chunks
        { 300, 64, 512 },   // dinp reads dout in place (rows 512 apart)
        { 230, 64, 3072 },  // dinp reads dout in place (rows 3072 apart), 6 reduction chunks
        { 5248, 64, 192 },  // dweight in groups of chunks (the quickstart's QKV at batch 64): 11 groups of one chunk
        { 8709, 30, 47 },   // grouped: 18 chunks in 16 groups (two of two chunks), ragged micro-panel and panel
        { 1100, 48, 1030 }, // grouped with wide dout: doutᵀ packed by micro-panel ranges
        { 1500, 256, 256 }, // grouped at the size limit (N·K = 65,536)
        { 1500, 257, 256 }, // one float past it: chunk by chunk
    };

    [Theory]
    [InlineData(5248, 64, 192, true)]
    [InlineData(8709, 30, 47, true)]
    [InlineData(1500, 256, 256, true)]
    [InlineData(1500, 257, 256, false)]
    [InlineData(512, 64, 64, false)] // one chunk: nothing to group
    [InlineData(2624, 512, 512, false)]
    public void Dweight_IsGrouped_ForSmallWeightsOverLongM(int m, int k, int n, bool grouped)
    {
        foreach (GemmPath path in new[] { GemmPath.Vector512, GemmPath.Vector256, GemmPath.Vector128 })
            Assert.Equal(grouped, Gemm.DweightGroups(m, k, n, path));
        Assert.False(Gemm.DweightGroups(m, k, n, GemmPath.Scalar));
        Assert.Equal(Math.Min((m + Gemm.Kc - 1) / Gemm.Kc, Gemm.DweightMaxGroups), Gemm.DweightGroupCount(m));
    }

    [Fact]
    public void ReferenceBackward_MatchesFiniteDifferences()
    {
        const int m = 5, k = 7, n = 3;
        double[] x = TestData.Doubles(1, m * k), w = TestData.Doubles(2, n * k), r = TestData.Doubles(3, m * n);
        var y = new double[m * n];
        double Loss()
        {
            ReferenceOps.MatmulForward(y, x, w, m, k, n);
            return FiniteDiff.Dot(y, r);
        }
        var dx = new double[m * k];
        var dw = new double[n * k];
        ReferenceOps.MatmulBackward(dx, dw, r, x, w, m, k, n);
        FiniteDiff.Check(x, dx, Loss, "dinp");
        FiniteDiff.Check(w, dw, Loss, "dweight");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Forward_MatchesReference(int m, int k, int n)
    {
        float[] x = TestData.Floats(10, m * k), w = TestData.Floats(11, n * k);
        float[] y = TestData.Floats(12, m * n); // garbage: must be overwritten
        CpuOps.MatmulForward(y, x, w, m, k, n, _pool);
        TensorAssert.Close(RefForward(x, w, m, k, n), y, Atol, Rtol, MaxNmse, "out");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Backward_MatchesReference(int m, int k, int n)
    {
        float[] x = TestData.Floats(20, m * k), w = TestData.Floats(21, n * k), dy = TestData.Floats(22, m * n);
        float[] dx = TestData.Floats(23, m * k); // garbage: must be overwritten
        float[] dw = TestData.Floats(24, n * k); // accumulated into
        (double[] ex, double[] ew) = RefBackward(dy, x, w, dw, m, k, n);
        CpuOps.MatmulBackward(dx, dw, dy, x, w, m, k, n, _pool);
        TensorAssert.Close(ex, dx, Atol, Rtol, MaxNmse, "dinp");
        TensorAssert.Close(ew, dw, Atol, Rtol, MaxNmse, "dweight");
    }

    [Theory]
    [InlineData((int)GemmPath.Vector256, 97, 45, 33)]
    [InlineData((int)GemmPath.Vector256, 82, 512, 130)]
    [InlineData((int)GemmPath.Scalar, 97, 45, 33)]
    [InlineData((int)GemmPath.Vector256, 1100, 24, 50)]  // dweight in groups of chunks
    [InlineData((int)GemmPath.Vector256, 600, 40, 1030)] // grouped, wide dout: doutᵀ packed by micro-panel ranges
    [InlineData((int)GemmPath.Vector256, 600, 70, 1030)] // chunk by chunk (N·K past the grouped limit), wide dout
    [InlineData((int)GemmPath.Vector256, 1100, 257, 256)] // chunk by chunk, 3 chunks
    [InlineData((int)GemmPath.Scalar, 13, 17, 2)]
    [InlineData((int)GemmPath.Vector128, 97, 45, 33)]
    [InlineData((int)GemmPath.Vector128, 82, 512, 130)]
    [InlineData((int)GemmPath.Vector128, 1100, 24, 50)]
    [InlineData((int)GemmPath.Vector128, 600, 40, 1030)]
    [InlineData((int)GemmPath.Vector128, 600, 70, 1030)]
    [InlineData((int)GemmPath.Vector128, 1100, 257, 256)]
    [InlineData((int)GemmPath.Vector256, 8709, 30, 47)] // dweight in groups of chunks
    [InlineData((int)GemmPath.Vector128, 8709, 30, 47)]
    public void FallbackPaths_MatchReference(int pathId, int m, int k, int n)
    {
        var path = (GemmPath)pathId;
        Assert.SkipUnless(NarrowPaths().Contains(path) || path == GemmPath.Scalar,
            $"{path} is not hardware-accelerated here");
        float[] x = TestData.Floats(30, m * k), w = TestData.Floats(31, n * k), dy = TestData.Floats(32, m * n);
        float[] y = TestData.Floats(33, m * n), dx = TestData.Floats(34, m * k), dw = TestData.Floats(35, n * k);
        (double[] ex, double[] ew) = RefBackward(dy, x, w, dw, m, k, n);
        fixed (float* py = y, px = x, pw = w, pdy = dy, pdx = dx, pdw = dw)
        {
            Gemm.Forward(py, px, pw, m, k, n, _pool, path);
            Gemm.Backward(pdx, pdw, pdy, px, pw, m, k, n, _pool, path);
        }
        TensorAssert.Close(RefForward(x, w, m, k, n), y, Atol, Rtol, MaxNmse, "out");
        TensorAssert.Close(ex, dx, Atol, Rtol, MaxNmse, "dinp");
        TensorAssert.Close(ew, dw, Atol, Rtol, MaxNmse, "dweight");
    }

    /// <summary>On Vector256, A with rows 64, 192, 256 or 512 floats apart is read in place (a ragged last
    /// micro-panel packed), and doutᵀ is packed for dweight with 8-float copies; the Vector128 kernel reads A packed,
    /// and its packing copies float by float. With FMA both compute each element as the same chain: bitwise equal.
    /// </summary>
    [Theory]
    [InlineData(300, 64, 512)]  // forward: A = inp, rows 64 apart; 50 micro-panels of 6; dinp: dout rows 512 apart
    [InlineData(97, 256, 64)]   // forward rows 256 apart, a ragged micro-panel of 1; dinp: dout rows 64 apart
    [InlineData(61, 64, 256)]   // dinp: dout rows 256 apart
    [InlineData(1100, 64, 192)] // dinp: dout rows 192 apart; dweight in groups of chunks (M > Kc)
    [InlineData(130, 30, 1030)] // dweight: doutᵀ packed by micro-panels (N ≥ 1024), a ragged last one
    public void InPlaceA_OnVector256_EqualsPackedVector128_Bitwise(int m, int k, int n)
    {
        Assert.SkipUnless(NarrowPaths().Contains(GemmPath.Vector256) && NarrowPaths().Contains(GemmPath.Vector128)
            && GemmKernels.Fused128, "needs Vector256 with FMA and a fused Vector128");
        float[] x = TestData.Floats(94, m * k), w = TestData.Floats(95, n * k), dy = TestData.Floats(96, m * n);
        float[] y256 = new float[m * n], y128 = new float[m * n], dx256 = new float[m * k], dx128 = new float[m * k];
        float[] dw256 = new float[n * k], dw128 = new float[n * k];
        fixed (float* px = x, pw = w, pdy = dy, py2 = y256, py1 = y128, pdx2 = dx256, pdx1 = dx128, pdw2 = dw256,
            pdw1 = dw128)
        {
            Gemm.Forward(py2, px, pw, m, k, n, _pool, GemmPath.Vector256);
            Gemm.Forward(py1, px, pw, m, k, n, _pool, GemmPath.Vector128);
            Gemm.Backward(pdx2, pdw2, pdy, px, pw, m, k, n, _pool, GemmPath.Vector256);
            Gemm.Backward(pdx1, pdw1, pdy, px, pw, m, k, n, _pool, GemmPath.Vector128);
        }
        TensorAssert.Close(RefForward(x, w, m, k, n), y256, Atol, Rtol, MaxNmse, "out");
        Assert.Equal(y128, y256);
        Assert.Equal(dx128, dx256);
        Assert.Equal(dw128, dw256); // dweight packs its operands on both paths: the same chains as well
    }

    [Fact]
    public void Backward_AccumulatesDweight()
    {
        const int m = 37, k = 45, n = 33;
        float[] x = TestData.Floats(40, m * k), w = TestData.Floats(41, n * k), dy = TestData.Floats(42, m * n);
        var dx = new float[m * k];
        var dw = new float[n * k];
        (_, double[] once) = RefBackward(dy, x, w, dw, m, k, n);
        CpuOps.MatmulBackward(dx, dw, dy, x, w, m, k, n, _pool);
        CpuOps.MatmulBackward(dx, dw, dy, x, w, m, k, n, _pool);
        double[] twice = Array.ConvertAll(once, v => 2 * v);
        TensorAssert.Close(twice, dw, Atol, Rtol, MaxNmse, "dweight after two calls");
    }

    [Fact]
    public void Backward_EmptyDinp_SkipsIt()
    {
        const int m = 19, k = 40, n = 21;
        float[] x = TestData.Floats(50, m * k), w = TestData.Floats(51, n * k), dy = TestData.Floats(52, m * n);
        float[] dw = TestData.Floats(53, n * k);
        (_, double[] ew) = RefBackward(dy, x, w, dw, m, k, n);
        CpuOps.MatmulBackward(Span<float>.Empty, dw, dy, x, w, m, k, n, _pool);
        TensorAssert.Close(ew, dw, Atol, Rtol, MaxNmse, "dweight");
    }

    [Fact]
    public void WrongLengths_Throw()
    {
        const int m = 4, k = 5, n = 6;
        var x = new float[m * k];
        var w = new float[n * k];
        var y = new float[m * n];
        ArgumentException e = Assert.Throws<ArgumentException>(
            () => CpuOps.MatmulForward(y, x.AsSpan(1), w, m, k, n, _pool));
        Assert.Equal("inp", e.ParamName);
        Assert.Contains("19", e.Message, StringComparison.Ordinal);
        Assert.Contains("20", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => CpuOps.MatmulForward(y.AsSpan(1), x, w, m, k, n, _pool));
        Assert.Equal("output", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => CpuOps.MatmulForward(y, x, w.AsSpan(2), m, k, n, _pool));
        Assert.Equal("weight", e.ParamName);
        e = Assert.Throws<ArgumentException>(
            () => CpuOps.MatmulBackward(new float[3], new float[n * k], y, x, w, m, k, n, _pool));
        Assert.Equal("dinp", e.ParamName);
        e = Assert.Throws<ArgumentException>(
            () => CpuOps.MatmulBackward(new float[m * k], new float[3], y, x, w, m, k, n, _pool));
        Assert.Equal("dweight", e.ParamName);
        e = Assert.Throws<ArgumentException>(
            () => CpuOps.MatmulBackward(new float[m * k], new float[n * k], y.AsSpan(1), x, w, m, k, n, _pool));
        Assert.Equal("dout", e.ParamName);
    }

    [Theory]
    [InlineData(97, 512, 1536)]
    [InlineData(82, 1536, 512)]
    [InlineData(300, 70, 130)]
    [InlineData(1100, 24, 50)]
    [InlineData(7, 33, 45)]
    [InlineData(700, 512, 1100)]
    [InlineData(600, 600, 700)]
    [InlineData(8709, 30, 47)]   // dweight in groups of chunks, two groups of two
    [InlineData(5248, 64, 192)]
    public void Results_AreBitwiseIdentical_AcrossCallsAndThreadCounts(int m, int k, int n)
    {
        float[] x = TestData.Floats(60, m * k), w = TestData.Floats(61, n * k), dy = TestData.Floats(62, m * n);
        float[] dw0 = TestData.Floats(63, n * k);
        (float[] Y, float[] Dx, float[] Dw) Run(WorkerPool pool)
        {
            var y = new float[m * n];
            var dx = new float[m * k];
            var dw = (float[])dw0.Clone();
            CpuOps.MatmulForward(y, x, w, m, k, n, pool);
            CpuOps.MatmulBackward(dx, dw, dy, x, w, m, k, n, pool);
            return (y, dx, dw);
        }
        using var p1 = new WorkerPool(1);
        using var p3 = new WorkerPool(3);
        var a = Run(_pool);
        foreach (var b in new[] { Run(_pool), Run(p1), Run(p3) })
        {
            Assert.Equal(a.Y, b.Y);
            Assert.Equal(a.Dx, b.Dx);
            Assert.Equal(a.Dw, b.Dw);
        }
    }

    [Theory]
    [InlineData(82, 512, 1536)]
    [InlineData(82, 1536, 512)]
    [InlineData(1, 512, 11)]
    [InlineData(15, 45, 33)]
    [InlineData(97, 70, 130)]
    [InlineData(40, 512, 64)]   // the general path reads A in place (one column group)
    [InlineData(30, 3072, 32)]  // in place, rows 3072 apart
    public void FewRowsForward_IsBitwiseTheGeneralPath_RowByRow(int m, int k, int n)
    {
        // Row i of the output must not depend on how many rows are in the batch: the first m rows of a batch big
        // enough for the general path equal, bit for bit, the same rows computed alone (few-rows path).
        int big = Gemm.FewRowsMaxPackedA / k + 64;
        Assert.True(Gemm.FewRows(m, k, Gemm.Best) || Gemm.Best == GemmPath.Scalar, "m rows take the few-rows path");
        Assert.False(Gemm.FewRows(big, k, Gemm.Best));
        float[] x = TestData.Floats(80, big * k), w = TestData.Floats(81, n * k);
        var all = new float[big * n];
        float[] few = TestData.Floats(82, m * n); // garbage: must be overwritten
        CpuOps.MatmulForward(all, x, w, big, k, n, _pool);
        CpuOps.MatmulForward(few, x.AsSpan(0, m * k), w, m, k, n, _pool);
        Assert.Equal(all.AsSpan(0, m * n).ToArray(), few);
        TensorAssert.Close(RefForward(x[..(m * k)], w, m, k, n), few, Atol, Rtol, MaxNmse, "out");
        // The narrower paths (6x16 tiles, no prefetch) take the same two paths.
        foreach (GemmPath path in NarrowPaths())
        {
            var allN = new float[big * n];
            var fewN = new float[m * n];
            fixed (float* px = x, pw = w, pa = allN, pf = fewN)
            {
                Gemm.Forward(pa, px, pw, big, k, n, _pool, path);
                Gemm.Forward(pf, px, pw, m, k, n, _pool, path);
            }
            Assert.Equal(allN.AsSpan(0, m * n).ToArray(), fewN);
            TensorAssert.Close(RefForward(x[..(m * k)], w, m, k, n), fewN, Atol, Rtol, MaxNmse, $"out ({path})");
            AssertSameAsVector256(path, fewN, x, w, m, k, n, _pool);
        }
    }

    /// <summary>The 6x16 paths this machine runs at speed: Vector256 where it has AVX2 and FMA, Vector128 where it
    /// has 128-bit vectors (every x64 and arm64 machine).</summary>
    internal static IEnumerable<GemmPath> NarrowPaths()
    {
        if (Vector256.IsHardwareAccelerated && Fma.IsSupported) yield return GemmPath.Vector256;
        if (Vector128.IsHardwareAccelerated) yield return GemmPath.Vector128;
    }

    /// <summary>With FMA, the Vector128 kernel computes each element as the Vector256 one does (the same tile, one
    /// fused multiply-add per step in order): bitwise the same product.</summary>
    internal static void AssertSameAsVector256(GemmPath path, float[] got, float[] x, float[] w, int m, int k, int n,
        WorkerPool pool)
    {
        if (path != GemmPath.Vector128 || !GemmKernels.Fused128 || !NarrowPaths().Contains(GemmPath.Vector256)) return;
        var y256 = new float[m * n];
        fixed (float* px = x, pw = w, py = y256) Gemm.Forward(py, px, pw, m, k, n, pool, GemmPath.Vector256);
        Assert.Equal(y256, got);
    }

    [Fact]
    public void SteadyStateCalls_AllocateNothing()
    {
        const int m = 97, k = 512, n = 1536;
        float[] x = TestData.Floats(70, m * k), w = TestData.Floats(71, n * k), dy = TestData.Floats(72, m * n);
        var y = new float[m * n];
        var dx = new float[m * k];
        var dw = new float[n * k];
        var act = new float[m * n / 2];
        const int gm = 1100, gk = 24, gn = 50; // dweight in groups of chunks
        float[] gx = TestData.Floats(73, gm * gk), gw = TestData.Floats(74, gn * gk);
        float[] gdy = TestData.Floats(75, gm * gn);
        var gdx = new float[gm * gk];
        var gdw = new float[gn * gk];
        Assert.True(Gemm.DweightGroups(gm, gk, gn, Gemm.Best) || Gemm.Best == GemmPath.Scalar);
        void Calls(int count)
        {
            for (int i = 0; i < count; i++)
            {
                CpuOps.MatmulBackward(gdx, gdw, gdy, gx, gw, gm, gk, gn, _pool);
                CpuOps.MatmulForward(y, x, w, m, k, n, _pool);
                CpuOps.MatmulBackward(dx, dw, dy, x, w, m, k, n, _pool);
                CpuOps.MatmulBackward(Span<float>.Empty, dw, dy, x, w, m, k, n, _pool);
                CpuOps.MatmulSwiGluForward(act, y, x, w, m, k, n / 2, _pool); // fused (few rows)
            }
        }
        Calls(2); // warm-up: scratch, JIT
        ThreadAllocations.AssertNone(() => Calls(3), "3 rounds of GEMMs on the calling thread");

        // Process-wide (the workers must not allocate either). Other runtime threads may allocate now and then,
        // so a few attempts are allowed; a GEMM that allocates per call fails every one.
        long total = -1;
        for (int attempt = 0; attempt < 5 && total != 0; attempt++)
        {
            long total0 = GC.GetTotalAllocatedBytes(true);
            Calls(3);
            total = GC.GetTotalAllocatedBytes(true) - total0;
        }
        Assert.Equal(0, total);
    }

    internal static double[] RefForward(float[] x, float[] w, int m, int k, int n)
    {
        var y = new double[m * n];
        ReferenceOps.MatmulForward(y, TestData.ToDouble(x), TestData.ToDouble(w), m, k, n);
        return y;
    }

    /// <summary>Expected dinp and dweight (= <paramref name="dw0"/> + doutᵀ·inp).</summary>
    private static (double[] Dx, double[] Dw) RefBackward(float[] dy, float[] x, float[] w, float[] dw0,
        int m, int k, int n)
    {
        var dx = new double[m * k];
        double[] dw = TestData.ToDouble(dw0);
        ReferenceOps.MatmulBackward(dx, dw, TestData.ToDouble(dy), TestData.ToDouble(x), TestData.ToDouble(w),
            m, k, n);
        return (dx, dw);
    }
}
