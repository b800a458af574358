using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Backends.Cuda;
using Hrm.Runtime.Backends.Reference;

namespace Hrm.Runtime.Backends;

/// <summary>Creates a backend from a user's <c>--device</c> choice.</summary>
public static class BackendFactory
{
    /// <summary>Accepted device names.</summary>
    public static readonly IReadOnlyList<string> Devices = ["auto", "cpu", "cuda", "reference"];

    /// <summary>
    /// "cpu" (fp32 SIMD), "cuda" (the NVRTC kernels and cuBLAS on GPU 0), "reference" (scalar double: slow, for
    /// parity checks) or "auto": CUDA when a device, NVRTC and cuBLAS all work, else the CPU.
    /// <paramref name="notice"/> says in one line what was chosen and, for "auto" on the CPU, why CUDA was not.
    /// </summary>
    /// <exception cref="CudaUnavailableException">"cuda" on a machine where it cannot run; the reason lists what
    /// failed and every library path tried.</exception>
    public static IHrmBackend Create(string device, int threads, out string notice) =>
        Create(device, threads, cudaOptions: null, out notice);

    /// <summary>As <see cref="Create(string, int, out string)"/> with explicit CUDA options.</summary>
    public static IHrmBackend Create(string device, int threads, CudaBackendOptions? cudaOptions, out string notice)
    {
        switch (device)
        {
            case "auto":
                if (CudaBackend.TryCreate(cudaOptions, out CudaBackend? gpu, out string reason))
                {
                    notice = CudaNotice(gpu);
                    return gpu;
                }
                var fallback = new CpuBackend(threads);
                notice = $"device: cpu ({fallback.Description}; no CUDA: {FirstLine(reason)})";
                return fallback;
            case "cpu":
                var cpu = new CpuBackend(threads);
                notice = $"device: cpu ({cpu.Description})";
                return cpu;
            case "cuda":
                CudaBackend cuda = CudaBackend.Create(cudaOptions);
                notice = CudaNotice(cuda);
                return cuda;
            case "reference":
                notice = "device: reference (scalar double precision; slow)";
                return new ReferenceBackend();
            default:
                throw new ArgumentException($"--device: expected one of {string.Join(", ", Devices)}, got '{device}'");
        }
    }

    private static string CudaNotice(CudaBackend b) =>
        $"device: cuda ({b.DeviceDescription}; kernels {b.KernelArch}, NVRTC {b.NvrtcVersion}; attention " +
        $"{(b.Options.Bf16Attention ? "bf16 tensor cores for HS 64" : "fp32")}; linear layers " +
        $"{(b.UsesBf16Matmul ? "bf16 (cuBLASLt)" : "fp32")})";

    private static string FirstLine(string text)
    {
        int nl = text.IndexOf('\n', StringComparison.Ordinal);
        return (nl < 0 ? text : text[..nl]).Trim();
    }
}
