using Hrm.Runtime.Tests.TestUtil;

namespace Hrm.Runtime.Tests.Cuda;

/// <summary>CudaBackend AdamATan2 and SignSGD vs CpuBackend (GPU only).</summary>
[Collection("Cuda")]
public sealed class CudaBackendOptimizerTests(CudaFixture cuda, ITestOutputHelper output)
{
    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData(17)]
    [InlineData(1_000_003)]
    public void AdamATan2_matches_the_cpu_to_a_few_ulp(int n)
    {
        using var p = new BackendPair(cuda.BackendOrSkip(), output);
        Twin param = p.Floats(1, n), m = p.Zeros(n), v = p.Zeros(n);
        for (int step = 1; step <= 3; step++)
        {
            Twin grad = p.Floats(10 + step, n, 0.01f);
            p.Cpu.AdamATan2Step(param.C, grad.C, m.C, v.C, 1e-4, 0.9, 0.95, 0.1, step);
            p.Gpu.AdamATan2Step(param.G, grad.G, m.G, v.G, 1e-4, 0.9, 0.95, 0.1, step);
        }
        p.Close(m, 1e-7, "m");
        p.Close(v, 1e-7, "v");
        p.Close(param, 1e-6, "param");
    }

    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData(64, 512, 10)]  // duplicate ids
    [InlineData(5, 300, 1000)] // W not a multiple of 256
    public void SignSgd_is_bitwise_equal_and_rejects_bad_ids(int rows, int width, int tableRows)
    {
        using var p = new BackendPair(cuda.BackendOrSkip(), output);
        Twin table = p.Floats(1, (long)tableRows * width), grads = p.Floats(2, (long)rows * width);
        int[] ids = TestData.Ints(3, rows, 0, tableRows);
        Twin idBuf = p.Ints(ids);
        p.Cpu.SignSgdRows(table.C, grads.C, idBuf.C, rows, width, 1e-2, 0.1);
        p.Gpu.SignSgdRows(table.G, grads.G, idBuf.G, rows, width, 1e-2, 0.1);
        p.Same(table, "table");
        ids[rows - 1] = -1;
        Twin bad = p.Ints(ids);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            p.Gpu.SignSgdRows(table.G, grads.G, bad.G, rows, width, 1e-2, 0.1));
        Assert.Contains($"puzzle identifier -1 at row {rows - 1}", e.Message, StringComparison.Ordinal);
    }
}
