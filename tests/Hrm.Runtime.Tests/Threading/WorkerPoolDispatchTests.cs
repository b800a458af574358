using System.Runtime.InteropServices;
using Hrm.Runtime.Threading;

namespace Hrm.Runtime.Tests.Threading;

/// <summary>Regression tests for WorkerPool dispatch: every task of every job runs exactly once.</summary>
public sealed unsafe class WorkerPoolDispatchTests
{
    private struct CountJob : IParallelJob
    {
        public int* Counts;

        public readonly void Execute(int index) => Counts[index]++;
    }

    /// <summary>A pool takes 1 to <see cref="WorkerPool.MaxThreads"/> threads; 100,000 used to start that many OS
    /// threads, and the runtime aborted ("Out of memory") before any error could be reported.</summary>
    [Fact]
    public void Thread_counts_outside_the_limit_throw_before_starting_threads()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerPool(WorkerPool.MaxThreads + 1));
        Assert.InRange(WorkerPool.DefaultThreads, 1, WorkerPool.MaxThreads);
    }

    [Theory]
    [InlineData(2, 7)]
    [InlineData(3, 8)]
    [InlineData(4, 3)]
    public void Each_task_runs_exactly_once_per_job(int threads, int tasks)
    {
        const int jobs = 3000;
        int* counts = (int*)NativeMemory.AllocZeroed((nuint)tasks, sizeof(int));
        try
        {
            using (var pool = new WorkerPool(threads))
            {
                var job = new CountJob { Counts = counts };
                for (int j = 0; j < jobs; j++) pool.Run(&job, tasks);
            }
            for (int i = 0; i < tasks; i++) Assert.Equal(jobs, counts[i]);
        }
        finally
        {
            NativeMemory.Free(counts);
        }
    }

    [Fact]
    public void Single_thread_pool_runs_inline_and_disposes()
    {
        int count = 0;
        var job = new CountJob { Counts = &count };
        var pool = new WorkerPool(1);
        pool.Run(&job, 1);
        pool.Dispose();
        Assert.Equal(1, count);
    }
}
