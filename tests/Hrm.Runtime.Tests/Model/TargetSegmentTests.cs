using Hrm.Runtime.Backends;
using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Backends.Reference;
using Hrm.Runtime.Config;
using Hrm.Runtime.Model;
using Hrm.Runtime.Tests.TestUtil;

namespace Hrm.Runtime.Tests.Model;

/// <summary>
/// The Q-target segment of training runs the last block of the last H call on position 0 only (all the Q head
/// reads). Its Q logits must be those of a whole no-grad segment from the same carry: bitwise on the CPU backend.
/// </summary>
public sealed class TargetSegmentTests
{
    public static TheoryData<string> Configs => ["micro", "micro-learned", "real-width"];

    [Theory]
    [MemberData(nameof(Configs))]
    public void Q_target_segment_equals_a_whole_segment_bitwise_on_the_cpu(string name)
    {
        // real-width: 8·82 rows take the general GEMM, the 8 position-0 rows the few-rows one.
        (HrmConfig cfg, int batch) = Config(name);
        (float[] q, float[] qWhole) = Both(cfg, batch, new CpuBackend(2));
        Assert.Equal(qWhole, q);
    }

    [Fact]
    public void Q_target_segment_equals_a_whole_segment_on_the_reference_backend()
    {
        (float[] q, float[] qWhole) = Both(ModelFixtures.Micro(hCycles: 2, lCycles: 2), 3, new ReferenceBackend());
        TensorAssert.Close(TestData.ToDouble(qWhole), q, 1e-6, 1e-6, 1e-12, "q");
    }

    private static (HrmConfig Cfg, int Batch) Config(string name) => name switch
    {
        "micro" => (ModelFixtures.Micro(hCycles: 2, lCycles: 2) with { HLayers = 2 }, 3),
        "micro-learned" => (ModelFixtures.MicroLearned(), 2),
        _ => (new HrmConfig { HLayers = 2, LLayers = 1, HCycles = 1, LCycles = 1, NumPuzzleIdentifiers = 3 }, 8),
    };

    /// <summary>Q logits (B,2) of the target segment and of a whole no-grad segment, from one random carry.</summary>
    private static (float[] Q, float[] Whole) Both(HrmConfig cfg, int batch, IHrmBackend backend)
    {
        using HrmModel m = ModelFixtures.Create(cfg, backend, batch, training: true, seed: 11);
        (int[] tokens, int[] ids) = ModelFixtures.Inputs(cfg, batch, 12);
        m.SetInputs(tokens, ids);
        Workspace ws = m.Ws;
        int n = batch * cfg.TotalSeqLen * cfg.HiddenSize;
        float[] zH = TestData.Floats(13, n), zL = TestData.Floats(14, n);
        var q = new float[2 * batch];
        var whole = new float[2 * batch];
        m.Backend.Upload(zH, ws.ZH2);
        m.Backend.Upload(zL, ws.ZL2);
        m.TargetSegment(ws.ZH2, ws.ZL2, ws.QNext);
        m.Backend.Download(ws.QNext, q);
        m.Backend.Upload(zH, ws.ZH2);
        m.Backend.Upload(zL, ws.ZL2);
        m.Segment(ws.ZH2, ws.ZL2, record: false, ws.Logits, ws.Q);
        m.Backend.Download(ws.Q, whole);
        Assert.All(q, v => Assert.True(float.IsFinite(v)));
        return (q, whole);
    }
}
