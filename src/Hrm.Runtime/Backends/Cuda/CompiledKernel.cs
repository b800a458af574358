namespace Hrm.Runtime.Backends.Cuda;

/// <summary>The result of compiling one kernel source with NVRTC (or reading it back from the disk cache).</summary>
/// <param name="SourceName">The source's name, e.g. <c>rms_norm.cu</c>.</param>
/// <param name="Target">The architecture and image kind.</param>
/// <param name="Options">The NVRTC options used.</param>
/// <param name="Image">The CUBIN, or the PTX text with its terminating NUL.</param>
/// <param name="Log">The NVRTC program log (warnings and ptxas info lines).</param>
/// <param name="FromCache">True when the image came from the disk cache and NVRTC did not run.</param>
internal sealed record CompiledKernel(string SourceName, KernelTarget Target, IReadOnlyList<string> Options,
    byte[] Image, string Log, bool FromCache)
{
    /// <summary>Per-function resource usage parsed from the log (empty for PTX: ptxas did not run).</summary>
    public IReadOnlyList<KernelResourceUsage> Resources { get; } = PtxasLog.Parse(Log);

    /// <summary>The warning lines of the log.</summary>
    public IReadOnlyList<string> Warnings { get; } = PtxasLog.Warnings(Log);
}
