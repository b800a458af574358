using Hrm.Runtime.Backends.Cuda;
using Hrm.Runtime.Config;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;
using Hrm.Runtime.Solver;
using Hrm.Runtime.Tests.Model;
using Hrm.Runtime.Tests.Solver;

namespace Hrm.Runtime.Tests.Cuda;

/// <summary>
/// <see cref="CudaBackend.RunRecorded"/> as CUDA graphs (GPU only): replay, invalidation when memory is freed, the
/// fallback when a capture is refused, and the solver and Evaluate with graphs against themselves without, bit for
/// bit (a graph launches the same kernels with the same arguments); the op timeline (<see cref="GraphOpTimeline"/>):
/// event nodes after each op, read after every replay as per-op device times, changing no result.
/// </summary>
[Collection("Cuda")]
public sealed class CudaGraphTests(CudaFixture cuda, ITestOutputHelper output) : IDisposable
{
    private readonly TinyCheckpoint _ckpt = new(seed: 13, TinyCheckpoint.Sudoku4() with { HaltMaxSteps = 5 });

    public void Dispose() => _ckpt.Dispose();

    [Trait("Category", "Gpu")]
    [Fact]
    public void A_sequence_replays_as_one_graph_and_is_recaptured_after_a_free()
    {
        using CudaBackend gpu = Backend(new CudaBackendOptions());
        const int n = 1000;
        Buf x = gpu.Allocate(n, "x"), one = gpu.Allocate(n, "one");
        gpu.Fill(one, 1f);
        Action ops = () =>
        {
            gpu.Add(x, x, one);
            gpu.Add(x, x, one);
        };
        for (int i = 0; i < 5; i++) gpu.RunRecorded(ops);
        Assert.Equal(10f, Read(gpu, x));
        Assert.Equal(1, gpu.GraphCount);
        Assert.Equal(4, gpu.GraphReplays);
        Assert.Empty(gpu.GraphFallbacks);
        gpu.Free(gpu.Allocate(16, "other")); // any free may take an address a graph holds: graphs are dropped
        Assert.Equal(0, gpu.GraphCount);
        for (int i = 0; i < 3; i++) gpu.RunRecorded(ops); // warm-up, capture + replay, replay
        Assert.Equal(16f, Read(gpu, x));
        Assert.Equal(1, gpu.GraphCount);
        Assert.Equal(6, gpu.GraphReplays);
    }

    [Trait("Category", "Gpu")]
    [Fact]
    public void A_refused_capture_falls_back_to_running_the_ops_and_says_why()
    {
        using CudaBackend gpu = Backend(new CudaBackendOptions());
        Buf x = gpu.Allocate(256, "x"), one = gpu.Allocate(256, "one");
        gpu.Fill(one, 1f);
        Action ops = () =>
        {
            gpu.Add(x, x, one);
            gpu.Synchronize(); // waiting for the stream is refused while it is captured
        };
        for (int i = 0; i < 3; i++) gpu.RunRecorded(ops);
        Assert.Equal(3f, Read(gpu, x));
        Assert.Equal(0, gpu.GraphCount);
        string reason = Assert.Single(gpu.GraphFallbacks);
        output.WriteLine(reason);
        Assert.Contains("cuStreamSynchronize", reason);
    }

    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData(HaltingMode.Fixed, 1)]
    [InlineData(HaltingMode.Adaptive, 4)]
    public void The_solver_with_graphs_equals_the_solver_without(HaltingMode halting, int slots)
    {
        cuda.BackendOrSkip();
        (int[] tokens, int[] ids) = ModelFixtures.Inputs(_ckpt.Config, 9, seed: 6);
        var options = new SolverOptions { Halting = halting, MinSteps = 2, BatchSlots = slots };
        CudaBackend graphs = Backend(new CudaBackendOptions());
        using HrmSolver withGraphs = HrmSolver.Load(_ckpt.Path, options, graphs, "cuda");
        using HrmSolver without = HrmSolver.Load(_ckpt.Path, options,
            Backend(new CudaBackendOptions { Graphs = false }), "cuda");
        TokenPrediction[] a = withGraphs.Predict(tokens, ids), b = without.Predict(tokens, ids);
        for (int r = 0; r < a.Length; r++) SolverEquivalenceTests.AssertSame(b[r], a[r]);
        output.WriteLine($"graphs alive {graphs.GraphCount}, replays {graphs.GraphReplays}");
        Assert.Empty(graphs.GraphFallbacks);
        Assert.True(graphs.GraphReplays > 0, "no segment ran as a graph");
    }

    [Trait("Category", "Gpu")]
    [Fact]
    public void Evaluate_as_one_graph_equals_evaluate_without_graphs()
    {
        cuda.BackendOrSkip();
        HrmConfig c = _ckpt.Config;
        (int[] tokens, int[] ids) = ModelFixtures.Inputs(c, 3, seed: 9);
        CudaBackend graphs = Backend(new CudaBackendOptions());
        using HrmModel a = HrmCheckpoint.Load(_ckpt.Path, graphs), b = HrmCheckpoint.Load(_ckpt.Path,
            Backend(new CudaBackendOptions { Graphs = false }));
        a.Reserve(3, training: false);
        b.Reserve(3, training: false);
        ActState expected = b.Evaluate(tokens, ids);
        var want = new float[3 * c.SeqLen * c.VocabSize];
        var got = new float[want.Length];
        b.ReadLogits(want);
        for (int call = 0; call < 3; call++) // warm-up, capture + replay, replay
        {
            ActState s = a.Evaluate(tokens, ids);
            a.ReadLogits(got);
            Assert.Equal(want, got);
            Assert.Equal(expected.QHalt, s.QHalt);
            Assert.Equal(expected.QContinue, s.QContinue);
        }
        Assert.Equal(2, graphs.GraphReplays);
        Assert.Empty(graphs.GraphFallbacks);
    }

    [Trait("Category", "Gpu")]
    [Fact]
    public void Evaluate_with_bf16_gemms_keeps_its_graph_across_calls_and_replays_it_on_new_weights()
    {
        cuda.BackendOrSkip();
        HrmConfig c = _ckpt.Config;
        (int[] tokens, int[] ids) = ModelFixtures.Inputs(c, 3, seed: 9);
        var bf16 = new CudaBackendOptions { Bf16Matmul = true };
        CudaBackend graphs = Backend(bf16);
        using HrmModel a = HrmCheckpoint.Load(_ckpt.Path, graphs), b = HrmCheckpoint.Load(_ckpt.Path,
            Backend(bf16 with { Graphs = false }));
        a.Reserve(3, training: false);
        b.Reserve(3, training: false);
        var want = new float[3 * c.SeqLen * c.VocabSize];
        var got = new float[want.Length];
        var weights = new float[a.Params.Length];
        float[] first = [];
        for (int round = 0; round < 2; round++)
        {
            if (round == 1) // new weights, written outside any scope as an optimiser would: the bf16 copies follow
            {
                a.Backend.Download(a.Params, weights);
                for (int i = 0; i < weights.Length; i++) weights[i] *= 1f + 0.25f * MathF.Sin(i);
                a.Backend.Upload(weights, a.Params);
                b.Backend.Upload(weights, b.Params);
            }
            ActState expected = b.Evaluate(tokens, ids);
            b.ReadLogits(want);
            for (int call = 0; call < 3; call++) // round 0: warm-up, capture + replay, replay; round 1: replays
            {
                ActState s = a.Evaluate(tokens, ids);
                a.ReadLogits(got);
                Assert.Equal(want, got);
                Assert.Equal(expected.QHalt, s.QHalt);
            }
            if (round == 0) first = (float[])want.Clone();
            else Assert.NotEqual(first, want); // a replay on stale bf16 copies would give the first round's logits
        }
        Assert.Equal(1, graphs.GraphCount);
        Assert.Equal(5, graphs.GraphReplays);
        Assert.Empty(graphs.GraphFallbacks);
    }

    [Trait("Category", "Gpu")]
    [Fact]
    public void Each_op_of_a_replayed_graph_gets_its_time_and_calls()
    {
        using CudaBackend gpu = Backend(new CudaBackendOptions());
        const int n = 4096;
        Buf x = gpu.Allocate(n, "x"), y = gpu.Allocate(n, "y"), one = gpu.Allocate(n, "one");
        gpu.Fill(one, 1f);
        gpu.Fill(x, 0f);
        Action ops = () =>
        {
            gpu.Add(x, x, one);
            gpu.Fill(y, 2f);
            gpu.Add(x, x, y);
        };
        GraphOpTimeline timeline = gpu.StartOpTimeline();
        gpu.RunRecorded(ops); // warm-up: op by op, no event nodes
        Assert.Equal(0, timeline.Marks);
        Assert.Throws<InvalidOperationException>(timeline.EndReplay);
        for (int i = 0; i < 4; i++) // capture + replay, then replays
        {
            timeline.BeginReplay();
            gpu.RunRecorded(ops);
            timeline.EndReplay();
        }
        Assert.Equal(15f, Read(gpu, x)); // 5 runs of +3: the event nodes change nothing
        Assert.Equal(["Add", "Fill", "Add"], timeline.MarkNames);
        Assert.Equal(4, timeline.Replays);
        // A reading needs exactly one launch of the followed graph since BeginReplay.
        Assert.Throws<InvalidOperationException>(timeline.EndReplay); // no BeginReplay
        timeline.BeginReplay();
        Assert.Throws<InvalidOperationException>(timeline.EndReplay); // no launch
        timeline.BeginReplay();
        gpu.RunRecorded(ops);
        gpu.RunRecorded(ops);
        Assert.Throws<InvalidOperationException>(timeline.EndReplay); // two launches
        Assert.Equal(4, timeline.Replays);
        Assert.Equal(21f, Read(gpu, x));
        var rows = timeline.Totals();
        foreach (var r in rows) output.WriteLine($"{r.Op}: {r.Calls} calls, {r.Ms:F4} ms");
        Assert.Equal(["Add", "Fill"], rows.Select(r => r.Op).Order());
        Assert.Equal(8, rows.Single(r => r.Op == "Add").Calls);
        Assert.Equal(4, rows.Single(r => r.Op == "Fill").Calls);
        Assert.All(rows, r => Assert.True(r.Ms >= 0 && double.IsFinite(r.Ms), $"{r.Op}: {r.Ms} ms"));
        Assert.Equal(1, gpu.GraphCount);
        gpu.StopOpTimeline(); // drops the graph that records the timeline's events
        Assert.Equal(0, gpu.GraphCount);
        for (int i = 0; i < 3; i++) gpu.RunRecorded(ops); // warm-up, capture + replay, replay: without event nodes
        Assert.Equal(30f, Read(gpu, x));
        Assert.Equal(1, gpu.GraphCount);
        Assert.Throws<ObjectDisposedException>(timeline.BeginReplay);
    }

    [Trait("Category", "Gpu")]
    [Fact]
    public void A_model_segment_graph_with_the_timeline_computes_what_it_computes_without()
    {
        HrmConfig c = _ckpt.Config;
        (int[] tokens, int[] ids) = ModelFixtures.Inputs(c, 2, seed: 4);
        CudaBackend timed = Backend(new CudaBackendOptions());
        using HrmModel a = HrmCheckpoint.Load(_ckpt.Path, timed), b = HrmCheckpoint.Load(_ckpt.Path,
            Backend(new CudaBackendOptions { Graphs = false }));
        a.Reserve(2, training: false);
        b.Reserve(2, training: false);
        GraphOpTimeline timeline = timed.StartOpTimeline();
        ActState expected = b.Evaluate(tokens, ids);
        var want = new float[2 * c.SeqLen * c.VocabSize];
        var got = new float[want.Length];
        b.ReadLogits(want);
        for (int call = 0; call < 3; call++) // warm-up, capture + replay, replay
        {
            bool graph = call > 0;
            if (graph) timeline.BeginReplay();
            ActState s = a.Evaluate(tokens, ids);
            if (graph) timeline.EndReplay();
            a.ReadLogits(got);
            Assert.Equal(want, got);
            Assert.Equal(expected.QHalt, s.QHalt);
        }
        Assert.Equal(2, timed.GraphReplays);
        var rows = timeline.Totals();
        foreach (var r in rows) output.WriteLine($"{r.Op}: {r.Calls} calls, {r.Ms:F4} ms");
        // The graph holds segments 2..HaltMaxSteps: every block's GEMMs and norms, each marked once a call.
        Assert.True(timeline.Marks > 20, $"{timeline.Marks} event nodes");
        Assert.Equal(timeline.Marks * 2L, rows.Sum(r => r.Calls));
        Assert.Contains(rows, r => r.Op == "MatmulForward");
        Assert.Contains(rows, r => r.Op == "AddRmsNormForward");
    }

    private CudaBackend Backend(CudaBackendOptions options)
    {
        cuda.BackendOrSkip(); // skips without a device, NVRTC or cuBLAS; warms the kernel cache
        return new CudaBackend(cuda.DeviceOrSkip(), options);
    }

    private static float Read(CudaBackend gpu, Buf x)
    {
        var host = new float[x.Length];
        gpu.Download(x, host);
        Assert.All(host, v => Assert.Equal(host[0], v));
        return host[0];
    }
}
