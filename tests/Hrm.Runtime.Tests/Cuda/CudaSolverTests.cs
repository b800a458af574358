using Hrm.Runtime.Backends.Cuda;
using Hrm.Runtime.Config;
using Hrm.Runtime.Solver;
using Hrm.Runtime.Tests.Model;
using Hrm.Runtime.Tests.Solver;

namespace Hrm.Runtime.Tests.Cuda;

/// <summary>
/// The solver's scheduler on the CUDA backend (GPU only): results with compaction and joining rows against the
/// same rows solved alone on the GPU and against the CPU backend. cuBLAS may pick a different GEMM algorithm for
/// a different row count, so GPU results are compared within a tolerance, not bit for bit.
/// </summary>
[Collection("Cuda")]
public sealed class CudaSolverTests(CudaFixture cuda) : IDisposable
{
    private readonly TinyCheckpoint _ckpt = new(seed: 13, TinyCheckpoint.Sudoku4() with { HaltMaxSteps = 3 });

    public void Dispose() => _ckpt.Dispose();

    [Trait("Category", "Gpu")]
    [Fact]
    public void Compacted_batches_on_the_gpu_match_rows_solved_alone_and_the_cpu()
    {
        cuda.BackendOrSkip(); // skips without a device, NVRTC or cuBLAS; warms the kernel cache
        HrmConfig c = _ckpt.Config;
        int l = c.SeqLen;
        (int[] tokens, int[] ids) = ModelFixtures.Inputs(c, 10, seed: 4);
        var options = new SolverOptions { Halting = HaltingMode.Adaptive, MinSteps = 2, BatchSlots = 4 };
        using (HrmSolver shared = Gpu(options), alone = Gpu(options with { BatchSlots = 1 }))
        {
            TokenPrediction[] batched = shared.Predict(tokens, ids);
            for (int r = 0; r < ids.Length; r++)
                AssertClose(alone.Predict(tokens.AsSpan(r * l, l), ids.AsSpan(r, 1))[0], batched[r]);
        }
        // Fixed halting against the CPU backend (adaptive decisions near the threshold could differ by rounding).
        var fixedOptions = new SolverOptions { BatchSlots = 4 };
        using HrmSolver gpu = Gpu(fixedOptions);
        using HrmSolver cpu = HrmSolver.Load(_ckpt.Path, fixedOptions with { Device = SolverDevice.Cpu, Threads = 2 });
        TokenPrediction[] onGpu = gpu.Predict(tokens, ids), onCpu = cpu.Predict(tokens, ids);
        for (int r = 0; r < ids.Length; r++) AssertClose(onCpu[r], onGpu[r]);
    }

    [Trait("Category", "Gpu")]
    [Fact]
    public void Load_hands_the_gemm_and_residual_stream_choices_to_the_cuda_backend()
    {
        cuda.BackendOrSkip();
        foreach (bool stream in new[] { true, false })
        {
            var options = new SolverOptions { Device = SolverDevice.Cuda, Bf16Stream = stream };
            using HrmSolver s = HrmSolver.Load(_ckpt.Path, options);
            CudaBackend gpu = Assert.IsType<CudaBackend>(s.Model.Backend);
            Assert.True(gpu.Options.Bf16Matmul);
            Assert.Equal(stream, gpu.Options.Bf16Stream);
        }
        using HrmSolver byDefault = HrmSolver.Load(_ckpt.Path, new SolverOptions { Device = SolverDevice.Cuda });
        Assert.True(Assert.IsType<CudaBackend>(byDefault.Model.Backend).Options.Bf16Stream);
        Assert.Equal(0, ((CudaBackend)byDefault.Model.Backend).Options.DeviceOrdinal);
        // GpuOrdinal picks the GPU: one past any machine's last is refused with the driver's count.
        var e = Assert.Throws<CudaUnavailableException>(() => HrmSolver.Load(_ckpt.Path,
            new SolverOptions { Device = SolverDevice.Cuda, GpuOrdinal = 9999 }));
        Assert.StartsWith("device ordinal 9999 is out of range", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_negative_gpu_ordinal_is_refused_before_cuda_is_touched()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => HrmSolver.Load(_ckpt.Path,
            new SolverOptions { Device = SolverDevice.Cuda, GpuOrdinal = -1 }));
        Assert.Equal("GpuOrdinal", e.ParamName);
    }

    private static void AssertClose(TokenPrediction expected, TokenPrediction actual)
    {
        Assert.Equal(expected.Segments, actual.Segments);
        Assert.Equal(expected.Tokens, actual.Tokens);
        Assert.Equal(expected.QHaltLogit, actual.QHaltLogit, 1e-3f);
        Assert.Equal(expected.QContinueLogit, actual.QContinueLogit, 1e-3f);
    }

    private HrmSolver Gpu(SolverOptions options) =>
        HrmSolver.Load(_ckpt.Path, options, new CudaBackend(cuda.DeviceOrSkip(), new CudaBackendOptions()), "cuda");
}
