using Hrm.Runtime.Backends.Cuda;
using Hrm.Runtime.Backends.Cuda.Interop;
using Hrm.Runtime.Numerics;

namespace Hrm.Runtime.Tests.Cuda;

/// <summary>cuBLASLt bf16 × bf16 → fp32/bf16 matmul against a double-precision CPU product (GPU only).</summary>
[Collection("Cuda")]
public sealed class CublasLtMatmulTests(CudaFixture cuda, ITestOutputHelper output)
{
    [Theory]
    [Trait("Category", "Gpu")]
    [InlineData(false)]
    [InlineData(true)]
    public void Row_major_x_times_w_transposed_matches_cpu(bool bf16Output)
    {
        CudaDevice device = cuda.DeviceOrSkip();
        bool loaded = CudaLibraryResolver.TryLoad(CudaLibraryNames.CublasLt, out _, out IReadOnlyList<string> tried);
        Assert.SkipUnless(loaded, $"cuBLASLt is not installed: {string.Join("; ", tried)}");
        const int m = 37, n = 48, k = 96; // Y (M, N) = X (M, K) · Wᵀ, W (N, K), all row-major.
        var rng = new Random(1234);
        ushort[] x = [.. Enumerable.Range(0, m * k).Select(_ => BFloat16.FromFloat(rng.NextSingle() - 0.5f))];
        ushort[] w = [.. Enumerable.Range(0, n * k).Select(_ => BFloat16.FromFloat(rng.NextSingle() - 0.5f))];
        using var dx = DeviceBuffer<ushort>.Allocate(device.Context, x.Length);
        using var dw = DeviceBuffer<ushort>.Allocate(device.Context, w.Length);
        using var dy = DeviceBuffer<float>.Allocate(device.Context, m * n);
        using var workspace = DeviceBuffer<byte>.Allocate(device.Context, 4 << 20);
        dx.CopyFromHost(x);
        dw.CopyFromHost(w);
        using var stream = CudaStream.Create(device.Context);
        using var handle = CublasLtHandle.Create(device.Context);
        using var plan = new CublasLtMatmul(handle, n, m, k, transA: true, transB: false,
            bf16Output ? CudaDataType.R16BF : CudaDataType.R32F, (ulong)workspace.Bytes);
        plan.Execute(stream, dw.Pointer, dx.Pointer, dy.Pointer, 1f, 0f, workspace.Pointer, (ulong)workspace.Bytes);
        stream.Synchronize();
        float[] y = ReadBack(dy, m * n, bf16Output);
        double worst = 0;
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            double r = 0;
            for (int c = 0; c < k; c++) r += (double)BFloat16.ToFloat(x[i * k + c]) * BFloat16.ToFloat(w[j * k + c]);
            worst = Math.Max(worst, Math.Abs(y[i * n + j] - r));
        }
        output.WriteLine($"max |error| = {worst:E2} (workspace {plan.WorkspaceBytes} B)");
        Assert.True(worst < (bf16Output ? 2e-2 : 1e-4), $"max |error| {worst}");
    }

    private static float[] ReadBack(DeviceBuffer<float> dy, int count, bool bf16)
    {
        float[] raw = new float[count];
        dy.CopyToHost(raw);
        if (!bf16) return raw;
        ushort[] halves = new ushort[count * 2];
        Buffer.BlockCopy(raw, 0, halves, 0, count * 4);
        return [.. halves.Take(count).Select(BFloat16.ToFloat)];
    }
}
