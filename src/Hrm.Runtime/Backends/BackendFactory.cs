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
    /// "cpu" (fp32 SIMD), "cuda" (the NVRTC kernels and cuBLAS on GPU 0, or the options'
    /// <see cref="CudaBackendOptions.DeviceOrdinal"/>), "cuda:N" (on GPU N, as PyTorch names it; the driver numbers
    /// the GPUs that <c>CUDA_VISIBLE_DEVICES</c> leaves), "reference" (scalar double: slow, for parity checks) or
    /// "auto": CUDA when a device, NVRTC and cuBLAS all work, else the CPU.
    /// <paramref name="notice"/> says in one line what was chosen and, for "auto" on the CPU, why CUDA was not.
    /// </summary>
    /// <exception cref="CudaUnavailableException">"cuda" or "cuda:N" on a machine where it cannot run (GPU N
    /// missing); the reason lists what failed and every library path tried.</exception>
    /// <exception cref="ArgumentException">A device name not listed here, or "cuda:" without a GPU number.
    /// </exception>
    public static IHrmBackend Create(string device, int threads, out string notice) =>
        Create(device, threads, cudaOptions: null, out notice);

    /// <summary>As <see cref="Create(string, int, out string)"/> with explicit CUDA options.</summary>
    public static IHrmBackend Create(string device, int threads, CudaBackendOptions? cudaOptions, out string notice)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device.StartsWith(CudaPrefix, StringComparison.Ordinal))
        {
            CudaBackend gpu = CudaBackend.Create((cudaOptions ?? new CudaBackendOptions()) with
            {
                DeviceOrdinal = GpuNumber(device),
            });
            notice = CudaNotice(gpu);
            return gpu;
        }
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
                throw new ArgumentException(
                    $"--device: expected one of {string.Join(", ", Devices)} or cuda:N (GPU N), got '{device}'");
        }
    }

    private const string CudaPrefix = "cuda:";

    /// <summary>N of "cuda:N": a GPU number, 0 or more, in plain digits.</summary>
    private static int GpuNumber(string device)
    {
        string n = device[CudaPrefix.Length..];
        if (n.Length == 0 || n.Length > 4 || !n.All(char.IsAsciiDigit))
            throw new ArgumentException($"--device: expected cuda:N with N a GPU number (0, 1, ...), got '{device}'");
        return int.Parse(n, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>"cuda" for GPU 0, "cuda:N" for GPU N: the --device value that names it.</summary>
    internal static string CudaName(int ordinal) => ordinal == 0 ? "cuda" : $"{CudaPrefix}{ordinal}";

    /// <summary>The line naming the GPU ("cuda:N" past GPU 0), its kernels, NVRTC and the precision of each part.
    /// </summary>
    private static string CudaNotice(CudaBackend b) =>
        $"device: {CudaName(b.Options.DeviceOrdinal)} ({b.DeviceDescription}; kernels {b.KernelArch}, " +
        $"NVRTC {b.NvrtcVersion}; attention " +
        $"{(b.Options.Bf16Attention ? "bf16 tensor cores for HS 64" : "fp32")}; linear layers " +
        $"{(b.UsesBf16Matmul ? "bf16 (cuBLASLt)" : "fp32")})";

    private static string FirstLine(string text)
    {
        int nl = text.IndexOf('\n', StringComparison.Ordinal);
        return (nl < 0 ? text : text[..nl]).Trim();
    }
}
