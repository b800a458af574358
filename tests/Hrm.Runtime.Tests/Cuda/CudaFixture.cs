using Hrm.Runtime.Backends.Cuda;

namespace Hrm.Runtime.Tests.Cuda;

/// <summary>One CUDA device (ordinal 0) shared by the "Cuda" collection, or the reason there is none.</summary>
public sealed class CudaFixture : IDisposable
{
    public CudaFixture()
    {
        if (CudaDevice.TryCreate(0, out CudaDevice? device, out string reason)) Device = device;
        Reason = reason;
    }

    /// <summary>The device, or null on a machine without one.</summary>
    internal CudaDevice? Device { get; }

    /// <summary>Why <see cref="Device"/> is null.</summary>
    public string Reason { get; }

    /// <summary>The device, or skips the test with "no CUDA device: &lt;reason&gt;".</summary>
    internal CudaDevice DeviceOrSkip()
    {
        Assert.SkipWhen(Device is null, $"no CUDA device: {Reason}");
        Device!.MakeCurrent();
        return Device;
    }

    public void Dispose() => Device?.Dispose();
}

[CollectionDefinition("Cuda")]
public sealed class CudaDeviceGroup : ICollectionFixture<CudaFixture>;
