using Hrm.Runtime.Backends.Cuda;
using Hrm.Runtime.Model;
using Hrm.Runtime.Tests.Model;
using Hrm.Runtime.Tests.TestUtil;

namespace Hrm.Runtime.Tests.Cuda;

/// <summary>
/// The CUDA backend against the PyTorch reference HRM itself (<see cref="ReferenceParityTests"/> on the GPU): the
/// reference's checkpoints evaluated with fp32 GEMMs against its float32 forward, and with bf16 GEMMs (the GPU
/// default) against both its bfloat16 and float32 forwards. Both fixtures have 16-wide heads, so the attention is
/// the fp32 kernel's.
/// </summary>
[Collection("Cuda")]
public sealed class CudaReferenceParityTests(CudaFixture cuda, ITestOutputHelper output)
{
    // On the CPU emulator (tests/gpu-emu), 2026-11-30: fp32 GEMMs within 1.2e-6. bf16 GEMMs: rope-fp32 logits
    // 1.8e-2 and Q logits up to 1.6e-2 from the float32 reference; learned-bf16 6.7e-3 / 1.6e-2 from the bfloat16
    // reference and 5.3e-3 / 1.8e-2 from the float32 one (bf16 rounding at other places: the reference rounds every
    // activation, we round the GEMM inputs). Not yet run on a GPU.
    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData("rope-fp32", "eval", false, 1e-4)]
    [InlineData("learned-bf16", "eval_fp32", false, 1e-4)]
    [InlineData("rope-fp32", "eval", true, 6e-2)]
    [InlineData("learned-bf16", "eval", true, 6e-2)]
    [InlineData("learned-bf16", "eval_fp32", true, 6e-2)]
    public void Evaluation_on_the_gpu_gives_what_the_reference_gave(string fixture, string key, bool bf16Matmul,
        double tol)
    {
        cuda.BackendOrSkip(); // skips without a device, NVRTC or cuBLAS; warms the kernel cache
        CudaBackend backend = bf16Matmul
            ? cuda.Bf16MatmulBackendOrSkip()
            : new CudaBackend(cuda.DeviceOrSkip(), new CudaBackendOptions());
        using ReferenceFixture f = ReferenceFixture.Open(fixture);
        using HrmModel m = HrmCheckpoint.Load(f.CheckpointPath, backend, f.Config);
        ReferenceParityTests.Compare(m, f, key, tol, output);
    }
}
