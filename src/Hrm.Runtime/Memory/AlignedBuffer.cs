using System.Runtime.InteropServices;

namespace Hrm.Runtime.Memory;

/// <summary>
/// One 64-byte-aligned, zeroed native allocation (AVX-512 loads want 64-byte alignment, which managed arrays
/// and CommunityToolkit's pooled MemoryOwner cannot promise). Disposal is idempotent; the finalizer frees.
/// </summary>
public sealed unsafe class AlignedBuffer : IDisposable
{
    /// <summary>Alignment in bytes of every allocation.</summary>
    public const int Alignment = 64;

    private void* _ptr;

    /// <summary>Allocates <paramref name="bytes"/> zeroed bytes.</summary>
    public AlignedBuffer(long bytes, string name)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        // More than the machine (or the container) holds would not fail here on Linux, which promises memory it may
        // not have: zeroing it would end in the kernel's out-of-memory kill instead of this message.
        long total = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (total > 0 && bytes > total)
        {
            throw new InsufficientMemoryException($"{bytes / (1024.0 * 1024.0):F1} MiB for '{name}' is more than " +
                $"the {total / (1024.0 * 1024.0):F1} MiB of memory this process may use");
        }
        Name = name;
        Bytes = bytes;
        nuint size = (nuint)Math.Max(bytes, Alignment);
        try
        {
            _ptr = NativeMemory.AlignedAlloc(size, Alignment);
        }
        catch (OutOfMemoryException e)
        {
            throw new InsufficientMemoryException($"could not allocate {bytes / (1024.0 * 1024.0):F1} MiB for '{name}'", e);
        }
        NativeMemory.Clear(_ptr, size);
        GC.AddMemoryPressure(bytes);
    }

    /// <summary>What the memory holds (for plans and messages).</summary>
    public string Name { get; }

    /// <summary>Size in bytes.</summary>
    public long Bytes { get; }

    /// <summary>Start address.</summary>
    public nint Address => _ptr == null ? throw new ObjectDisposedException(Name) : (nint)_ptr;

    /// <summary>A view over the whole allocation with elements of <paramref name="elemSize"/> bytes.</summary>
    public Buf AsBuf(int elemSize) => new(Address, Bytes / elemSize, elemSize);

    /// <inheritdoc/>
    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the memory if the owner forgot to.</summary>
    ~AlignedBuffer() => Free();

    private void Free()
    {
        void* p = _ptr;
        _ptr = null;
        if (p != null)
        {
            NativeMemory.AlignedFree(p);
            GC.RemoveMemoryPressure(Bytes);
        }
    }
}
