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

    [Fact]
    public void Device_names_are_listed_and_unknown_ones_rejected()
    {
        Assert.Equal(["auto", "cpu", "cuda", "reference"], BackendFactory.Devices);
        var e = Assert.Throws<ArgumentException>(() => BackendFactory.Create("gpu", 1, out _));
        Assert.Contains("cuda", e.Message, StringComparison.Ordinal);
    }
}
