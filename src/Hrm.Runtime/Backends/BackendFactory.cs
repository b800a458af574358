using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Backends.Reference;

namespace Hrm.Runtime.Backends;

/// <summary>Creates a backend from a user's <c>--device</c> choice.</summary>
public static class BackendFactory
{
    /// <summary>Accepted device names.</summary>
    public static readonly IReadOnlyList<string> Devices = ["auto", "cpu", "reference"];

    /// <summary>
    /// "cpu" (fp32 SIMD), "reference" (scalar double: slow, for parity checks) or "auto". No GPU backend exists
    /// yet, so "auto" is the CPU; <paramref name="notice"/> says so in one line.
    /// </summary>
    public static IHrmBackend Create(string device, int threads, out string notice)
    {
        switch (device)
        {
            case "auto":
                notice = "device: cpu (no GPU backend in this build)";
                return new CpuBackend(threads);
            case "cpu":
                notice = "device: cpu";
                return new CpuBackend(threads);
            case "reference":
                notice = "device: reference (scalar double precision; slow)";
                return new ReferenceBackend();
            default:
                throw new ArgumentException($"--device: expected one of {string.Join(", ", Devices)}, got '{device}'");
        }
    }
}
