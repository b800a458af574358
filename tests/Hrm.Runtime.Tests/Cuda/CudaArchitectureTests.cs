using Hrm.Runtime.Backends;
using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Backends.Cuda;

namespace Hrm.Runtime.Tests.Cuda;

/// <summary>
/// Which GPUs the CUDA backend takes: compute capability 8.0 and newer
/// (<see cref="CudaBackend.MinimumComputeCapability"/>). An older one (a T4, a V100) is refused before any kernel is
/// compiled, with the device and its capability in the reason, by the probe, by "cuda" and by a backend on a caller's
/// device; "auto" then runs on the CPU and says why. On a real GPU the refusal test skips (the GPU is new enough or
/// absent); the emulator runs it as an sm_75 device (EMU_SM=75: <see cref="GpuEmu.EmulatedGpuTests"/>).
/// </summary>
[Collection("Cuda")] // builds a backend on the GPU: never while another class captures a graph
public sealed class CudaArchitectureTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(80)]
    [InlineData(86)]
    [InlineData(87)]
    [InlineData(89)]
    [InlineData(90)]
    [InlineData(100)]
    [InlineData(120)]
    public void Ampere_and_newer_are_accepted(int computeCapability) =>
        Assert.Null(CudaBackend.ArchitectureProblem(computeCapability, "GPU"));

    [Theory]
    [InlineData(75, "7.5")]
    [InlineData(70, "7.0")]
    [InlineData(61, "6.1")]
    public void An_older_gpu_is_named_with_its_capability_and_what_the_kernels_need(int computeCapability,
        string shown)
    {
        string? problem = CudaBackend.ArchitectureProblem(computeCapability, "Tesla T4 (sm_75)");
        Assert.NotNull(problem);
        output.WriteLine(problem);
        Assert.StartsWith("Tesla T4 (sm_75): ", problem, StringComparison.Ordinal);
        Assert.Contains("need compute capability 8.0 or newer", problem, StringComparison.Ordinal);
        Assert.EndsWith($"this GPU has {shown}", problem, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', problem);
    }

    [Fact]
    public void A_gpu_older_than_sm_80_is_refused_before_compiling_and_auto_runs_on_the_cpu()
    {
        CudaProbeResult probe = CudaProbe.Run();
        output.WriteLine($"probe: {probe}");
        Assert.SkipWhen(probe.ComputeCapability == 0, $"no CUDA device here: {probe.ShortReason}");
        Assert.SkipWhen(probe.ComputeCapability >= CudaBackend.MinimumComputeCapability,
            $"this GPU (sm_{probe.ComputeCapability}) is new enough; the emulator runs this test as an sm_75 device");
        Assert.False(probe.Available);
        Assert.Equal(CudaBackend.ArchitectureProblem(probe.ComputeCapability, probe.Device), probe.Reason);

        using (IHrmBackend backend = BackendFactory.Create("auto", 1, out string notice))
        {
            output.WriteLine(notice);
            Assert.IsType<CpuBackend>(backend);
            Assert.EndsWith($"no CUDA: {probe.ShortReason})", notice, StringComparison.Ordinal);
        }
        var e = Assert.Throws<CudaUnavailableException>(() => BackendFactory.Create("cuda", 1, out _));
        Assert.Equal(probe.Reason, e.Reason);
        Assert.Contains(probe.Reason, e.Message, StringComparison.Ordinal);

        // A backend on a device the caller opened and keeps: refused the same way; the device stays usable.
        Assert.True(CudaDevice.TryCreate(0, out CudaDevice? device, out string reason), reason);
        using (device)
        {
            var onDevice = Assert.Throws<CudaUnavailableException>(() => new CudaBackend(device));
            Assert.Equal(probe.Reason, onDevice.Reason);
            Assert.Equal(probe.ComputeCapability, device.ComputeCapability);
        }
    }
}
