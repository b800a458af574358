using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Hrm.Runtime.Threading;

namespace Hrm.Runtime.Backends.Cpu;

/// <summary>
/// Validation, work partitioning and scratch memory shared by the fp32 CPU ops (kept out of the
/// <see cref="CpuOps"/> partial class so its other parts can define their own helpers freely).
/// </summary>
internal static unsafe class CpuOpsSupport
{
    /// <summary>
    /// Largest scratch (in floats, 96 KiB) an op takes from the stack; bigger requests use the thread's heap scratch.
    /// </summary>
    public const int MaxStackFloats = 24 * 1024;

    [ThreadStatic]
    private static float[]? t_scratch;

    /// <summary>
    /// Throws the reference's ArgumentException unless <paramref name="s"/> has <paramref name="expected"/> elements.
    /// </summary>
    public static void Check<T>(ReadOnlySpan<T> s, long expected, string name)
    {
        if (s.Length != expected)
            throw new ArgumentException($"{name}: expected {expected} elements, got {s.Length}", name);
    }

    /// <summary>Throws unless a dimension is non-negative (raw-pointer kernels must not see negative sizes).</summary>
    public static void NonNegative(int value, [CallerArgumentExpression(nameof(value))] string? name = null)
        => ArgumentOutOfRangeException.ThrowIfNegative(value, name);

    /// <summary>
    /// Number of tasks for <paramref name="items"/> independent items of <paramref name="costPerItem"/> work units:
    /// at most one per thread, and at most one per <paramref name="minWork"/> units so tiny ops stay on the caller.
    /// </summary>
    public static int Tasks(WorkerPool pool, long items, long costPerItem, long minWork = 32 * 1024)
    {
        if (items <= 0) return 0;
        long byWork = Math.Max(1, items * Math.Max(1, costPerItem) / minWork);
        return (int)Math.Min(Math.Min(items, byWork), pool.ThreadCount);
    }

    /// <summary>
    /// The task a pool index stands for: task i runs on thread i mod T, so when T divides the task count thread t
    /// takes tasks [t·n/T, (t+1)·n/T), a contiguous share (for row-ordered tasks, the rows the GEMMs' tiles and the
    /// row-parallel ops give that thread too, so most of what it reads was written by its own core).
    /// </summary>
    public static int ThreadMajor(int index, int tasks, int threads) =>
        tasks % threads == 0 ? index % threads * (tasks / threads) + index / threads : index;

    /// <summary>
    /// Start of part <paramref name="index"/> when <paramref name="total"/> items are split in
    /// <paramref name="parts"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long Split(long total, int parts, int index) => total * index / parts;

    /// <summary><paramref name="p"/> rounded up to a 64-byte boundary (a cache line; allocate 16 floats more).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float* Align64(float* p) => (float*)(((nint)p + 63) & ~(nint)63);

    /// <summary>
    /// Scratch of at least <paramref name="floats"/> floats owned by the calling thread, on the pinned heap so its
    /// address is stable. It grows (allocates) only when a larger size is first needed on that thread.
    /// </summary>
    public static float* HeapScratch(int floats)
    {
        float[]? s = t_scratch;
        if (s == null || s.Length < floats)
        {
            s = GC.AllocateUninitializedArray<float>(Math.Max(floats, 1024), pinned: true);
            t_scratch = s;
        }
        return (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(s));
    }
}
