namespace Hrm.Runtime.Backends.Cpu;

/// <summary>
/// A lock-free queue of the items 0..n-1 in one 64-bit word, (back &lt;&lt; 32) | front: its owner claims from the front,
/// other threads from the back; every item is claimed exactly once.
/// </summary>
internal static unsafe class TileQueue
{
    /// <summary>A queue holding items 0..<paramref name="count"/>-1.</summary>
    public static long Create(int count) => (long)count << 32;

    /// <summary>Claims the front or the back item; -1 when the queue is empty.</summary>
    public static int Claim(long* queue, bool front)
    {
        while (true)
        {
            long v = Volatile.Read(ref *queue);
            int f = (int)v, b = (int)(v >> 32);
            if (f >= b) return -1;
            long claimed = front ? v + 1 : ((long)(b - 1) << 32) | (uint)f;
            if (Interlocked.CompareExchange(ref *queue, claimed, v) == v) return front ? f : b - 1;
        }
    }
}
