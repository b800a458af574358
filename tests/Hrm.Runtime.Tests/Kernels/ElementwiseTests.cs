using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Backends.Reference;
using Hrm.Runtime.Tests.TestUtil;
using Hrm.Runtime.Threading;
using static Hrm.Runtime.Tests.Kernels.KernelTestUtil;

namespace Hrm.Runtime.Tests.Kernels;

// Elementwise ops have no backward in ReferenceOps, so there is no finite-difference check here.
[Collection(KernelTestGroup.Name)]
public sealed class ElementwiseTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(37)]
    [InlineData(1000003)] // several tasks with a ragged end
    public void Add_fill_copy_match_reference(int n)
    {
        float[] a = TestData.Floats(1, n), b = TestData.Floats(2, n);
        var expected = new double[n];
        ReferenceOps.Add(expected, TestData.ToDouble(a), TestData.ToDouble(b));
        using var pool = new WorkerPool(3);
        var dst = new float[n];
        CpuOps.Add(dst, a, b, pool);
        TensorAssert.Close(expected, dst, 0, 1e-7, 1e-14, "add");
        var aliased = (float[])a.Clone();
        CpuOps.Add(aliased, aliased, b, pool);
        AssertBitwiseEqual(dst, aliased, "add into a");

        CpuOps.Fill(dst, -2.5f, pool);
        Assert.All(dst, x => Assert.Equal(-2.5f, x));
        CpuOps.Copy(dst, a, pool);
        AssertBitwiseEqual(a, dst, "copy");
    }

    [Fact]
    public void Overlapping_copy_behaves_like_span_copy()
    {
        float[] buf = TestData.Floats(1, 300000), expected = (float[])buf.Clone();
        expected.AsSpan(0, 200000).CopyTo(expected.AsSpan(100000));
        using var pool = new WorkerPool(2);
        CpuOps.Copy(buf.AsSpan(100000), buf.AsSpan(0, 200000), pool);
        AssertBitwiseEqual(expected, buf, "overlapping copy");
    }

    [Theory]
    [InlineData(1, 1, 5)]
    [InlineData(5, 3, 37)]
    [InlineData(16, 82, 512)] // HRM shape
    public void ResetCarry_matches_reference(int batch, int t, int c)
    {
        float[] z = TestData.Floats(1, batch * t * c), init = TestData.Floats(2, c);
        int[] halted = TestData.Ints(3, batch, 0, 2);
        halted[0] = 1;
        double[] expected = TestData.ToDouble(z);
        ReferenceOps.ResetCarry(expected, TestData.ToDouble(init), halted, batch, t, c);
        using var pool = new WorkerPool(2);
        CpuOps.ResetCarry(z, init, halted, batch, t, c, pool);
        TensorAssert.Close(expected, z, 0, 0, 0, "z");
    }

    [Fact]
    public void Results_are_deterministic_and_calls_allocate_nothing()
    {
        const int batch = 16, t = 82, c = 512, n = batch * t * c;
        float[] a = TestData.Floats(1, n), b = TestData.Floats(2, n), init = TestData.Floats(3, c);
        int[] halted = TestData.Ints(4, batch, 0, 2);
        using var pool = new WorkerPool(2);
        float[] d1 = new float[n], d2 = new float[n];
        CpuOps.Add(d1, a, b, pool);
        CpuOps.ResetCarry(d1, init, halted, batch, t, c, pool);
        CpuOps.Add(d2, a, b, pool);
        CpuOps.ResetCarry(d2, init, halted, batch, t, c, pool);
        AssertBitwiseEqual(d1, d2, "add + reset");
        AssertNoAllocation(() =>
        {
            CpuOps.Add(d1, a, b, pool);
            CpuOps.ResetCarry(d1, init, halted, batch, t, c, pool);
            CpuOps.Fill(d2, 1f, pool);
            CpuOps.Copy(d2, a, pool);
        }, "elementwise");
    }

    [Fact]
    public void Wrong_lengths_throw_naming_the_operand()
    {
        using var pool = new WorkerPool(2);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() =>
            CpuOps.Add(new float[4], new float[4], new float[3], pool)).ParamName);
        Assert.Equal("src", Assert.Throws<ArgumentException>(() =>
            CpuOps.Copy(new float[4], new float[5], pool)).ParamName);
        Assert.Equal("halted", Assert.Throws<ArgumentException>(() =>
            CpuOps.ResetCarry(new float[12], new float[3], new int[3], 2, 2, 3, pool)).ParamName);
    }
}
