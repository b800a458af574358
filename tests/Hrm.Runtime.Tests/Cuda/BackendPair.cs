using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Backends.Cuda;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Tests.TestUtil;

namespace Hrm.Runtime.Tests.Cuda;

/// <summary>The same buffer on the CPU backend and on the CUDA backend.</summary>
internal readonly record struct Twin(Buf C, Buf G);

/// <summary>
/// A CPU backend and the shared CUDA backend side by side: every input is uploaded to both, the op runs on both,
/// and outputs are compared (relative L2 norm ‖gpu − cpu‖/‖cpu‖, or bit for bit). CUDA buffers are freed at the end
/// (the CUDA backend outlives the test).
/// </summary>
internal sealed class BackendPair : IDisposable
{
    private readonly List<Buf> _gpuBufs = [];

    public BackendPair(CudaBackend gpu, ITestOutputHelper output)
    {
        Gpu = gpu;
        Output = output;
    }

    public CpuBackend Cpu { get; } = new(2);

    public CudaBackend Gpu { get; }

    public ITestOutputHelper Output { get; }

    /// <summary>Random floats uniform in [-scale, scale) on both backends.</summary>
    public Twin Floats(int seed, long n, float scale = 1f) => Upload(TestData.Floats(seed, checked((int)n), scale));

    /// <summary>Zeroed floats on both.</summary>
    public Twin Zeros(long n)
    {
        if (n == 0) return new Twin(Buf.Empty, Buf.Empty);
        Buf g = Gpu.Allocate(n, "test");
        _gpuBufs.Add(g);
        return new Twin(Cpu.Allocate(n, "test"), g);
    }

    public Twin Upload(float[] host)
    {
        Twin t = Zeros(host.Length);
        Cpu.Upload(host, t.C);
        Gpu.Upload(host, t.G);
        return t;
    }

    public Twin Ints(int[] host)
    {
        Buf g = Gpu.AllocateInts(host.Length, "test ints");
        _gpuBufs.Add(g);
        var t = new Twin(Cpu.AllocateInts(host.Length, "test ints"), g);
        Cpu.UploadInts(host, t.C);
        Gpu.UploadInts(host, t.G);
        return t;
    }

    public (float[] Cpu, float[] Gpu) Read(Twin t)
    {
        var c = new float[t.C.Length];
        var g = new float[t.G.Length];
        Cpu.Download(t.C, c);
        Gpu.Download(t.G, g);
        return (c, g);
    }

    /// <summary>Asserts ‖gpu − cpu‖ ≤ <paramref name="maxRel"/>·‖cpu‖ and that everything is finite.</summary>
    public void Close(Twin t, double maxRel, string what)
    {
        (float[] c, float[] g) = Read(t);
        for (int i = 0; i < g.Length; i++)
        {
            if (!float.IsFinite(g[i]) && float.IsFinite(c[i]))
                Assert.Fail($"{what}: element {i} is {g[i]} on CUDA, {c[i]} on the CPU");
        }
        double rel = TensorAssert.RelNorm(TestData.ToDouble(c), g);
        if (c.All(x => x == 0)) rel = g.Max(x => Math.Abs((double)x));
        Output.WriteLine($"{what}: relative L2 error {rel:E2} ({c.Length} elements)");
        if (rel > maxRel)
        {
            int shown = 0;
            var detail = new System.Text.StringBuilder();
            for (int i = 0; i < c.Length && shown < 5; i++)
            {
                if (Math.Abs(c[i] - g[i]) > maxRel * (Math.Abs(c[i]) + 1e-6))
                {
                    detail.Append($"\n  [{i}] cpu {c[i]:G9}, cuda {g[i]:G9}");
                    shown++;
                }
            }
            Assert.Fail($"{what}: relative L2 error {rel:E3} > {maxRel:E1}{detail}");
        }
    }

    /// <summary>Asserts bitwise equality (the ops the kernels README lists as bitwise equal to CpuOps).</summary>
    public void Same(Twin t, string what)
    {
        (float[] c, float[] g) = Read(t);
        for (int i = 0; i < c.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(c[i]) != BitConverter.SingleToInt32Bits(g[i]))
                Assert.Fail($"{what}: element {i} differs: cpu {c[i]:G9}, cuda {g[i]:G9}");
        }
        Output.WriteLine($"{what}: bitwise equal ({c.Length} elements)");
    }

    public void Dispose()
    {
        foreach (Buf b in _gpuBufs) Gpu.Free(b);
        Cpu.Dispose();
    }
}
