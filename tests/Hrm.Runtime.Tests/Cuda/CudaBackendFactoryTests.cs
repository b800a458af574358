using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using Hrm.Runtime.Backends;
using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Backends.Cuda;

namespace Hrm.Runtime.Tests.Cuda;

/// <summary>
/// Device selection: "auto" takes CUDA when it works and otherwise the CPU with a one-line notice naming why;
/// "cuda" without a usable device throws <see cref="CudaUnavailableException"/> with the reason. Runs everywhere
/// (the assertions follow what the probe finds on this machine).
/// </summary>
[Collection("Cuda")] // builds a backend on the GPU: never while another class captures a graph
public sealed class CudaBackendFactoryTests(ITestOutputHelper output)
{
    [Fact]
    public void Auto_picks_cuda_when_the_probe_succeeds_and_the_cpu_with_the_reason_otherwise()
    {
        CudaProbeResult probe = CudaProbe.Run();
        output.WriteLine($"probe: {probe}");
        using IHrmBackend backend = BackendFactory.Create("auto", 1, out string notice);
        output.WriteLine(notice);
        Assert.DoesNotContain('\n', notice);
        if (probe.Available)
        {
            Assert.IsType<CudaBackend>(backend);
            Assert.StartsWith("device: cuda (", notice, StringComparison.Ordinal);
            return;
        }
        Assert.IsType<CpuBackend>(backend);
        Assert.StartsWith($"device: cpu (1 thread, {SimdMath.Description}", notice, StringComparison.Ordinal);
        Assert.Contains($"{((CpuBackend)backend).Description}; no CUDA: ", notice, StringComparison.Ordinal);
        Assert.Contains(probe.ShortReason, notice, StringComparison.Ordinal);
    }

    [Fact]
    public void Cpu_notice_names_the_threads_and_the_vector_width()
    {
        using IHrmBackend backend = BackendFactory.Create("cpu", 2, out string notice);
        Assert.IsType<CpuBackend>(backend);
        string width = Vector512.IsHardwareAccelerated ? "512-bit vectors: AVX-512"
            : Vector256.IsHardwareAccelerated ? "256-bit vectors: AVX2"
            : AdvSimd.IsSupported ? "128-bit vectors: NEON" : "128-bit vectors";
        Assert.StartsWith($"device: cpu (2 threads, {width}", notice, StringComparison.Ordinal);
    }

    [Fact]
    public void Cuda_without_a_usable_device_throws_the_typed_exception_with_what_was_tried()
    {
        CudaProbeResult probe = CudaProbe.Run();
        Assert.SkipWhen(probe.Available, $"a CUDA device is available here: {probe}");
        var e = Assert.Throws<CudaUnavailableException>(() => BackendFactory.Create("cuda", 1, out _));
        output.WriteLine(e.Message);
        Assert.Equal(probe.Reason, e.Reason);
        Assert.Contains("no usable CUDA device", e.Message, StringComparison.Ordinal);
        Assert.Contains(probe.ShortReason, e.Message, StringComparison.Ordinal);
        if (!probe.Reason.Contains("cuInit", StringComparison.Ordinal) && probe.Device.Length == 0)
        {
            // No driver library at all: the message lists the file names that were tried.
            Assert.Contains("libcuda.so.1", e.Message, StringComparison.Ordinal);
        }
        Assert.False(CudaBackend.TryCreate(null, out CudaBackend? none, out string reason));
        Assert.Null(none);
        Assert.Equal(probe.Reason, reason);
    }

    [Theory]
    [InlineData("cuda:")]
    [InlineData("cuda:x")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:1.5")]
    [InlineData("cuda: 1")]
    [InlineData("cuda:12345")]
    [InlineData("cuda:٣")] // a digit, but not an ASCII one
    public void Cuda_n_without_a_gpu_number_is_refused_before_cuda_is_touched(string device)
    {
        var e = Assert.Throws<ArgumentException>(() => BackendFactory.Create(device, 1, out _));
        Assert.Contains($"expected cuda:N with N a GPU number (0, 1, ...), got '{device}'", e.Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public void Cuda_n_opens_gpu_n_and_a_number_past_the_last_gpu_is_refused_with_the_count()
    {
        Assert.Equal("cuda", BackendFactory.CudaName(0));
        Assert.Equal("cuda:3", BackendFactory.CudaName(3));
        CudaProbeResult probe = CudaProbe.Run();
        output.WriteLine($"probe: {probe}");
        if (!probe.Available)
        {
            var none = Assert.Throws<CudaUnavailableException>(() => BackendFactory.Create("cuda:0", 1, out _));
            Assert.Equal(probe.Reason, none.Reason);
            return;
        }
        using (IHrmBackend gpu = BackendFactory.Create("cuda:0", 1, out string notice))
        {
            output.WriteLine(notice);
            Assert.Equal(0, Assert.IsType<CudaBackend>(gpu).Options.DeviceOrdinal);
            Assert.StartsWith($"device: cuda ({probe.Device}; ", notice, StringComparison.Ordinal);
        }
        var e = Assert.Throws<CudaUnavailableException>(() => BackendFactory.Create("cuda:9999", 1, out _));
        output.WriteLine(e.Reason);
        Assert.StartsWith("device ordinal 9999 is out of range: the driver reports ", e.Reason,
            StringComparison.Ordinal);
    }

    [Fact]
    public void Cuda_1_opens_the_second_gpu_and_the_notice_names_it()
    {
        CudaProbeResult second = CudaProbe.Run(1);
        Assert.SkipUnless(second.Available, $"no second usable GPU here: {second}");
        using IHrmBackend backend = BackendFactory.Create("cuda:1", 1, out string notice);
        output.WriteLine(notice);
        CudaBackend gpu = Assert.IsType<CudaBackend>(backend);
        Assert.Equal(1, gpu.Options.DeviceOrdinal);
        Assert.Equal(1, gpu.Device.Ordinal);
        Assert.StartsWith($"device: cuda:1 ({second.Device}; ", notice, StringComparison.Ordinal);
    }

    [Fact]
    public void Device_names_are_listed_and_unknown_ones_rejected()
    {
        Assert.Equal(["auto", "cpu", "cuda", "reference"], BackendFactory.Devices);
        var e = Assert.Throws<ArgumentException>(() => BackendFactory.Create("gpu", 1, out _));
        Assert.Contains("auto, cpu, cuda, reference or cuda:N (GPU N), got 'gpu'", e.Message, StringComparison.Ordinal);
    }
}
