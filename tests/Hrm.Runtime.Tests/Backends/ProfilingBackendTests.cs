using Hrm.Runtime.Backends;
using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Tests.TestUtil;

namespace Hrm.Runtime.Tests.Backends;

/// <summary>ProfilingBackend: calls, operand bytes and FLOPs per op, the report's columns, no allocation per call.</summary>
public sealed class ProfilingBackendTests
{
    [Fact]
    public void Counts_operand_bytes_and_gemm_flops_per_op_without_allocating()
    {
        using var p = new ProfilingBackend(new CpuBackend(1));
        const int m = 6, k = 5, n = 7;
        Buf x = p.Allocate(m * k, "x"), w = p.Allocate(n * k, "w"), y = p.Allocate(m * n, "y");
        Buf table = p.Allocate(100 * 4, "table"), ids = p.AllocateInts(3, "ids"), rows = p.Allocate(3 * 4, "rows");
        p.Upload(TestData.Floats(1, m * k), x);
        p.Upload(TestData.Floats(2, n * k), w);
        p.MatmulForward(y, x, w, m, k, n);
        p.MatmulForward(y, x, w, m, k, n);
        ThreadAllocations.AssertNone(() => p.MatmulForward(y, x, w, m, k, n), "a warm profiled MatmulForward");
        p.ResetTimes();
        for (int i = 0; i < 3; i++) p.MatmulForward(y, x, w, m, k, n);
        p.Add(y, y, y);
        p.GatherRows(rows, table, ids, 3, 4);

        var t = p.Times().ToDictionary(r => r.Op);
        Assert.Equal(3, t["MatmulForward"].Calls);
        Assert.Equal(3L * 4 * (m * n + m * k + n * k), t["MatmulForward"].Bytes);
        Assert.Equal(3.0 * 2 * m * k * n, t["MatmulForward"].Flops);
        Assert.Equal(3L * 4 * m * n, t["Add"].Bytes);
        Assert.Equal(0.0, t["Add"].Flops);
        Assert.Equal(4L * 3 * 4 + 4 * 3 + 3L * 4 * 4, t["GatherRows"].Bytes); // dst, ids, the 3 rows read (not the table)
        string report = p.Report();
        Assert.Contains("GB/s", report, StringComparison.Ordinal);
        Assert.Contains("TFLOP/s", report, StringComparison.Ordinal);
        p.ResetTimes();
        Assert.Empty(p.Times());
    }
}
