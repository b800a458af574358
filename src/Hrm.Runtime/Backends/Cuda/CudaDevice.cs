using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using Hrm.Runtime.Backends.Cuda.Interop;

namespace Hrm.Runtime.Backends.Cuda;

/// <summary>
/// One CUDA GPU with its retained primary context. Create it with <see cref="TryCreate"/>, which returns false
/// with a reason on a machine without a GPU, driver or library and never throws; nothing CUDA is loaded until
/// it is called, so CPU-only paths never touch the native libraries. Dispose it after everything created in its
/// context (buffers → modules → cuBLAS → streams → device); the context is released only when all are gone.
/// </summary>
public sealed class CudaDevice : IDisposable
{
    private CudaDevice(int ordinal, string name, CudaPrimaryContext context, int driverVersion)
    {
        Ordinal = ordinal;
        Name = name;
        Context = context;
        DriverVersion = driverVersion;
    }

    /// <summary>The device ordinal passed to <see cref="TryCreate"/>.</summary>
    public int Ordinal { get; }

    /// <summary>The marketing name, e.g. <c>NVIDIA H200</c>.</summary>
    public string Name { get; }

    /// <summary>The compute capability as major·10 + minor, e.g. 90 for sm_90.</summary>
    public int ComputeCapability { get; private init; }

    /// <summary>The number of streaming multiprocessors.</summary>
    public int SmCount { get; private init; }

    /// <summary>Whether the device takes cooperative launches (every block resident at once: grid-wide barriers).</summary>
    public bool CooperativeLaunch { get; private init; }

    /// <summary>Total device memory in bytes.</summary>
    public long TotalMemoryBytes { get; private init; }

    /// <summary>Shared memory a block may use without opting in (usually 48 KiB).</summary>
    public int MaxSharedMemoryPerBlock { get; private init; }

    /// <summary>Shared memory a block may use after opting in per kernel (e.g. 227 KiB on sm_90).</summary>
    public int MaxSharedMemoryPerBlockOptIn { get; private init; }

    /// <summary>The driver's CUDA version as 1000·major + 10·minor, e.g. 12040 for 12.4.</summary>
    public int DriverVersion { get; }

    /// <summary>The retained primary context that every buffer, stream and module of this device lives in.</summary>
    internal CudaPrimaryContext Context { get; }

    /// <summary>
    /// Opens GPU <paramref name="ordinal"/>: loads the driver, initialises it, reads the device's properties,
    /// retains its primary context and makes it current on the calling thread. Returns false, with a
    /// one-paragraph reason (what failed and what was tried), when there is no usable device; never throws.
    /// </summary>
    public static bool TryCreate(int ordinal, [NotNullWhen(true)] out CudaDevice? device, out string reason)
    {
        device = null;
        reason = "";
        if (ordinal < 0)
        {
            reason = $"device ordinal must be >= 0, got {ordinal}";
            return false;
        }
        try
        {
            if (!CudaLibraryResolver.TryLoad(CudaLibraryNames.Cuda, out _, out IReadOnlyList<string> attempts))
            {
                reason = CudaLibraryNotFoundException.Format(CudaLibraryNames.Cuda, attempts);
                return false;
            }
            device = Open(ordinal, out reason);
            return device is not null;
        }
        catch (Exception e) when (e is CudaException or EntryPointNotFoundException or DllNotFoundException
                                      or ObjectDisposedException)
        {
            reason = e.Message;
            return false;
        }
    }

    /// <summary>Makes this device's context current on the calling thread.</summary>
    public void MakeCurrent() => Context.MakeCurrent();

    /// <summary>Device memory free now, in bytes (<c>cuMemGetInfo</c>: what other processes and this one hold is
    /// not free).</summary>
    public unsafe long FreeMemoryBytes()
    {
        MakeCurrent();
        nuint free, total;
        CudaCheck.Driver(CuDriver.cuMemGetInfo_v2(&free, &total));
        return (long)free;
    }

    /// <summary>Waits for all queued work on the device.</summary>
    public void Synchronize() => Context.Synchronize();

    /// <summary>Releases this handle's reference on the primary context.</summary>
    public void Dispose() => Context.Dispose();

    /// <summary>E.g. <c>NVIDIA H200 (sm_90, 132 SMs, 139.8 GiB, driver 12.4)</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Name} (sm_{ComputeCapability}, {SmCount} SMs, {TotalMemoryBytes / (double)(1L << 30):F1} GiB, " +
        $"driver {DriverVersion / 1000}.{DriverVersion % 1000 / 10})");

    private static unsafe CudaDevice? Open(int ordinal, out string reason)
    {
        CudaCheck.Driver(CuDriver.cuInit(0));
        int version, count, dev;
        CudaCheck.Driver(CuDriver.cuDriverGetVersion(&version));
        CudaCheck.Driver(CuDriver.cuDeviceGetCount(&count));
        if (ordinal >= count)
        {
            reason = $"device ordinal {ordinal} is out of range: the driver reports {count} CUDA device(s)";
            return null;
        }
        CudaCheck.Driver(CuDriver.cuDeviceGet(&dev, ordinal));
        byte* name = stackalloc byte[256];
        CudaCheck.Driver(CuDriver.cuDeviceGetName(name, 256, dev));
        nuint total;
        CudaCheck.Driver(CuDriver.cuDeviceTotalMem_v2(&total, dev));
        int cc = Attribute(CuDeviceAttribute.ComputeCapabilityMajor, dev) * 10 +
                 Attribute(CuDeviceAttribute.ComputeCapabilityMinor, dev);
        int sms = Attribute(CuDeviceAttribute.MultiprocessorCount, dev);
        int smem = Attribute(CuDeviceAttribute.MaxSharedMemoryPerBlock, dev);
        int smemOptIn = Attribute(CuDeviceAttribute.MaxSharedMemoryPerBlockOptin, dev);
        int cooperative = Attribute(CuDeviceAttribute.CooperativeLaunch, dev);
        var context = CudaPrimaryContext.Retain(dev);
        try
        {
            context.MakeCurrent();
        }
        catch
        {
            context.Dispose();
            throw;
        }
        reason = "";
        return new CudaDevice(ordinal, Utf8(name, 256), context, version)
        {
            ComputeCapability = cc,
            SmCount = sms,
            TotalMemoryBytes = (long)total,
            MaxSharedMemoryPerBlock = smem,
            MaxSharedMemoryPerBlockOptIn = smemOptIn,
            CooperativeLaunch = cooperative != 0,
        };
    }

    private static unsafe int Attribute(CuDeviceAttribute attribute, int device)
    {
        int value;
        CudaCheck.Driver(CuDriver.cuDeviceGetAttribute(&value, attribute, device));
        return value;
    }

    private static unsafe string Utf8(byte* text, int capacity)
    {
        int length = new ReadOnlySpan<byte>(text, capacity).IndexOf((byte)0);
        return Encoding.UTF8.GetString(text, length < 0 ? capacity : length);
    }
}
