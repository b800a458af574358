namespace Hrm.Runtime.Backends.Cuda;

/// <summary>
/// What ptxas reported for one function (from the <c>ptxas info</c> lines NVRTC logs with
/// <c>--ptxas-options=-v</c>). Any spill means local-memory traffic in the inner loop: a kernel with spills
/// fails <c>KernelCompileTests</c>.
/// </summary>
/// <param name="Name">The function name (kernels are <c>extern "C"</c>, so unmangled).</param>
/// <param name="Arch">The architecture ptxas compiled for, e.g. <c>sm_90</c>.</param>
/// <param name="IsEntry">True for a <c>__global__</c> kernel, false for a non-inlined device function.</param>
/// <param name="Registers">Registers per thread.</param>
/// <param name="SharedBytes">Static shared memory per block.</param>
/// <param name="StackFrameBytes">Stack frame per thread (local memory).</param>
/// <param name="SpillStoreBytes">Register spill stores per thread.</param>
/// <param name="SpillLoadBytes">Register spill loads per thread.</param>
internal sealed record KernelResourceUsage(string Name, string Arch, bool IsEntry, int Registers, int SharedBytes,
    int StackFrameBytes, int SpillStoreBytes, int SpillLoadBytes)
{
    /// <summary>True when ptxas spilled registers to local memory.</summary>
    public bool HasSpills => SpillStoreBytes > 0 || SpillLoadBytes > 0;

    /// <summary>One table row: name, arch, registers, smem, stack, spills.</summary>
    public override string ToString() =>
        $"{Name,-40} {Arch,-8} {Registers,4} regs {SharedBytes,7} B smem {StackFrameBytes,5} B stack " +
        $"{SpillStoreBytes,4}/{SpillLoadBytes,-4} B spill st/ld";
}
