using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Hrm.Runtime.Threading;

namespace Hrm.Runtime.Backends.Cpu;

/// <summary>
/// Packing scratch of the GEMM, one per <see cref="WorkerPool"/> (cached in a weak table keyed by the pool,
/// freed by the finalizer once the pool is gone): a per-thread region (the slot of task i is i mod
/// ThreadCount, which is the thread the pool runs it on) and a shared region (a packed operand read by all
/// tasks). Both are 64-byte-aligned native memory that only grows, so steady-state calls allocate nothing.
/// Callers hold <see cref="Gate"/> for the whole operation.
/// </summary>
internal sealed unsafe class GemmScratch
{
    private static readonly ConditionalWeakTable<WorkerPool, GemmScratch> Cache = new();

    private float* _perThread;
    private nint _perThreadFloats;
    private float* _shared;
    private nint _sharedFloats;
    private float* _sharedA;
    private nint _sharedAFloats;

    /// <summary>Serialises operations that use this scratch.</summary>
    public Lock Gate { get; } = new();

    /// <summary>The scratch of <paramref name="pool"/>, created on first use.</summary>
    public static GemmScratch For(WorkerPool pool)
    {
        if (Cache.TryGetValue(pool, out GemmScratch? s)) return s;
        return Cache.GetValue(pool, static _ => new GemmScratch());
    }

    /// <summary>
    /// At least <paramref name="floats"/> floats (a multiple of 16) for each of <paramref name="threads"/> threads.
    /// </summary>
    public float* PerThread(nint floats, int threads) => Ensure(ref _perThread, ref _perThreadFloats, floats * threads);

    /// <summary>At least <paramref name="floats"/> floats shared by all tasks.</summary>
    public float* Shared(nint floats) => Ensure(ref _shared, ref _sharedFloats, floats);

    /// <summary>A second shared region (the packed A operand, next to a packed B in <see cref="Shared"/>).</summary>
    public float* SharedA(nint floats) => Ensure(ref _sharedA, ref _sharedAFloats, floats);

    private static float* Ensure(ref float* ptr, ref nint capacity, nint floats)
    {
        if (floats <= capacity) return ptr;
        nint grown = Math.Max(floats, capacity + capacity / 2);
        NativeMemory.AlignedFree(ptr);
        ptr = null;
        capacity = 0;
        ptr = (float*)NativeMemory.AlignedAlloc((nuint)grown * sizeof(float), 64);
        capacity = grown;
        return ptr;
    }

    /// <summary>Frees the native memory.</summary>
    ~GemmScratch()
    {
        NativeMemory.AlignedFree(_perThread);
        NativeMemory.AlignedFree(_shared);
        NativeMemory.AlignedFree(_sharedA);
    }
}
