using Hrm.Runtime.Backends.Cuda;
using Hrm.Runtime.Backends.Cuda.Interop;

namespace Hrm.Runtime.Tests.Cuda;

/// <summary>The checked layer: status codes become typed exceptions naming the call, code and library text.</summary>
public sealed class CudaCheckTests
{
    [Theory]
    [InlineData("CuDriver.cuMemAlloc_v2(&p, n)", "cuMemAlloc_v2")]
    [InlineData("Nvrtc.nvrtcGetPTX(handle, p)", "nvrtcGetPTX")]
    [InlineData("cuInit(0)", "cuInit")]
    [InlineData("", "")]
    public void Call_name_is_the_function_in_the_expression(string expression, string call) =>
        Assert.Equal(call, CudaCheck.CallName(expression));

    [Fact]
    public void Cublas_status_names_the_call_code_and_status()
    {
        var e = Assert.Throws<CudaException>(() =>
            CudaCheck.Cublas(CublasStatus.NotSupported, "CublasLt.cublasLtMatmul(h, d, ...)"));
        Assert.Equal(CudaErrorKind.Cublas, e.Kind);
        Assert.Equal("cublasLtMatmul", e.Call);
        Assert.Equal(15, e.Code);
        Assert.Equal("CUBLAS_STATUS_NOT_SUPPORTED", e.ErrorName);
        Assert.StartsWith("cublasLtMatmul failed: CUBLAS_STATUS_NOT_SUPPORTED (15): no implementation", e.Message,
            StringComparison.Ordinal);
        Assert.EndsWith("[in CublasLt.cublasLtMatmul(h, d, ...)]", e.Message, StringComparison.Ordinal);
        CudaCheck.Cublas(CublasStatus.Success);
    }

    [Fact]
    public void Nvrtc_status_is_named_by_the_library()
    {
        TestKernels.CompilerOrSkip(cache: null);
        var e = Assert.Throws<CudaException>(() => CudaCheck.Nvrtc(NvrtcResult.InvalidOption));
        Assert.Equal(CudaErrorKind.Nvrtc, e.Kind);
        Assert.Equal("NVRTC_ERROR_INVALID_OPTION", e.ErrorName);
        Assert.Equal(5, e.Code);
        CudaCheck.Nvrtc(NvrtcResult.Success);
    }

    [Fact]
    public void Detail_lines_follow_the_status_line()
    {
        var e = new CudaException(CudaErrorKind.Driver, "cuModuleLoadDataEx", 218, "CUDA_ERROR_INVALID_PTX",
            "a PTX JIT compilation failed", detail: "JIT error log:\nptxas fatal : bad");
        Assert.Equal("cuModuleLoadDataEx failed: CUDA_ERROR_INVALID_PTX (218): a PTX JIT compilation failed\n" +
                     "JIT error log:\nptxas fatal : bad", e.Message);
    }
}
