using Hrm.Runtime.Config;
using Hrm.Runtime.Solver;
using Hrm.Runtime.Tests.Model;

namespace Hrm.Runtime.Tests.Solver;

/// <summary>Many callers at once, cancellation, disposal and input errors.</summary>
public sealed class SolverConcurrencyTests : IDisposable
{
    private readonly TinyCheckpoint _ckpt = new(seed: 13, TinyCheckpoint.Sudoku4() with { HaltMaxSteps = 8 });

    public void Dispose() => _ckpt.Dispose();

    [Fact]
    public void Eight_threads_of_200_solves_equal_the_sequential_results()
    {
        HrmConfig c = _ckpt.Config;
        const int distinct = 24, threads = 8, solvesPerThread = 200;
        int l = c.SeqLen;
        (int[] tokens, int[] ids) = ModelFixtures.Inputs(c, distinct, seed: 77);
        var options = new SolverOptions
        {
            Device = SolverDevice.Cpu, Threads = 2, Halting = HaltingMode.Adaptive, MinSteps = 2, BatchSlots = 6,
        };
        using HrmSolver solver = HrmSolver.Load(_ckpt.Path, options);
        TokenPrediction[] sequential = new TokenPrediction[distinct];
        for (int r = 0; r < distinct; r++) sequential[r] = solver.Predict(tokens.AsSpan(r * l, l), ids.AsSpan(r, 1))[0];
        Assert.True(sequential.Select(p => p.Segments).Distinct().Count() >= 2);

        var got = new TokenPrediction[threads, solvesPerThread];
        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int thread = t;
            workers[t] = new Thread(() =>
            {
                for (int k = 0; k < solvesPerThread; k++)
                {
                    int r = (thread * 7 + k * 5) % distinct;
                    got[thread, k] = solver.Predict(tokens.AsSpan(r * l, l), ids.AsSpan(r, 1))[0];
                }
            });
            workers[t].Start();
        }
        foreach (Thread w in workers) w.Join();
        for (int t = 0; t < threads; t++)
        {
            for (int k = 0; k < solvesPerThread; k++)
                SolverEquivalenceTests.AssertSame(sequential[(t * 7 + k * 5) % distinct], got[t, k]);
        }
    }

    [Fact]
    public async Task Cancelling_drops_the_rows_and_the_solver_keeps_working()
    {
        (int[] tokens, int[] ids) = ModelFixtures.Inputs(_ckpt.Config, 4, seed: 8);
        var options = new SolverOptions { Device = SolverDevice.Cpu, Threads = 2, MaxSteps = 50_000_000, BatchSlots = 2 };
        using HrmSolver solver = HrmSolver.Load(_ckpt.Path, options);
        using var cts = new CancellationTokenSource();
        Task<TokenPrediction[]> endless = solver.PredictAsync(tokens, ids, cts.Token);
        using var already = new CancellationTokenSource();
        await already.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => solver.PredictAsync(tokens, ids, already.Token));
        await Task.Delay(50, TestContext.Current.CancellationToken);
        Assert.False(endless.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => endless);
        Assert.True(endless.IsCanceled);

        // The cancelled rows left both slots: a short job (its own policy) is admitted and finishes, with the
        // answer a fresh solver gives.
        int l = _ckpt.Config.SeqLen;
        TokenPrediction[] after = await solver.PredictAsync(tokens.AsSpan(0, l), ids.AsSpan(0, 1),
            new HaltingPolicy(HaltingMode.Fixed, 2), TestContext.Current.CancellationToken);
        using HrmSolver fresh = HrmSolver.Load(_ckpt.Path, options with { MaxSteps = 2 });
        SolverEquivalenceTests.AssertSame(fresh.Predict(tokens.AsSpan(0, l), ids.AsSpan(0, 1))[0], after[0]);
    }

    [Fact]
    public async Task Disposing_fails_waiting_calls_and_rejects_new_ones()
    {
        (int[] tokens, int[] ids) = ModelFixtures.Inputs(_ckpt.Config, 3, seed: 9);
        HrmSolver solver = HrmSolver.Load(_ckpt.Path,
            new SolverOptions { Device = SolverDevice.Cpu, Threads = 2, MaxSteps = 50_000_000, BatchSlots = 1 });
        Task<TokenPrediction[]> pending = solver.PredictAsync(tokens, ids, TestContext.Current.CancellationToken);
        solver.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => pending);
        Assert.Throws<ObjectDisposedException>(() => solver.Predict(tokens, ids));
        solver.Dispose();
    }

    [Fact]
    public void Bad_rows_are_rejected_before_queueing_with_row_and_position()
    {
        using HrmSolver solver = HrmSolver.Load(_ckpt.Path, new SolverOptions { Device = SolverDevice.Cpu, Threads = 2 });
        int l = _ckpt.Config.SeqLen;
        int[] tokens = new int[2 * l];
        tokens[l + 3] = 99;
        string m = Assert.Throws<ArgumentOutOfRangeException>(() => solver.Predict(tokens, [0, 0])).Message;
        Assert.Contains("token 99 at row 1, position 3", m, StringComparison.Ordinal);
        m = Assert.Throws<ArgumentOutOfRangeException>(() => solver.Predict(new int[l], [7])).Message;
        Assert.Contains("puzzle identifier 7 at row 0", m, StringComparison.Ordinal);
        m = Assert.Throws<ArgumentException>(() => solver.Predict(new int[l + 1], [0])).Message;
        Assert.Contains($"need 1·{l} = {l} tokens", m, StringComparison.Ordinal);
        Assert.Empty(solver.Predict([], []));
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            HrmSolver.Load(_ckpt.Path, new SolverOptions { Halting = HaltingMode.Adaptive, MinSteps = 9 }));
    }
}
