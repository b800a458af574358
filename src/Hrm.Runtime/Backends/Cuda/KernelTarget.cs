using System.Globalization;

namespace Hrm.Runtime.Backends.Cuda;

/// <summary>
/// What NVRTC produces: a CUBIN for one real architecture (<c>sm_80</c>) or PTX for a virtual one
/// (<c>compute_80</c>, JIT-compiled by the driver for any newer GPU).
/// </summary>
/// <param name="Arch">The architecture as major·10 + minor, e.g. 80, 90.</param>
/// <param name="Ptx">True for PTX, false for CUBIN.</param>
internal readonly record struct KernelTarget(int Arch, bool Ptx)
{
    /// <summary>A CUBIN for <c>sm_{arch}</c>.</summary>
    public static KernelTarget Cubin(int arch) => new(arch, Ptx: false);

    /// <summary>PTX for <c>compute_{arch}</c>.</summary>
    public static KernelTarget VirtualPtx(int arch) => new(arch, Ptx: true);

    /// <summary>The NVRTC option: <c>--gpu-architecture=sm_80</c> or <c>--gpu-architecture=compute_80</c>.</summary>
    public string ArchOption => "--gpu-architecture=" + ToString();

    /// <summary>
    /// The best target for a device of architecture <paramref name="deviceArch"/>: a CUBIN when NVRTC supports
    /// that architecture, else PTX for the newest supported one below it (the driver JITs it), else null.
    /// </summary>
    public static KernelTarget? ForDevice(int deviceArch, IReadOnlyList<int> supportedArchs)
    {
        if (supportedArchs.Contains(deviceArch)) return Cubin(deviceArch);
        int best = supportedArchs.Where(a => a < deviceArch).DefaultIfEmpty(0).Max();
        return best == 0 ? null : VirtualPtx(best);
    }

    /// <summary><c>sm_80</c> or <c>compute_80</c>.</summary>
    public override string ToString() =>
        (Ptx ? "compute_" : "sm_") + Arch.ToString(CultureInfo.InvariantCulture);
}
