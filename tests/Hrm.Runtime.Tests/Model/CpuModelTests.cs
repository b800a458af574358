using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Backends.Reference;
using Hrm.Runtime.Config;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;
using Hrm.Runtime.Numerics;
using Hrm.Runtime.Tests.Kernels;
using Hrm.Runtime.Tests.TestUtil;

namespace Hrm.Runtime.Tests.Model;

/// <summary>The whole model on the fp32 CPU backend against the double Reference backend, and its memory habits.</summary>
[Collection(KernelTestGroup.Name)]
public class CpuModelTests
{
    /// <summary>Real widths (C=512, 8 heads of 64, SwiGLU 1536, Sudoku V/L) with one block per module.</summary>
    private static HrmConfig RealWidth() => new() { HLayers = 1, LLayers = 1, NumPuzzleIdentifiers = 3 };

    /// <summary>Set to a comma-separated list, keeps only those variants (the arm64 run under qemu, where the
    /// real-width one takes minutes).</summary>
    public const string VariantsVariable = "HRM_TEST_MODEL_VARIANTS";

    public static TheoryData<string> Variants
    {
        get
        {
            string[]? keep = Environment.GetEnvironmentVariable(VariantsVariable)?.Split(',');
            var data = new TheoryData<string>();
            foreach (string v in (string[])["tiny", "real-width", "learned"])
                if (keep is null || keep.Contains(v)) data.Add(v);
            return data;
        }
    }

    private static HrmConfig Variant(string v) => v switch
    {
        "tiny" => HrmPresets.Get("tiny") with { NumPuzzleIdentifiers = 4 },
        "real-width" => RealWidth(),
        _ => ModelFixtures.MicroLearned() with { HCycles = 2, LCycles = 2 },
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void Two_evaluation_segments_match_the_reference_within_1e_4(string variant)
    {
        HrmConfig cfg = Variant(variant);
        const int batch = 2;
        using HrmModel cpu = ModelFixtures.Create(cfg, new CpuBackend(2), batch, false, 17);
        using HrmModel reference = new(cfg, new ReferenceBackend());
        foreach (TensorEntry e in cpu.Layout.Entries) reference.WriteParameter(e.Name, cpu.ReadParameter(e.Name));
        reference.Reserve(batch, training: false);
        (int[] tokens, int[] ids) = ModelFixtures.Inputs(cfg, batch, 3);
        ActState a = cpu.Evaluate(tokens, ids, maxSteps: 2);
        ActState r = reference.Evaluate(tokens, ids, maxSteps: 2);
        var logits = new float[batch * cfg.SeqLen * cfg.VocabSize];
        cpu.ReadLogits(logits);
        double[] expected = ReferenceBackend.ReadDoubles(reference.Ws.Logits);
        Assert.InRange(TensorAssert.RelNorm(expected, logits), 0, 1e-4);
        double[] q = ReferenceBackend.ReadDoubles(reference.Ws.Q);
        float[] qc = [a.QHalt[0], a.QContinue[0], a.QHalt[1], a.QContinue[1]];
        Assert.InRange(TensorAssert.RelNorm(q, qc), 0, 1e-4);
        Assert.Equal(r.Steps, a.Steps);
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void One_step_gradients_match_the_reference(string variant)
    {
        HrmConfig cfg = Variant(variant);
        const int batch = 2;
        using HrmModel cpu = ModelFixtures.Create(cfg, new CpuBackend(2), batch, true, 19);
        using HrmModel reference = new(cfg, new ReferenceBackend());
        foreach (TensorEntry e in cpu.Layout.Entries) reference.WriteParameter(e.Name, cpu.ReadParameter(e.Name));
        reference.Reserve(batch, training: true);
        (int[] tokens, int[] ids) = ModelFixtures.Inputs(cfg, batch, 4);
        float[] dLogits = TestData.Floats(5, batch * cfg.SeqLen * cfg.VocabSize);
        float[] dq = TestData.Floats(6, batch * 2);
        foreach (HrmModel m in new[] { cpu, reference })
        {
            var state = new ActState(batch, cfg.SeqLen);
            m.ActStep(state, tokens, ids, default, training: true, new HrmRandom(1)); // resets and runs one segment
            m.ActStep(state, tokens, ids, default, training: true, new HrmRandom(1)); // a second, from a real carry
            m.Backend.Upload(dLogits, m.LogitsGrad);
            m.Backend.Upload(dq, m.QGrad);
            m.ZeroGrads();
            m.Backward();
        }
        foreach (TensorEntry e in cpu.Layout.Entries)
        {
            if (e.Kind != TensorKind.Parameter) continue;
            var g = new float[e.Count];
            cpu.Backend.Download(cpu.Grad(e.Name), g);
            double rel = TensorAssert.RelNorm(ReferenceBackend.ReadDoubles(reference.Grad(e.Name)), g);
            Assert.True(rel < 1e-4, $"{e.Name}: relative error {rel:G3}");
        }
        var rows = new float[cpu.PuzzleRowsGrad.Length];
        cpu.Backend.Download(cpu.PuzzleRowsGrad, rows);
        Assert.InRange(TensorAssert.RelNorm(ReferenceBackend.ReadDoubles(reference.PuzzleRowsGrad), rows), 0, 1e-4);
    }

    [Fact]
    public void Training_step_allocates_nothing_after_warm_up()
    {
        HrmConfig cfg = HrmPresets.Get("tiny");
        const int batch = 4;
        using HrmModel m = ModelFixtures.Create(cfg, new CpuBackend(2), batch, true, 23);
        (int[] tokens, int[] ids) = ModelFixtures.Inputs(cfg, batch, 1);
        var state = new ActState(batch, cfg.SeqLen);
        var rng = new HrmRandom(2);
        KernelTestUtil.AssertNoAllocation(() =>
        {
            m.ActStep(state, tokens, ids, tokens, training: true, rng);
            m.ZeroGrads();
            m.Backward();
        }, "ACT training step (segment, Q-target segment) + 1-step backward");
    }

    [Fact]
    public void Results_are_deterministic_for_a_thread_count()
    {
        HrmConfig cfg = HrmPresets.Get("tiny");
        float[] Run()
        {
            using HrmModel m = ModelFixtures.Create(cfg, new CpuBackend(2), 3, false, 29);
            (int[] tokens, int[] ids) = ModelFixtures.Inputs(cfg, 3, 7);
            m.Evaluate(tokens, ids, maxSteps: 2);
            var logits = new float[3 * cfg.SeqLen * cfg.VocabSize];
            m.ReadLogits(logits);
            return logits;
        }
        Assert.Equal(Run(), Run());
    }
}
