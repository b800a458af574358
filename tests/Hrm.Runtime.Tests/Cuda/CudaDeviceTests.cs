using Hrm.Runtime.Backends.Cuda;
using Hrm.Runtime.Backends.Cuda.Interop;

namespace Hrm.Runtime.Tests.Cuda;

/// <summary>
/// <see cref="CudaDevice.TryCreate"/> everywhere; on a GPU machine also memory, copies, kernel launches, events,
/// graphs and error reporting. GPU tests are skipped with "no CUDA device: &lt;reason&gt;" elsewhere.
/// </summary>
[Collection("Cuda")]
public sealed class CudaDeviceTests(CudaFixture cuda, ITestOutputHelper output)
{
    [Fact]
    public void TryCreate_never_throws_and_explains_a_failure()
    {
        bool ok = CudaDevice.TryCreate(0, out CudaDevice? device, out string reason);
        if (ok)
        {
            Assert.NotNull(device);
            Assert.Equal("", reason);
            output.WriteLine(device.ToString());
            Assert.InRange(device.ComputeCapability, 50, 200);
            Assert.True(device.SmCount > 0 && device.TotalMemoryBytes > 0);
            Assert.True(device.MaxSharedMemoryPerBlockOptIn >= device.MaxSharedMemoryPerBlock);
            device.Dispose();
            device.Dispose();
        }
        else
        {
            Assert.Null(device);
            Assert.False(string.IsNullOrWhiteSpace(reason));
            output.WriteLine($"no CUDA device: {reason}");
        }
    }

    [Fact]
    public void TryCreate_rejects_bad_ordinals_with_a_reason()
    {
        Assert.False(CudaDevice.TryCreate(-1, out CudaDevice? device, out string reason));
        Assert.Null(device);
        Assert.Contains("-1", reason, StringComparison.Ordinal);
        Assert.False(CudaDevice.TryCreate(4096, out device, out reason));
        Assert.Null(device);
        Assert.False(string.IsNullOrWhiteSpace(reason));
    }

    [Fact]
    [Trait("Category", "Gpu")]
    public void Memory_round_trips_sync_and_async()
    {
        CudaDevice device = cuda.DeviceOrSkip();
        float[] data = [.. Enumerable.Range(0, 1001).Select(i => i * 0.5f)];
        using var buffer = DeviceBuffer<float>.Allocate(device.Context, data.Length);
        buffer.CopyFromHost(data);
        float[] back = new float[data.Length];
        buffer.CopyToHost(back);
        Assert.Equal(data, back);

        using var stream = CudaStream.Create(device.Context);
        using var pinned = PinnedHostBuffer<float>.Allocate(device.Context, data.Length);
        using var copy = DeviceBuffer<float>.Allocate(device.Context, data.Length);
        copy.CopyFromAsync(buffer, stream);
        copy.CopyToHostAsync(pinned, stream);
        stream.Synchronize();
        Assert.Equal(data, pinned.Span.ToArray());
        copy.FillAsync(BitConverter.SingleToUInt32Bits(7f), stream);
        copy.CopyToHostAsync(pinned, stream);
        stream.Synchronize();
        Assert.All(pinned.Span.ToArray(), v => Assert.Equal(7f, v));
    }

    [Fact]
    [Trait("Category", "Gpu")]
    public unsafe void Nvrtc_kernel_launches_and_matches_the_cpu()
    {
        CudaDevice device = cuda.DeviceOrSkip();
        using CudaModule module = LoadScaleModule(device);
        CudaFunction scale = module.GetFunction("scale_forward_kernel1");
        Assert.Equal(scale, module.GetFunction("scale_forward_kernel1"));
        Assert.True(scale.GetAttribute(CuFunctionAttribute.NumRegs) > 0);
        const int n = 1000;
        float[] input = [.. Enumerable.Range(0, n).Select(i => i - 300f)];
        using var inp = DeviceBuffer<float>.Allocate(device.Context, n);
        using var outp = DeviceBuffer<float>.Allocate(device.Context, n);
        using var stream = CudaStream.Create(device.Context);
        inp.CopyFromHost(input);
        ulong pOut = outp.Pointer, pIn = inp.Pointer;
        float s = 2.5f;
        int count = n;
        void** args = stackalloc void*[] { &pOut, &pIn, &s, &count };
        scale.Launch(stream, (n + 255) / 256, 256, 0, args);
        stream.Synchronize();
        float[] result = new float[n];
        outp.CopyToHost(result);
        for (int i = 0; i < n; i++) Assert.Equal(input[i] * 2.5f, result[i]);
    }

    [Fact]
    [Trait("Category", "Gpu")]
    public unsafe void Events_time_a_launch_and_graphs_replay_it()
    {
        CudaDevice device = cuda.DeviceOrSkip();
        KernelCompiler compiler = TestKernels.CompilerOrSkip(cache: null);
        KernelTarget target = TargetOrSkip(device, compiler);
        using var module = CudaModule.Load(device.Context,
            compiler.Compile("add_one.cu", TestKernels.AddOne, [], target).Image, "add_one.cu");
        CudaFunction addOne = module.GetFunction("add_one_kernel1");
        const int n = 4096;
        using var x = DeviceBuffer<float>.Allocate(device.Context, n);
        using var stream = CudaStream.Create(device.Context);
        using var start = CudaEvent.Create(device.Context);
        using var end = CudaEvent.Create(device.Context);
        x.FillAsync(0, stream);
        ulong p = x.Pointer;
        int count = n;
        void** args = stackalloc void*[] { &p, &count };
        start.Record(stream);
        addOne.Launch(stream, n / 256, 256, 0, args);
        end.Record(stream);
        end.Synchronize();
        float ms = CudaEvent.ElapsedMilliseconds(start, end);
        output.WriteLine($"add_one_kernel1, {n} elements: {ms * 1000:F1} us");
        Assert.InRange(ms, 0f, 1000f);

        stream.BeginCapture();
        addOne.Launch(stream, n / 256, 256, 0, args);
        using CudaGraph graph = stream.EndCapture();
        using CudaGraphExec exec = graph.Instantiate();
        exec.Launch(stream);
        exec.Launch(stream);
        stream.Synchronize();
        float[] result = new float[n];
        x.CopyToHost(result);
        Assert.All(result, v => Assert.Equal(3f, v));
    }

    [Fact]
    [Trait("Category", "Gpu")]
    public void Failures_become_typed_exceptions_with_names_and_logs()
    {
        CudaDevice device = cuda.DeviceOrSkip();
        var oom = Assert.Throws<CudaException>(() => DeviceBuffer<byte>.Allocate(device.Context, 1L << 50));
        output.WriteLine(oom.Message);
        Assert.Equal(CudaErrorKind.Driver, oom.Kind);
        Assert.Equal("cuMemAlloc_v2", oom.Call);
        Assert.Equal("CUDA_ERROR_OUT_OF_MEMORY", oom.ErrorName);
        Assert.Equal(2, oom.Code);

        var bad = Assert.Throws<CudaException>(() => CudaModule.Load(device.Context, "not a module"u8, "junk"));
        output.WriteLine(bad.Message);
        Assert.Equal("cuModuleLoadDataEx", bad.Call);
        Assert.Contains("junk", bad.Message, StringComparison.Ordinal);

        using CudaModule module = LoadScaleModule(device);
        var missing = Assert.Throws<CudaException>(() => module.GetFunction("no_such_kernel"));
        Assert.Equal("CUDA_ERROR_NOT_FOUND", missing.ErrorName);
        Assert.Contains("no_such_kernel", missing.Message, StringComparison.Ordinal);
    }

    private static KernelTarget TargetOrSkip(CudaDevice device, KernelCompiler compiler)
    {
        KernelTarget? target = KernelTarget.ForDevice(device.ComputeCapability, compiler.SupportedArchs);
        Assert.SkipWhen(target is null, $"NVRTC {compiler.NvrtcVersion} cannot target sm_{device.ComputeCapability}");
        return target!.Value;
    }

    private static CudaModule LoadScaleModule(CudaDevice device)
    {
        KernelCompiler compiler = TestKernels.CompilerOrSkip(cache: null);
        CompiledKernel k = compiler.Compile("scale.cu", TestKernels.Scale, [TestKernels.MiniHeader],
            TargetOrSkip(device, compiler));
        return CudaModule.Load(device.Context, k.Image, k.SourceName);
    }
}
