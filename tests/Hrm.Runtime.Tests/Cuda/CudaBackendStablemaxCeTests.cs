using Hrm.Runtime.Loss;
using Hrm.Runtime.Tests.Kernels;

namespace Hrm.Runtime.Tests.Cuda;

/// <summary>CudaBackend.StablemaxCe (stablemax_ce.cu) vs CpuBackend on random inputs (GPU only).</summary>
[Collection("Cuda")]
public sealed class CudaBackendStablemaxCeTests(CudaFixture cuda, ITestOutputHelper output)
{
    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData(LossType.StablemaxCrossEntropy, true, 64, 81, 11)]
    [InlineData(LossType.SoftmaxCrossEntropy, false, 7, 300, 12)] // L > block: threads stride over positions
    public void Loss_rows_and_gradients_match_the_cpu(LossType type, bool training, int b, int l, int v)
    {
        using var p = new BackendPair(cuda.BackendOrSkip(), output);
        StablemaxCeTests.Inputs x = StablemaxCeTests.Inputs.Make(31, b, l, v);
        StablemaxCeTests.Outputs c = StablemaxCeTests.Run(p.Cpu, x, type, training, 2 * b);
        StablemaxCeTests.Outputs g = StablemaxCeTests.Run(p.Gpu, x, type, training, 2 * b);
        Assert.Equal(c.RowStats, g.RowStats); // n, correct (argmax over the same floats), seq_correct
        for (int i = 0; i < c.RowLoss.Length; i++)
        {
            // Per-row sums in a tree order instead of sequentially: ~1e-16 relative.
            Assert.True(Math.Abs(c.RowLoss[i] - g.RowLoss[i]) <= 1e-12 * Math.Max(1, Math.Abs(c.RowLoss[i])),
                $"rowLoss[{i}]: cpu {c.RowLoss[i]:R}, cuda {g.RowLoss[i]:R}");
        }
        // Gradients are computed per element in double and rounded once: equal up to libm's last bits.
        for (int i = 0; i < c.DLogits.Length; i++)
        {
            Assert.True(Math.Abs(c.DLogits[i] - g.DLogits[i]) <= 1e-6f * Math.Abs(c.DLogits[i]) + 1e-12f,
                $"dlogits[{i}]: cpu {c.DLogits[i]:G9}, cuda {g.DLogits[i]:G9}");
        }
        Assert.Equal(c.Dq, g.Dq, (a, e) => Math.Abs(a - e) <= 1e-6f * Math.Abs(a) + 1e-12f);
        output.WriteLine($"B={b} L={l} V={v} {type}: rows, stats and gradients agree");
    }
}
