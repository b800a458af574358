using Hrm.Runtime.Backends;
using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Backends.Reference;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Tests.TestUtil;
using Hrm.Runtime.Threading;
using static Hrm.Runtime.Tests.Kernels.KernelTestUtil;

namespace Hrm.Runtime.Tests.Kernels;

[Collection(KernelTestGroup.Name)]
public sealed class SignSgdTests
{
    private const double Lr = 0.25, Wd = 0.5; // decay 1 − lr·wd = 0.875; all values below are exact in binary

    [Fact]
    public void Duplicate_ids_are_summed_before_the_sign_and_untouched_rows_keep_their_values()
    {
        // table: 4 rows of width 3. ids [2, 0, 2]: row 2 gets g0 + g2, row 0 gets g1, rows 1 and 3 are untouched.
        double[] table = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
        double[] grads =
        [
            1.0, -1.0, 0.5,   // id 2
            -3.0, 0.0, 2.0,   // id 0: sign(0) = 0 in the middle
            -2.0, 1.0, 0.25,  // id 2: sums (−1, 0, 0.75): the first flips sign vs g0 alone, the second cancels
        ];
        int[] ids = [2, 0, 2];
        double[] expected =
        [
            1 * 0.875 + Lr, 2 * 0.875, 3 * 0.875 - Lr,
            4, 5, 6,
            7 * 0.875 + Lr, 8 * 0.875, 9 * 0.875 - Lr,
            10, 11, 12,
        ];
        double[] r = (double[])table.Clone();
        ReferenceOps.SignSgdRows(r, grads, ids, 3, Lr, Wd);
        Assert.Equal(expected, r);

        using var pool = new WorkerPool(2);
        float[] f = KernelTestUtil.ToFloat(table);
        CpuOps.SignSgdRows(f, KernelTestUtil.ToFloat(grads), ids, 3, Lr, Wd, pool);
        Assert.Equal(KernelTestUtil.ToFloat(expected), f);
    }

    [Fact]
    public void Zero_gradient_sum_only_decays_and_nan_counts_as_zero()
    {
        double[] table = [2, -2, 4, 8];
        double[] grads = [0, 0, float.NaN, 0, 0, 0, 0, 0];
        double[] r = (double[])table.Clone();
        ReferenceOps.SignSgdRows(r, grads, [0, 0], 4, Lr, Wd);
        Assert.Equal([1.75, -1.75, 3.5, 7], r);
        using var pool = new WorkerPool(1);
        float[] f = KernelTestUtil.ToFloat(table);
        CpuOps.SignSgdRows(f, KernelTestUtil.ToFloat(grads), [0, 0], 4, Lr, Wd, pool);
        Assert.Equal([1.75f, -1.75f, 3.5f, 7f], f);
    }

    [Theory]
    [InlineData(768, 512, 1000, 2)]   // ARC-like: many distinct ids
    [InlineData(768, 512, 1, 2)]      // Sudoku/Maze: every row is id 0
    [InlineData(37, 19, 5, 3)]        // odd width, heavy duplication
    [InlineData(3000, 40, 200, 2)]    // more ids than the stack scratch holds
    public void Cpu_matches_reference(int rows, int w, int tableRows, int threads)
    {
        float[] table = TestData.Floats(1, tableRows * w);
        float[] grads = TestData.Floats(2, rows * w);
        int[] ids = TestData.Ints(3, rows, 0, tableRows);
        double[] r = TestData.ToDouble(table);
        ReferenceOps.SignSgdRows(r, TestData.ToDouble(grads), ids, w, 1e-2, 0.1);
        using var pool = new WorkerPool(threads);
        CpuOps.SignSgdRows(table, grads, ids, w, 1e-2, 0.1, pool);
        TensorAssert.Close(r, table, 1e-7, 1e-6, 1e-13, "table");
        var touched = new HashSet<int>(ids);
        float[] original = TestData.Floats(1, tableRows * w);
        for (int row = 0; row < tableRows; row++)
        {
            if (touched.Contains(row)) continue;
            for (int i = 0; i < w; i++) Assert.Equal(original[row * w + i], table[row * w + i]);
        }
    }

    [Fact]
    public void Backends_use_only_the_first_rows_ids_and_match()
    {
        using var cpu = new CpuBackend(2);
        using var reference = new ReferenceBackend();
        const int tableRows = 10, w = 33, capacity = 8, rows = 5;
        float[] table = TestData.Floats(1, tableRows * w), grads = TestData.Floats(2, capacity * w);
        int[] ids = [3, 7, 3, 0, 9, 1, 1, 1]; // the last three are beyond `rows` and must be ignored
        var results = new List<float[]>();
        foreach (IHrmBackend b in new IHrmBackend[] { cpu, reference })
        {
            Assert.True(b.SupportsOp(HrmOp.Optimizer));
            Buf t = b.Allocate(tableRows * w, "table"), g = b.Allocate(capacity * w, "grads");
            Buf id = b.AllocateInts(capacity, "ids");
            b.Upload(table, t);
            b.Upload(grads, g);
            b.UploadInts(ids, id);
            b.SignSgdRows(t, g, id, rows, w, 1e-2, 1.0);
            var outT = new float[tableRows * w];
            b.Download(t, outT);
            results.Add(outT);
            for (int i = 0; i < w; i++) Assert.Equal(table[w + i], outT[w + i]); // row 1: only in the ignored tail
        }
        TensorAssert.Close(TestData.ToDouble(results[1]), results[0], 1e-7, 1e-6, 1e-13, "cpu vs reference");
    }

    [Fact]
    public void Out_of_range_ids_throw()
    {
        using var pool = new WorkerPool(1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            CpuOps.SignSgdRows(new float[4 * 2], new float[3 * 2], [0, 4, 1], 2, 1e-2, 0.1, pool));
        Assert.Equal("ids", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            ReferenceOps.SignSgdRows(new double[4 * 2], new double[2 * 2], [-1, 1], 2, 1e-2, 0.1));
        Assert.Throws<ArgumentException>(() =>
            CpuOps.SignSgdRows(new float[4 * 2], new float[3 * 2], [0, 1], 2, 1e-2, 0.1, pool));
    }

    [Fact]
    public void Results_are_deterministic_and_calls_allocate_nothing()
    {
        const int rows = 768, w = 512, tableRows = 300;
        float[] grads = TestData.Floats(2, rows * w);
        int[] ids = TestData.Ints(3, rows, 0, tableRows);
        float[][] outs = new float[2][];
        for (int k = 0; k < 2; k++)
        {
            float[] t = TestData.Floats(1, tableRows * w);
            using var p = new WorkerPool(k + 1);
            CpuOps.SignSgdRows(t, grads, ids, w, 1e-2, 0.1, p);
            outs[k] = t;
        }
        AssertBitwiseEqual(outs[0], outs[1], "1 vs 2 threads");

        using var pool = new WorkerPool(2);
        float[] table = TestData.Floats(1, tableRows * w);
        int[] many = TestData.Ints(4, 3000, 0, tableRows);
        float[] manyGrads = TestData.Floats(5, 3000 * w);
        AssertNoAllocation(() =>
        {
            CpuOps.SignSgdRows(table, grads, ids, w, 1e-2, 0.1, pool);
            CpuOps.SignSgdRows(table, manyGrads, many, w, 1e-2, 0.1, pool);
        }, "signsgd");
    }
}
