using System.Diagnostics.CodeAnalysis;
using Hrm.Runtime.Backends.Cuda.Interop;
using Hrm.Runtime.Memory;

namespace Hrm.Runtime.Backends.Cuda;

/// <summary>
/// The CUDA backend: fp32 device buffers (a <see cref="Buf"/>'s address is the device pointer), the NVRTC kernels
/// of native/kernels (compiled once per architecture through the disk cache, loaded once, functions resolved at
/// build), classic cuBLAS for the linear layers and the lm_head (cuBLASLt bf16 for the linear layers when
/// <see cref="CudaBackendOptions.Bf16Matmul"/> is set), all queued on one stream; recorded sequences replay as CUDA
/// graphs (<see cref="RunRecorded"/>). Copies to and from the host are synchronous; ops are asynchronous (call
/// <see cref="Synchronize"/> before timing). Inputs that the CPU backend validates (tokens, ids, lengths) are
/// validated on the host before a launch, so kernels never see bad input. Scratch buffers grow to the largest
/// request once and are reused. Not thread-safe: drive it from one thread at a time. Dispose frees everything
/// (graphs → buffers → modules → cuBLAS → stream → device).
/// </summary>
public sealed unsafe partial class CudaBackend : IHrmBackend
{
    private readonly CudaDevice _device;
    private readonly bool _ownsDevice;
    private readonly CudaStream _stream;
    private readonly CublasHandle _cublas;
    private readonly CudaKernels _k;
    private readonly Dictionary<nint, DeviceBuffer<byte>> _regions = [];
    private readonly IntRanges _ints = new();
    private readonly DeviceScratch<ushort> _qkvh, _doh;          // attention kernel2 packs (bf16)
    private readonly DeviceScratch<float> _dd, _partial, _full, _tmp;
    private readonly bool _syncEach;
    private int _tokPartialSmem = 48 * 1024;
    private bool _disposed;

    private CudaBackend(CudaDevice device, bool ownsDevice, CudaBackendOptions options)
    {
        _device = device;
        _ownsDevice = ownsDevice;
        Options = options;
        _syncEach = options.SynchronizeEachOp;
        if (ArchitectureProblem(device.ComputeCapability, device.ToString()) is string problem)
            throw new CudaUnavailableException(problem);
        device.MakeCurrent();
        string cacheDir = options.KernelCacheDirectory ?? KernelCache.DefaultDirectory();
        KernelCompiler compiler = KernelCompiler.Create(new KernelCache(cacheDir));
        NvrtcVersion = compiler.NvrtcVersion;
        Cuda.KernelTarget target = Cuda.KernelTarget.ForDevice(device.ComputeCapability, compiler.SupportedArchs)
            ?? throw new CudaUnavailableException($"NVRTC {compiler.NvrtcVersion} cannot compile for " +
                $"sm_{device.ComputeCapability} (supported: {string.Join(", ", compiler.SupportedArchs)})");
        KernelArch = target.ToString();
        _stream = CudaStream.Create(device.Context);
        try
        {
            _cublas = CublasHandle.Create(device.Context);
            _cublas.SetStream(_stream);
            _k = new CudaKernels(device, compiler, target);
            _opA = new DeviceScratch<ushort>(device.Context);
            _opB = new DeviceScratch<ushort>(device.Context);
            CreateBf16Matmul();
        }
        catch
        {
            _opA?.Dispose();
            _opB?.Dispose();
            _ltWorkspace?.Dispose();
            _lt?.Dispose();
            _k?.Dispose();
            _cublas?.Dispose();
            _stream.Dispose();
            throw;
        }
        _qkvh = new DeviceScratch<ushort>(device.Context);
        _doh = new DeviceScratch<ushort>(device.Context);
        _dd = new DeviceScratch<float>(device.Context);
        _partial = new DeviceScratch<float>(device.Context);
        _full = new DeviceScratch<float>(device.Context);
        _tmp = new DeviceScratch<float>(device.Context);
        _graphs = new RecordedSequences<CudaGraphExec>(Capture, Replay, () => MemoryEpoch);
        ConfigureSharedMemory();
    }

    /// <summary>
    /// A backend on <paramref name="device"/>, which the caller keeps owning (dispose it after the backend).
    /// Compiles the kernels (or reads them from the cache) and creates the stream and the cuBLAS handle.
    /// </summary>
    /// <exception cref="CudaUnavailableException">The GPU is older than <see cref="MinimumComputeCapability"/>.
    /// </exception>
    /// <exception cref="CudaLibraryNotFoundException">NVRTC or cuBLAS is not installed.</exception>
    /// <exception cref="CudaException">A CUDA call or a kernel compile failed.</exception>
    public CudaBackend(CudaDevice device, CudaBackendOptions? options = null)
        : this(device ?? throw new ArgumentNullException(nameof(device)), false, options ?? new CudaBackendOptions())
    {
    }

    /// <summary>Opens GPU <see cref="CudaBackendOptions.DeviceOrdinal"/> and builds a backend that owns it.</summary>
    /// <exception cref="CudaUnavailableException">No usable device, driver, NVRTC or cuBLAS; the reason says which.
    /// </exception>
    public static CudaBackend Create(CudaBackendOptions? options = null) =>
        TryCreate(options, out CudaBackend? backend, out string reason, out Exception? error)
            ? backend
            : throw new CudaUnavailableException(reason, error!);

    /// <summary>As <see cref="Create"/>, but false with the reason instead of an exception.</summary>
    public static bool TryCreate(CudaBackendOptions? options, [NotNullWhen(true)] out CudaBackend? backend,
        out string reason) => TryCreate(options, out backend, out reason, out _);

    /// <summary>The options this backend was built with.</summary>
    public CudaBackendOptions Options { get; }

    /// <summary>The device, e.g. <c>NVIDIA H200 (sm_90, 132 SMs, 139.8 GiB, driver 12.4)</c>.</summary>
    public string DeviceDescription => _device.ToString();

    /// <summary>Device memory free now, in bytes (what this backend and other processes hold is not).</summary>
    public long FreeMemoryBytes
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _device.FreeMemoryBytes();
        }
    }

    /// <summary>The NVRTC version the kernels were compiled with.</summary>
    public string NvrtcVersion { get; }

    /// <summary>What the kernels were compiled for: <c>sm_90</c>, or <c>compute_XX</c> PTX JIT-compiled by the driver.</summary>
    public string KernelArch { get; }

    /// <inheritdoc/>
    public string Name => "cuda";

    /// <summary>The stream every op is queued on (for CUDA-event timing in benchmarks and tests).</summary>
    internal CudaStream Stream => _stream;

    /// <summary>The device the backend runs on.</summary>
    internal CudaDevice Device => _device;

    /// <inheritdoc/>
    public int ElementSize => sizeof(float);

    /// <inheritdoc/>
    public long AllocatedBytes { get; private set; }

    /// <summary>
    /// Device-to-host copies so far (each waits for the stream): Download, DownloadInts and the int-range checks that
    /// had to look at device values. The training step is meant to make none between logging intervals.
    /// </summary>
    public long HostReads { get; private set; }

    /// <summary>
    /// Work queued on the stream so far: kernel launches, cuBLAS and cuBLASLt GEMMs (a GEMM may run as more than one
    /// kernel), copies not counted. What a graph replays is counted when it is captured, not per replay.
    /// </summary>
    public long Launches { get; private set; }

    /// <summary>Bytes of the kernels' scratch buffers (grown to the largest request, then reused).</summary>
    public long ScratchBytes => _qkvh.Bytes + _doh.Bytes + _dd.Bytes + _partial.Bytes + _full.Bytes + _tmp.Bytes +
        (_fused?.Bytes ?? 0) + Bf16MatmulBytes;

    /// <inheritdoc/>
    public bool SupportsOp(HrmOp op) => true;

    /// <inheritdoc/>
    /// <remarks>True: with bf16 attention and T &lt;= 128 <see cref="RopeAttentionForward"/> is one kernel (RoPE, the
    /// pack and the attention); otherwise it launches what <see cref="MatmulRopeForward"/> then
    /// <see cref="AttentionForward"/> would.</remarks>
    public bool PrefersRopeInAttention => true;

    /// <inheritdoc/>
    /// <remarks>
    /// Sizes every kernel scratch buffer for these shapes now: the attention packs (3·B·T·C bf16) and, when training,
    /// the backward's dot products (B·NH·T), packed output gradient (B·T·C bf16), padded lm_head gradient (B·T·V) and
    /// token-table partials (min(128, B·L)·V·C); with bf16 GEMMs the two operand buffers (B·T·max(C, I), and
    /// B·T·max(3C, 2I) for the backward's output gradients) and the bf16 copy of every weight.
    /// </remarks>
    public void ReserveScratch(in ScratchShapes shapes, ReadOnlySpan<Buf> weights)
    {
        Enter();
        long bt = (long)shapes.Batch * shapes.T;
        bool bf16Attention = UsesBf16Attention(shapes.HS);
        if (bf16Attention) _qkvh.Ensure(3 * bt * shapes.NH * 64, _stream);
        if (shapes.Training)
        {
            _dd.Ensure(bt * shapes.NH, _stream);
            if (bf16Attention) _doh.Ensure(bt * shapes.C, _stream);
            _full.Ensure(bt * shapes.V, _stream);
            _partial.Ensure(Math.Min(128, (long)shapes.Batch * shapes.L) * shapes.V * shapes.C, _stream);
        }
        if (!Options.Bf16Matmul) return;
        if (FusesModule(shapes.Batch, shapes.T, shapes.NH, shapes.HS, shapes.Inter))
            FusedScratch(shapes.Batch, shapes.T, shapes.NH, shapes.Inter);
        long inputs = Math.Max(shapes.C, shapes.Inter), outputs = Math.Max(3L * shapes.C, 2L * shapes.Inter);
        _opA.Ensure(bt * (shapes.Training ? Math.Max(inputs, outputs) : inputs), _stream);
        if (shapes.Training) _opB.Ensure(bt * inputs, _stream);
        foreach (Buf w in weights) WeightBitsOf(Floats(w));
    }

    /// <summary>Waits until every queued op has finished (and surfaces any asynchronous kernel error).</summary>
    public void Synchronize()
    {
        Enter();
        _stream.Synchronize();
    }

    /// <inheritdoc/>
    public Buf Allocate(long elements, string name) => Region(elements, sizeof(float), name);

    /// <inheritdoc/>
    public Buf AllocateInts(long count, string name)
    {
        Buf b = Region(count, sizeof(int), name);
        _ints.Record(b.Address, count, 0, 0);
        return b;
    }

    /// <inheritdoc/>
    public void Free(Buf region)
    {
        Enter();
        if (!_regions.Remove(region.Address, out DeviceBuffer<byte>? buffer))
            throw new ArgumentException("not a region allocated by this backend (or already freed)", nameof(region));
        _stream.Synchronize();
        AllocatedBytes -= buffer.Bytes;
        _ints.Forget(region.Address, buffer.Bytes / sizeof(int));
        ForgetWeightBits(region.Address, buffer.Bytes);
        ForgetRecordings(); // a recording may hold this address; a later region may reuse it
        buffer.Dispose();
    }

    /// <inheritdoc/>
    public void Upload(ReadOnlySpan<float> src, Buf dst)
    {
        Enter();
        Floats(dst.Expect(src.Length, nameof(dst)));
        fixed (float* p = src) CopyIn(dst, p, src.Length);
    }

    /// <inheritdoc/>
    public void Download(Buf src, Span<float> dst)
    {
        Enter();
        Floats(src.Expect(dst.Length, nameof(src)));
        fixed (float* p = dst) CopyOut(src, p, dst.Length);
    }

    /// <inheritdoc/>
    public void UploadInts(ReadOnlySpan<int> src, Buf dst)
    {
        Enter();
        IntBuf(dst.Expect(src.Length, nameof(dst)));
        int min = 0, max = 0;
        if (!src.IsEmpty)
        {
            min = int.MaxValue;
            max = int.MinValue;
            foreach (int x in src)
            {
                min = Math.Min(min, x);
                max = Math.Max(max, x);
            }
        }
        fixed (int* p = src) CopyIn(dst, p, src.Length);
        _ints.Record(dst.Address, src.Length, min, max);
    }

    /// <inheritdoc/>
    public void DownloadInts(Buf src, Span<int> dst)
    {
        Enter();
        IntBuf(src.Expect(dst.Length, nameof(src)));
        fixed (int* p = dst) CopyOut(src, p, dst.Length);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try
        {
            _device.MakeCurrent();
            _stream.Synchronize();
        }
        catch (Exception e) when (e is CudaException or ObjectDisposedException)
        {
            // A sticky kernel error (or a device the caller disposed first: every buffer still holds the context)
            // must not keep the memory alive: free everything regardless.
        }
        DisposeRecordings();
        foreach (DeviceBuffer<byte> b in _regions.Values) b.Dispose();
        _regions.Clear();
        AllocatedBytes = 0;
        _qkvh.Dispose();
        _doh.Dispose();
        _dd.Dispose();
        _partial.Dispose();
        _full.Dispose();
        _tmp.Dispose();
        _fused?.Dispose();
        DisposeBf16Matmul();
        _k.Dispose();
        _cublas.Dispose();
        _stream.Dispose();
        if (_ownsDevice) _device.Dispose();
    }

    private static bool TryCreate(CudaBackendOptions? options, [NotNullWhen(true)] out CudaBackend? backend,
        out string reason, out Exception? error)
    {
        options ??= new CudaBackendOptions();
        backend = null;
        error = null;
        if (!CudaDevice.TryCreate(options.DeviceOrdinal, out CudaDevice? device, out reason)) return false;
        try
        {
            backend = new CudaBackend(device, ownsDevice: true, options);
            return true;
        }
        catch (Exception e) when (e is CudaException or CudaLibraryNotFoundException or CudaUnavailableException
                                      or DllNotFoundException or EntryPointNotFoundException)
        {
            device.Dispose();
            error = e;
            reason = e is CudaUnavailableException u ? u.Reason : $"{device}: {e.Message}";
            return false;
        }
    }

    private Buf Region(long elements, int elemSize, string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(elements);
        Enter();
        DeviceBuffer<byte> buffer;
        try
        {
            buffer = DeviceBuffer<byte>.Allocate(_device.Context, Math.Max(elements * elemSize, sizeof(int)));
        }
        catch (CudaException e)
        {
            throw new CudaException($"allocating '{name}' ({elements * elemSize:N0} bytes, {AllocatedBytes:N0} " +
                $"already allocated on {_device.Name}): {e.Message}", e);
        }
        _regions.Add((nint)buffer.Pointer, buffer);
        AllocatedBytes += buffer.Bytes;
        buffer.FillAsync(0, _stream);
        _stream.Synchronize();
        return new Buf((nint)buffer.Pointer, elements, elemSize);
    }

    private void CopyIn(Buf dst, void* src, long count)
    {
        if (count == 0) return;
        CudaCheck.Driver(CuDriver.cuMemcpyHtoDAsync_v2(Ptr(dst), src, (nuint)(count * dst.ElemSize), _stream.Raw));
        _stream.Synchronize();
    }

    private void CopyOut(Buf src, void* dst, long count)
    {
        if (count == 0) return;
        HostReads++;
        CudaCheck.Driver(CuDriver.cuMemcpyDtoHAsync_v2(dst, Ptr(src), (nuint)(count * src.ElemSize), _stream.Raw));
        _stream.Synchronize();
    }

    /// <summary>Makes the device's context current on the calling thread (cheap) and checks disposal.</summary>
    private void Enter()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _device.MakeCurrent();
        _ops++;
    }


    /// <summary>Allows the dynamic shared memory the fp32 attention backward needs at HS = 128 and the one-block bf16
    /// backwards (<see cref="AttentionBackward3Smem"/>) need (both above 48 KiB), where the device allows it.</summary>
    private void ConfigureSharedMemory()
    {
        int limit = _device.MaxSharedMemoryPerBlockOptIn;
        if (AttentionBackward3Smem <= limit)
        {
            _k.AttentionBackward3.Function.SetMaxDynamicSharedMemory(AttentionBackward3Smem);
            _k.AttentionBackward4.Function.SetMaxDynamicSharedMemory(AttentionBackward3Smem);
            _attentionBackward3Allowed = _attentionBackward3 = true;
        }
        int needed = AttentionF32Smem(128, backwardDkDv: true);
        if (needed <= _device.MaxSharedMemoryPerBlock || needed > limit) return;
        _k.AttentionBackwardDq1.Function.SetMaxDynamicSharedMemory(needed);
        _k.AttentionBackwardDkDv1.Function.SetMaxDynamicSharedMemory(needed);
        _k.AttentionForward1.Function.SetMaxDynamicSharedMemory(needed);
    }
}
