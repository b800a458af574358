using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Config;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;
using Hrm.Runtime.Numerics;
using Hrm.Runtime.Tests.TestUtil;

namespace Hrm.Runtime.Tests.Model;

/// <summary>
/// The CPU backend's weight-reuse scope: inside it the forward GEMMs keep each weight's packed panels after the
/// first use. Results must be bitwise those without the scope, and a weight written between scopes must be seen.
/// </summary>
public sealed class WeightReuseTests
{
    private const int K = 512;

    [Theory]
    [InlineData(82, 96)]   // few rows; SwiGLU I = 48 is not a panel multiple: its own kept copy
    [InlineData(82, 128)]  // few rows; I = 64: the plain and SwiGLU products share one copy
    [InlineData(600, 96)]  // the general GEMM
    [InlineData(600, 128)] // the general GEMM, shared copy
    public void Kept_panels_give_bitwise_the_same_products_and_follow_a_weight_change_between_scopes(int M, int N)
    {
        Assert.Equal(M < 600, Gemm.FewRows(M, K, Gemm.Best) && Gemm.Best != GemmPath.Scalar);
        using var b = new CpuBackend(2);
        Buf x = b.Allocate(M * K, "x"), w = b.Allocate(N * K, "w"), y = b.Allocate(M * N, "y");
        Buf act = b.Allocate(M * N / 2, "act"), gu = b.Allocate(M * N, "gateUp");
        b.Upload(TestData.Floats(1, M * K), x);
        float[] w1 = TestData.Floats(2, N * K), w2 = TestData.Floats(3, N * K);
        (float[] Y, float[] Act) Run(bool scoped, int calls)
        {
            var outY = new float[M * N];
            var outAct = new float[M * N / 2];
            if (scoped) b.BeginWeightReuse();
            for (int i = 0; i < calls; i++)
            {
                b.Fill(y, float.NaN);
                b.Fill(act, float.NaN);
                b.MatmulForward(y, x, w, M, K, N);
                b.MatmulSwiGluForward(act, gu, x, w, M, K, N / 2);
            }
            if (scoped) b.EndWeightReuse();
            b.Download(y, outY);
            b.Download(act, outAct);
            return (outY, outAct);
        }
        b.Upload(w1, w);
        (float[] plain1, float[] plainAct1) = Run(scoped: false, calls: 1);
        (float[] kept1, float[] keptAct1) = Run(scoped: true, calls: 3); // fills, then reads the kept panels twice
        Assert.Equal(plain1, kept1);
        Assert.Equal(plainAct1, keptAct1);

        b.Upload(w2, w); // between scopes: the kept panels are stale and must not be used
        (float[] plain2, float[] plainAct2) = Run(scoped: false, calls: 1);
        (float[] kept2, float[] keptAct2) = Run(scoped: true, calls: 2);
        Assert.Equal(plain2, kept2);
        Assert.Equal(plainAct2, keptAct2);
        Assert.NotEqual(plain1, plain2);
    }

    [Fact]
    public void Scopes_nest_and_an_unmatched_end_throws()
    {
        using var b = new CpuBackend(2);
        b.BeginWeightReuse();
        b.BeginWeightReuse();
        b.EndWeightReuse();
        b.EndWeightReuse();
        Assert.Throws<InvalidOperationException>(b.EndWeightReuse);
    }

    [Fact]
    public void Evaluate_with_kept_panels_equals_segments_run_without_a_scope()
    {
        HrmConfig cfg = new() { HLayers = 1, LLayers = 1, NumPuzzleIdentifiers = 3 }; // real widths, batch 1: few rows
        using HrmModel m = ModelFixtures.Create(cfg, new CpuBackend(2), 1, false, 5);
        (int[] tokens, int[] ids) = ModelFixtures.Inputs(cfg, 1, 6);
        m.Evaluate(tokens, ids, maxSteps: 3); // inside one scope
        var evaluated = new float[cfg.SeqLen * cfg.VocabSize];
        m.ReadLogits(evaluated);
        var state = new ActState(1, cfg.SeqLen);
        for (int s = 0; s < 3; s++) m.ActStep(state, tokens, ids, default, training: false, maxSteps: 3);
        var plain = new float[evaluated.Length];
        m.ReadLogits(plain);
        Assert.Equal(plain, evaluated);
    }

    [Fact]
    public void Training_act_steps_see_weights_written_between_them()
    {
        // A training ActStep keeps packed weights for its two segments; the optimiser then writes the weights. The
        // next step must use the new ones: it must equal a fresh model's step on the written weights.
        HrmConfig cfg = new() { HLayers = 1, LLayers = 1, NumPuzzleIdentifiers = 3, HaltMaxSteps = 2 };
        const int batch = 8; // 8·82 rows: the general GEMM path
        using HrmModel a = ModelFixtures.Create(cfg, new CpuBackend(2), batch, true, 5);
        using HrmModel fresh = ModelFixtures.Create(cfg, new CpuBackend(2), batch, true, 6);
        (int[] tokens, int[] ids) = ModelFixtures.Inputs(cfg, batch, 7);
        int[] labels = (int[])tokens.Clone();
        a.ActStep(new ActState(batch, cfg.SeqLen), tokens, ids, labels, training: true, new HrmRandom(9));
        var written = new float[a.Params.Length];
        a.Backend.Download(a.Params, written);
        for (int i = 0; i < written.Length; i++) written[i] *= 0.97f; // as an optimiser step would
        a.Backend.Upload(written, a.Params);
        fresh.Backend.Upload(written, fresh.Params);
        var qa = new float[2 * batch];
        var qf = new float[2 * batch];
        var la = new float[batch * cfg.SeqLen * cfg.VocabSize];
        var lf = new float[la.Length];
        ActState sa = new(batch, cfg.SeqLen), sf = new(batch, cfg.SeqLen);
        a.ActStep(sa, tokens, ids, labels, training: true, new HrmRandom(10));
        fresh.ActStep(sf, tokens, ids, labels, training: true, new HrmRandom(10));
        a.ReadLogits(la);
        fresh.ReadLogits(lf);
        Assert.Equal(lf, la);
        Assert.Equal(sf.TargetQContinue, sa.TargetQContinue);
    }
}
