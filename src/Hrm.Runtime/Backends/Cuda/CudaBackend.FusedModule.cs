using Hrm.Runtime.Backends.Cuda.Interop;
using Hrm.Runtime.Memory;

namespace Hrm.Runtime.Backends.Cuda;

/// <summary>
/// A whole module call that nobody differentiates in one persistent kernel (<c>module_forward_fused_kernel1</c>,
/// native/kernels/module_fused.cu): the blocks of the grid share each stage's work and meet at grid-wide barriers,
/// instead of ~8 launches per transformer block. For small batches, where the unfused ops are launch- and
/// latency-bound (the batch-1 solve: ~3,250 launches for 16 segments). Opt-in:
/// <see cref="CudaBackendOptions.FusedModuleMaxRows"/>. Benchmark hooks: CudaBackend.FusedModuleBench.cs.
/// </summary>
public sealed unsafe partial class CudaBackend
{
    /// <summary>Layers per launch (the kernel takes 16 weight pointers); a deeper module is several launches.</summary>
    private const int FusedLayersPerLaunch = 4;

    /// <summary>The kernel's block: 4 warps (attention_forward_rope's 128 threads).</summary>
    private const int FusedThreads = 128;

    /// <summary>Its dynamic shared memory: the attention's tile (2 stages of K and V, 64 rows of 72 bf16 each).
    /// </summary>
    private const int FusedSmem = 2 * 2 * 64 * 72 * 2;

    private DeviceScratch<byte>? _fused;   // the kernel's scratch, then its barrier (see FusedLayout)
    private int _fusedBlocksPerSm = -1;

    /// <summary>
    /// Why this backend gave up the fused module kernel (the driver refused its cooperative launch, e.g. where other
    /// work holds SMs or MPS limits them), or null. Module calls then run op by op, as without
    /// <see cref="CudaBackendOptions.FusedModuleMaxRows"/>.
    /// </summary>
    public string? FusedModuleRefusal { get; private set; }

    /// <summary>How many fused module calls ran (each one or more launches).</summary>
    public long FusedModuleCalls { get; private set; }

    /// <summary>
    /// True when <see cref="TryFusedModuleForward"/> runs a module call at these shapes: a device that takes
    /// cooperative launches (and has not refused one: <see cref="FusedModuleRefusal"/>), bf16 GEMMs with bf16
    /// intermediates, bf16 attention at head size 64, 1 ≤ T ≤ 128, I a multiple of 32, and B·T within
    /// <see cref="CudaBackendOptions.FusedModuleMaxRows"/>.
    /// </summary>
    public bool FusesModule(int batch, int t, int nh, int hs, int inter) =>
        Options.FusedModuleMaxRows > 0 && _device.CooperativeLaunch && FusedModuleRefusal is null &&
        Bf16Intermediates && UsesBf16Attention(hs) && hs == 64 && t >= 1 && t <= 128 && batch >= 1 && nh >= 1 &&
        inter >= 32 && inter % 32 == 0 && (long)batch * t <= Options.FusedModuleMaxRows;

    /// <inheritdoc/>
    /// <remarks>Where <see cref="FusesModule"/> holds; one launch per 4 layers.</remarks>
    public bool TryFusedModuleForward(Buf z, Buf inj, ReadOnlySpan<Buf> weights, Buf cos, Buf sin, int batch, int t,
        int nh, int hs, int inter, float eps)
    {
        if (!FusesModule(batch, t, nh, hs, inter) || weights.Length == 0) return false;
        Enter();
        int layers = weights.Length / 4, m = batch * t, c = nh * 64;
        if (weights.Length % 4 != 0)
            throw new ArgumentException($"weights: 4 per layer (qkv, o, gate_up, down), got {weights.Length}",
                nameof(weights));
        Need(z, (long)m * c, nameof(z));
        NeedBf16Ok(inj, (long)m * c, nameof(inj));
        if (!cos.IsEmpty || !sin.IsEmpty)
        {
            Need(cos, (long)t * 64, nameof(cos));
            Need(sin, (long)t * 64, nameof(sin));
            Aligned(cos, 16, nameof(cos));
            Aligned(sin, 16, nameof(sin));
        }
        for (int i = 0; i < weights.Length; i++)
        {
            long expected = (i % 4) switch
            {
                0 => 3L * c * c, 1 => (long)c * c, 2 => 2L * inter * c, _ => (long)c * inter,
            };
            if (weights[i].ElemSize != sizeof(float) || weights[i].Length != expected)
                throw new ArgumentException($"weights[{i}] ({FusedWeightNames[i % 4]}): expected {expected} floats, " +
                    $"got {weights[i].Length} of {weights[i].ElemSize} bytes", nameof(weights));
        }
        FusedLayout s = FusedScratch(batch, t, nh, inter);
        int grid = FusedGrid(m, c, inter, batch * nh);
        for (int l0 = 0; l0 < layers; l0 += FusedLayersPerLaunch)
        {
            int n = Math.Min(FusedLayersPerLaunch, layers - l0);
            int flags = (l0 == 0 ? 1 : 0) | (l0 + n == layers ? 2 : 0) | (IsBf16(inj) ? 4 : 0);
            if (!LaunchFused(s, z, inj, weights.Slice(4 * l0, 4 * n), cos, sin, grid, batch, t, nh, inter, flags, eps))
                return false; // refused at the first launch (l0 = 0 then): nothing ran, the caller runs the ops
        }
        FusedModuleCalls++;
        Done();
        return true;
    }

    private static readonly string[] FusedWeightNames = ["qkv (3C, C)", "o (C, C)", "gate_up (2I, C)", "down (C, I)"];

    /// <summary>
    /// One launch over <paramref name="w"/> (4 per layer, at most 4 layers); false when the driver refuses the
    /// cooperative launch (too many blocks for what is free, out of resources, not supported), which then sets
    /// <see cref="FusedModuleRefusal"/> (later calls run the ops).
    /// </summary>
    private bool LaunchFused(in FusedLayout s, Buf z, Buf inj, ReadOnlySpan<Buf> w, Buf cos, Buf sin, int grid,
        int batch, int t, int nh, int inter, int flags, float eps)
    {
        ulong* wp = stackalloc ulong[16];
        for (int i = 0; i < 16; i++) wp[i] = i < w.Length ? WeightBf16(w[i]) : 0;
        ulong pz = Ptr(z), pi = Ptr(inj), pc = Ptr(cos), ps = Ptr(sin);
        ulong px = s.X, ph = s.H1, pb = s.Opb, pq = s.Qkv, pa = s.Att, pp = s.Prod, pact = s.Act, pl = s.Lse;
        ulong pr = s.Rstd, pbar = s.Barrier, pst = FusedModuleStamping ? s.Stamps : 0;
        int layers = w.Length / 4, ksplit = FusedModuleSplitK;
        void** args = stackalloc void*[]
        {
            &pz, &pi, &px, &ph, &pb, &pq, &pa, &pp, &pact, &pl, &pr, &pc, &ps, &pbar, &pst,
            &wp[0], &wp[1], &wp[2], &wp[3], &wp[4], &wp[5], &wp[6], &wp[7],
            &wp[8], &wp[9], &wp[10], &wp[11], &wp[12], &wp[13], &wp[14], &wp[15],
            &batch, &t, &nh, &inter, &layers, &flags, &ksplit, &eps,
        };
        try
        {
            LaunchCooperative(_k.ModuleForwardFused, CudaKernels.FusedModuleSignature, new Dim3((uint)grid, 1, 1),
                FusedThreads, FusedSmem, args);
        }
        catch (CudaException e) when (e.Kind == CudaErrorKind.Driver && (CuResult)e.Code is
            CuResult.CooperativeLaunchTooLarge or CuResult.LaunchOutOfResources or CuResult.NotSupported)
        {
            FusedModuleRefusal = $"{e.Call} of module_forward_fused_kernel1 with {grid} blocks: {e.ErrorName} " +
                $"({e.ErrorText}); module calls run op by op from now on";
            return false;
        }
        _fusedStampCount = FusedModuleStamping ? 7 * layers + 1 + (flags & 1) : 0;
        return true;
    }


    /// <summary>
    /// Blocks per launch: every block must be resident at once (grid_barrier waits for all; the launch is cooperative,
    /// so the driver refuses a grid that would not be), so at most the occupancy calculator's blocks per SM times the
    /// SMs; and no more than the widest stage has work for (GEMM tiles of 16 x 32 by FusedModuleSplitK warps of 4 a
    /// block, one block per attention head, a warp per norm row).
    /// </summary>
    private int FusedGrid(int m, int c, int inter, int heads)
    {
        if (_fusedBlocksPerSm < 1)
            throw new CudaUnavailableException("module_forward_fused_kernel1 cannot be resident on this device " +
                $"(occupancy calculator: 0 blocks of {FusedThreads} threads and {FusedSmem} bytes of shared memory " +
                "per SM)");
        long mt = (m + 15) / 16, warps = Math.Max(mt * Math.Max(3L * c, inter) / 32 * FusedModuleSplitK, m);
        long useful = Math.Max((warps + 3) / 4, heads);
        long grid = Math.Min((long)_fusedBlocksPerSm * _device.SmCount, useful);
        if (FusedModuleGridCap > 0) grid = Math.Min(grid, FusedModuleGridCap);
        if (FusedModuleGridCap < 0) grid = -(long)FusedModuleGridCap;
        return (int)Math.Max(1, grid);
    }

    /// <summary>
    /// The kernel's buffers for these shapes, carved from one scratch (grown, never shrunk). The barrier's two words
    /// and the stamps come first, at the same place for every shape, and the barrier is zeroed when the scratch is
    /// allocated: every launch leaves it at zero (its count), so a later launch at other shapes finds it so.
    /// </summary>
    private FusedLayout FusedScratch(int batch, int t, int nh, int inter)
    {
        long m = (long)batch * t, c = nh * 64L;
        Span<long> bytes = [8, 64 * 8, m * c * 4, m * c * 4, m * c * 2, 3 * m * c * 2, m * c * 2, m * c * 2,
            m * inter * 2, (long)batch * nh * t * 4, m * 4];
        long total = 0;
        foreach (long b in bytes) total += (b + 255) & ~255L;
        _fused ??= new DeviceScratch<byte>(_device.Context);
        bool fresh = _fused.Elements < total;
        ulong p = _fused.Ensure(total, _stream);
        if (fresh) CudaCheck.Driver(CuDriver.cuMemsetD32Async(p, 0, 2, _stream.Raw));
        if (_fusedBlocksPerSm < 0)
            _fusedBlocksPerSm = _k.ModuleForwardFused.Function.MaxActiveBlocksPerSm(FusedThreads, FusedSmem);
        Span<ulong> at = stackalloc ulong[bytes.Length];
        for (int i = 0; i < bytes.Length; i++)
        {
            at[i] = p;
            p += (ulong)((bytes[i] + 255) & ~255L);
        }
        return new FusedLayout(at[2], at[3], at[4], at[5], at[6], at[7], at[8], at[9], at[10], at[0], at[1]);
    }

    /// <summary>Device pointers of the fused kernel's scratch: the shapes in module_fused.cu.</summary>
    private readonly record struct FusedLayout(ulong X, ulong H1, ulong Opb, ulong Qkv, ulong Att, ulong Prod,
        ulong Act, ulong Lse, ulong Rstd, ulong Barrier, ulong Stamps);
}
