using Hrm.Runtime.Backends.Cuda;

namespace Hrm.Runtime.Tests.Cuda;

/// <summary>Parsing of ptxas resource lines and warnings from NVRTC logs (fixed text: no NVRTC needed).</summary>
public sealed class PtxasLogTests
{
    // Verbatim NVRTC 11.8 output (--gpu-architecture=sm_80 --ptxas-options=-v --maxrregcount=24).
    private const string Nvrtc118 = """
        ptxas info    : Overriding global maxrregcount 24 with entry-specific value 32 computed using thread count
        ptxas info    : 0 bytes gmem
        ptxas info    : Compiling entry function 'stack_kernel' for 'sm_80'
        ptxas info    : Function properties for stack_kernel
        ptxas         .     240 bytes stack frame, 240 bytes spill stores, 392 bytes spill loads
        ptxas info    : Used 24 registers, 364 bytes cmem[0]
        ptxas info    : Compiling entry function 'add_kernel' for 'sm_80'
        ptxas info    : Function properties for add_kernel
        ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
        ptxas info    : Used 10 registers, 1024 bytes smem, 372 bytes cmem[0]

        """;

    // The CUDA 12 layout: barriers field, compile time line, a non-inlined device function.
    private const string Nvrtc12 = """
        ptxas info    : 0 bytes gmem
        ptxas info    : Compiling entry function 'rms_norm_forward_kernel1' for 'sm_90'
        ptxas info    : Function properties for rms_norm_forward_kernel1
            0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
        ptxas info    : Used 18 registers, used 1 barriers, 128 bytes smem, 380 bytes cmem[0]
        ptxas info    : Compile time = 3.112 ms
        ptxas info    : Function properties for __internal_trig_reduction_slowpathd
            40 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
        """;

    [Fact]
    public void Parses_nvrtc_11_8_lines()
    {
        IReadOnlyList<KernelResourceUsage> rows = PtxasLog.Parse(Nvrtc118);
        Assert.Equal(
        [
            new KernelResourceUsage("stack_kernel", "sm_80", true, 24, 0, 240, 240, 392),
            new KernelResourceUsage("add_kernel", "sm_80", true, 10, 1024, 0, 0, 0),
        ], rows);
        Assert.True(rows[0].HasSpills);
        Assert.False(rows[1].HasSpills);
        Assert.Empty(PtxasLog.Warnings(Nvrtc118));
    }

    [Fact]
    public void Parses_cuda_12_lines_with_extra_fields_and_device_functions()
    {
        string crlf = Nvrtc12.Replace("\n", "\r\n", StringComparison.Ordinal);
        IReadOnlyList<KernelResourceUsage> rows = PtxasLog.Parse(crlf);
        Assert.Equal(
        [
            new KernelResourceUsage("rms_norm_forward_kernel1", "sm_90", true, 18, 128, 0, 0, 0),
            new KernelResourceUsage("__internal_trig_reduction_slowpathd", "sm_90", false, 0, 0, 40, 0, 0),
        ], rows);
    }

    [Fact]
    public void Finds_compiler_and_ptxas_warnings_only()
    {
        const string log = """
            x.cu(2): warning #177-D: variable "unused" was declared but never referenced

            ptxas warning : Registers are spilled to local memory in function 'k', 8 bytes spill stores
            nvrtc: warning : some option is deprecated
            ptxas info    : Compiling entry function 'warning_kernel' for 'sm_80'
            x.cu(9): error: expected a ";"
            """;
        IReadOnlyList<string> warnings = PtxasLog.Warnings(log);
        Assert.Equal(3, warnings.Count);
        Assert.StartsWith("x.cu(2): warning #177-D", warnings[0], StringComparison.Ordinal);
        Assert.StartsWith("ptxas warning", warnings[1], StringComparison.Ordinal);
        Assert.StartsWith("nvrtc: warning", warnings[2], StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_log_has_no_rows()
    {
        Assert.Empty(PtxasLog.Parse(""));
        Assert.Empty(PtxasLog.Warnings(""));
    }
}
