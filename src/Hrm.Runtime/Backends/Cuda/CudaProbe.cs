using System.Globalization;
using Hrm.Runtime.Backends.Cuda.Interop;

namespace Hrm.Runtime.Backends.Cuda;

/// <summary>
/// What a CUDA backend would find on this machine: the device, NVRTC and cuBLAS, each loaded and queried without
/// compiling anything. <see cref="Available"/> is false with a <see cref="Reason"/> when any is missing, or when the
/// GPU is older than the kernels need (<see cref="CudaBackend.MinimumComputeCapability"/>).
/// </summary>
/// <param name="Available">True when the device is new enough and NVRTC and cuBLAS loaded.</param>
/// <param name="Reason">Why not ("" when available): what failed and every library path tried.</param>
/// <param name="Device">The device, e.g. <c>NVIDIA H200 (sm_90, 132 SMs, 139.8 GiB, driver 12.4)</c>, or "".</param>
/// <param name="ComputeCapability">major·10 + minor (0 without a device).</param>
/// <param name="TotalMemoryBytes">Device memory in bytes (0 without a device).</param>
/// <param name="NvrtcVersion">NVRTC's version, e.g. <c>11.8</c>, or "" when it did not load.</param>
public sealed record CudaProbeResult(bool Available, string Reason, string Device, int ComputeCapability,
    long TotalMemoryBytes, string NvrtcVersion)
{
    /// <summary>The first line of <see cref="Reason"/> (for one-line notices).</summary>
    public string ShortReason => Reason.Split('\n')[0].Trim();

    /// <summary>One line: the device and NVRTC version, or "unavailable: reason".</summary>
    public override string ToString() => Available
        ? string.Create(CultureInfo.InvariantCulture, $"{Device}, NVRTC {NvrtcVersion}, cuBLAS loaded")
        : "unavailable: " + ShortReason;
}

/// <summary>Probes the CUDA stack (driver, device, NVRTC, cuBLAS) for <c>hrm info</c> and device selection.</summary>
public static class CudaProbe
{
    /// <summary>Loads the driver, opens GPU <paramref name="ordinal"/>, checks its architecture, loads NVRTC and
    /// cuBLAS; never throws.</summary>
    public static CudaProbeResult Run(int ordinal = 0)
    {
        if (!CudaDevice.TryCreate(ordinal, out CudaDevice? device, out string reason))
            return new CudaProbeResult(false, reason, "", 0, 0, "");
        using (device)
        {
            string name = device.ToString();
            int cc = device.ComputeCapability;
            long memory = device.TotalMemoryBytes;
            if (CudaBackend.ArchitectureProblem(cc, name) is string problem)
                return new CudaProbeResult(false, problem, name, cc, memory, "");
            if (!KernelCompiler.TryCreate(null, out KernelCompiler? compiler, out string nvrtcReason))
                return new CudaProbeResult(false, "NVRTC: " + nvrtcReason, name, cc, memory, "");
            if (!CudaLibraryResolver.TryLoad(CudaLibraryNames.Cublas, out _, out IReadOnlyList<string> tried))
            {
                return new CudaProbeResult(false, CudaLibraryNotFoundException.Format(CudaLibraryNames.Cublas, tried),
                    name, cc, memory, compiler.NvrtcVersion);
            }
            if (KernelTarget.ForDevice(cc, compiler.SupportedArchs) is null)
            {
                return new CudaProbeResult(false, $"NVRTC {compiler.NvrtcVersion} cannot compile for sm_{cc} " +
                    $"(supported: {string.Join(", ", compiler.SupportedArchs)})", name, cc, memory,
                    compiler.NvrtcVersion);
            }
            return new CudaProbeResult(true, "", name, cc, memory, compiler.NvrtcVersion);
        }
    }
}
