using Hrm.Runtime.Backends.Cpu;

namespace Hrm.Runtime.Tests.Threading;

public sealed unsafe class TileQueueTests
{
    [Fact]
    public void OwnerAndThieves_ClaimEveryItemExactlyOnce()
    {
        const int items = 200_000, threads = 4;
        var owner = new int[items];
        long* queue = stackalloc long[1];
        *queue = TileQueue.Create(items);
        long* q = queue;
        using var start = new ManualResetEventSlim(false);
        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int id = t;
            workers[t] = new Thread(() =>
            {
                start.Wait();
                int item;
                // Thread 0 owns the queue (front); the others take from the back at the same time.
                while ((item = TileQueue.Claim(q, front: id == 0)) >= 0) Interlocked.Increment(ref owner[item]);
            });
            workers[t].Start();
        }
        start.Set();
        foreach (Thread w in workers) w.Join();
        Assert.All(owner, n => Assert.Equal(1, n));
        Assert.Equal(-1, TileQueue.Claim(queue, front: true));
        Assert.Equal(-1, TileQueue.Claim(queue, front: false));
    }

    [Fact]
    public void Front_and_back_meet_in_order()
    {
        long queue = TileQueue.Create(3);
        Assert.Equal(0, TileQueue.Claim(&queue, front: true));
        Assert.Equal(2, TileQueue.Claim(&queue, front: false));
        Assert.Equal(1, TileQueue.Claim(&queue, front: false));
        Assert.Equal(-1, TileQueue.Claim(&queue, front: true));
    }
}
