using Hrm.Runtime.Backends.Cuda;

namespace Hrm.Runtime.Tests.Cuda;

/// <summary>
/// One CUDA device (ordinal 0) shared by the "Cuda" collection, or the reason there is none, plus two CUDA
/// backends built on it on first use (fp32 attention for parity tests, bf16 attention), so the kernels are loaded
/// once per test run.
/// </summary>
public sealed class CudaFixture : IDisposable
{
    private readonly Lock _gate = new();
    private CudaBackend? _fp32, _bf16;

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

    /// <summary>
    /// The shared backend with fp32 (<paramref name="bf16Attention"/> false) or bf16 attention, or skips the test
    /// with "no CUDA device: &lt;reason&gt;" (also when NVRTC or cuBLAS is missing).
    /// </summary>
    internal CudaBackend BackendOrSkip(bool bf16Attention = false)
    {
        CudaDevice device = DeviceOrSkip();
        lock (_gate)
        {
            ref CudaBackend? slot = ref bf16Attention ? ref _bf16 : ref _fp32;
            if (slot is null)
            {
                try
                {
                    slot = new CudaBackend(device, new CudaBackendOptions { Bf16Attention = bf16Attention });
                }
                catch (CudaLibraryNotFoundException e)
                {
                    Assert.Skip($"no CUDA device: {e.Message}");
                }
            }
            return slot!;
        }
    }

    /// <summary>
    /// A new backend (the caller disposes it) with bf16 GEMMs and <paramref name="options"/>' other choices, or skips
    /// the test without a device, NVRTC, cuBLAS or cuBLASLt.
    /// </summary>
    internal CudaBackend Bf16MatmulBackendOrSkip(CudaBackendOptions? options = null)
    {
        BackendOrSkip(); // skips without a device, NVRTC or cuBLAS; warms the kernel cache
        try
        {
            return new CudaBackend(DeviceOrSkip(), (options ?? new CudaBackendOptions()) with { Bf16Matmul = true });
        }
        catch (CudaLibraryNotFoundException e)
        {
            Assert.Skip($"cuBLASLt is not installed: {e.Message}");
            throw;
        }
    }

    public void Dispose()
    {
        _fp32?.Dispose();
        _bf16?.Dispose();
        Device?.Dispose();
    }
}

[CollectionDefinition("Cuda")]
public sealed class CudaDeviceGroup : ICollectionFixture<CudaFixture>;
