using System.Runtime.CompilerServices;
using Hrm.Runtime.Backends.Cuda.Interop;

namespace Hrm.Runtime.Backends.Cuda;

/// <summary>
/// A device buffer that grows to the largest request and is then reused: kernels' scratch (attention packs,
/// token-gradient partials, padded logits). Growing waits for the stream first, so no queued kernel still uses the
/// old memory; after warm-up, <see cref="Ensure"/> never allocates.
/// </summary>
internal sealed class DeviceScratch<T> : IDisposable where T : unmanaged
{
    private readonly CudaPrimaryContext _context;
    private DeviceBuffer<T>? _buffer;

    public DeviceScratch(CudaPrimaryContext context) => _context = context;

    /// <summary>Current capacity in bytes.</summary>
    public long Bytes => _buffer?.Bytes ?? 0;

    /// <summary>Current capacity in elements.</summary>
    public long Elements => _buffer?.Length ?? 0;

    /// <summary>How many times the buffer was (re)allocated: its address may change each time.</summary>
    public int Allocations { get; private set; }

    /// <summary>A device pointer to at least <paramref name="elements"/> elements.</summary>
    /// <exception cref="ScratchGrowthException">The buffer must grow while <paramref name="stream"/> is capturing.
    /// </exception>
    public ulong Ensure(long elements, CudaStream stream)
    {
        if (_buffer is null || _buffer.Length < elements)
        {
            if (stream.Capturing) throw new ScratchGrowthException(elements * Unsafe.SizeOf<T>());
            Allocations++;
            if (_buffer is not null)
            {
                stream.Synchronize();
                _buffer.Dispose();
                _buffer = null;
            }
            _buffer = DeviceBuffer<T>.Allocate(_context, Math.Max(elements, 1));
        }
        return _buffer.Pointer;
    }

    public void Dispose()
    {
        _buffer?.Dispose();
        _buffer = null;
    }
}

/// <summary>A scratch buffer had to grow during a stream capture (which can neither wait nor allocate).</summary>
internal sealed class ScratchGrowthException(long bytes)
    : InvalidOperationException($"a scratch buffer must grow to {bytes} bytes during a stream capture");
