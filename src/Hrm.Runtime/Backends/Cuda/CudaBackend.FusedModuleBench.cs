using Hrm.Runtime.Backends.Cuda.Interop;

namespace Hrm.Runtime.Backends.Cuda;

/// <summary>
/// Benchmark hooks of the fused module kernel (<c>hrm-bench gpu</c>; CudaBackend.FusedModule.cs is the op): its grid
/// and split of K, the stage stamps, a grid barrier alone.
/// </summary>
public sealed unsafe partial class CudaBackend
{
    /// <summary>
    /// The largest grid the fused module kernel is launched with (0: the device's resident capacity, the default).
    /// Tests cap it to exercise the work distribution; every grid size computes the same, bitwise. Negative: exactly
    /// that many blocks (negated), even beyond what is resident at once (tests of the driver's refusal).
    /// </summary>
    internal int FusedModuleGridCap { get; set; }

    /// <summary>Warps per GEMM tile in the fused module kernel (1, 2 or 4, the default: each warp sums a quarter of K,
    /// which shortens the chain of dependent loads at small batches). A speed choice for benchmarks; the results differ
    /// in the fp32 summation order only.</summary>
    internal int FusedModuleSplitK { get; set; } = 4;

    /// <summary>
    /// Benchmarks: the fused kernel records the GPU's global timer (ns) from block 0 at its start, after each stage and
    /// at its end (<see cref="FusedModuleStamps"/> reads the last launch's).
    /// </summary>
    internal bool FusedModuleStamping { get; set; }

    private int _fusedStampCount;  // of the last launch that ran (0: none, or it did not stamp)

    /// <summary>The last fused launch's stamps (ns; <see cref="FusedModuleStamping"/>): start, [the input stage,] then
    /// per layer qkv, attention, o_proj, norm, gate/up, down, norm (the last layer's last at block 0's end). Waits for
    /// the device.</summary>
    internal long[] FusedModuleStamps()
    {
        Enter();
        _stream.Synchronize();
        var stamps = new long[_fusedStampCount];
        if (stamps.Length == 0 || _fused is null) return stamps;
        fixed (long* p = stamps)
            CudaCheck.Driver(CuDriver.cuMemcpyDtoH_v2(p, FusedStampsAddress, (nuint)(stamps.Length * sizeof(long))));
        return stamps;
    }

    /// <summary>The stamps' region: the scratch's second 256 bytes (FusedScratch), the same for every shape.</summary>
    private ulong FusedStampsAddress => _fused!.Ensure(0, _stream) + 256;

    /// <summary>
    /// Benchmarks: the time of one grid-wide barrier at the fused kernel's grid for (<paramref name="batch"/>,
    /// <paramref name="t"/>, ...) shapes, from <paramref name="rounds"/> barriers in one launch of
    /// <c>grid_barrier_bench_kernel1</c>, timed with CUDA events. Returns (grid, microseconds a barrier).
    /// </summary>
    internal (int Grid, double Microseconds) TimeGridBarrier(int batch, int t, int nh, int inter, int rounds)
    {
        Enter();
        FusedLayout s = FusedScratch(batch, t, nh, inter);
        int grid = FusedGrid(batch * t, nh * 64, inter, batch * nh);
        ulong bar = s.Barrier;
        void** args = stackalloc void*[] { &bar, &rounds };
        using var start = CudaEvent.Create(_device.Context);
        using var end = CudaEvent.Create(_device.Context);
        LaunchCooperative(_k.GridBarrierBench, "pi", new Dim3((uint)grid, 1, 1), FusedThreads, 0, args); // warm-up
        start.Record(_stream);
        LaunchCooperative(_k.GridBarrierBench, "pi", new Dim3((uint)grid, 1, 1), FusedThreads, 0, args);
        end.Record(_stream);
        end.Synchronize();
        return (grid, CudaEvent.ElapsedMilliseconds(start, end) * 1000.0 / Math.Max(1, rounds));
    }

    /// <summary>The device's SMs (for benchmarks that size the fused kernel's grid).</summary>
    internal int DeviceSmCount => _device.SmCount;
}
