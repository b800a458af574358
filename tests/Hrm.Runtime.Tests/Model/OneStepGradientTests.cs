using Hrm.Runtime.Backends.Reference;
using Hrm.Runtime.Config;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;
using Hrm.Runtime.Tests.TestUtil;

namespace Hrm.Runtime.Tests.Model;

/// <summary>
/// The whole 1-step backward against central finite differences, in double, on the Reference backend.
/// With H_cycles = L_cycles = 1 a segment is exactly the two differentiated calls on a fixed (detached) carry,
/// so the 1-step gradient is the true gradient of the segment and finite differences must agree with it.
/// </summary>
public class OneStepGradientTests
{
    public static TheoryData<string> Configs => new() { "rope", "learned" };

    [Theory]
    [MemberData(nameof(Configs))]
    public void Every_parameter_gradient_matches_finite_differences(string variant)
    {
        HrmConfig cfg = variant == "rope" ? ModelFixtures.Micro() : ModelFixtures.MicroLearned();
        const int batch = 2;
        using var model = ModelFixtures.Create(cfg, new ReferenceBackend(), batch, training: true, seed: 11);
        (int[] tokens, int[] ids) = ModelFixtures.Inputs(cfg, batch, 5);
        ids[1] = ids[0]; // two rows share a puzzle id: their row gradients must sum in the table
        int t = cfg.TotalSeqLen, c = cfg.HiddenSize;
        double[] zH0 = TestData.Doubles(21, batch * t * c, 1.5), zL0 = TestData.Doubles(22, batch * t * c, 1.5);
        double[] rLogits = TestData.Doubles(23, batch * cfg.SeqLen * cfg.VocabSize);
        double[] rQ = TestData.Doubles(24, batch * 2);
        var ws = model.Ws;

        double Loss()
        {
            model.SetInputs(tokens, ids);
            ReferenceBackend.WriteDoubles(zH0, ws.ZH);
            ReferenceBackend.WriteDoubles(zL0, ws.ZL);
            model.Segment(record: false);
            return FiniteDiff.Dot(ReferenceBackend.ReadDoubles(ws.Logits), rLogits) +
                   FiniteDiff.Dot(ReferenceBackend.ReadDoubles(ws.Q), rQ);
        }

        model.SetInputs(tokens, ids);
        ReferenceBackend.WriteDoubles(zH0, ws.ZH);
        ReferenceBackend.WriteDoubles(zL0, ws.ZL);
        model.Segment(record: true);
        ReferenceBackend.WriteDoubles(rLogits, model.LogitsGrad);
        ReferenceBackend.WriteDoubles(rQ, model.QGrad);
        model.ZeroGrads();
        model.Backward();
        double[] dRows = ReferenceBackend.ReadDoubles(model.PuzzleRowsGrad);

        foreach (TensorEntry e in model.Layout.Entries)
        {
            if (e.Kind == TensorKind.Buffer) continue;
            double[] analytic = ReferenceBackend.ReadDoubles(model.Grad(e.Name));
            CheckTensor(model.Param(e.Name), analytic, Loss, e.Name);
        }

        // Puzzle table: the gradient of row `id` is the sum of the per-row gradients of the rows using it.
        int pd = cfg.PuzzleEmbNdim;
        var tableGrad = new double[cfg.NumPuzzleIdentifiers * pd];
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < pd; i++) tableGrad[ids[b] * pd + i] += dRows[b * pd + i];
        CheckTensor(model.Param(ParameterLayout.Names.PuzzleEmb), tableGrad, Loss, "puzzle table");
        Assert.Contains(tableGrad, g => g != 0);
    }

    [Fact]
    public void Detached_q_head_keeps_its_own_gradient_and_gives_the_trunk_the_lm_gradient_only()
    {
        HrmConfig cfg = ModelFixtures.Micro();
        const int batch = 2;
        int t = cfg.TotalSeqLen, c = cfg.HiddenSize;
        double[] zH0 = TestData.Doubles(31, batch * t * c, 1.5), zL0 = TestData.Doubles(32, batch * t * c, 1.5);
        double[] rLogits = TestData.Doubles(33, batch * cfg.SeqLen * cfg.VocabSize);
        double[] rQ = TestData.Doubles(34, batch * 2);
        (int[] tokens, int[] ids) = ModelFixtures.Inputs(cfg, batch, 5);

        // Gradients of every tensor and of the puzzle rows after one recorded segment and the backward.
        Dictionary<string, double[]> Grads(HrmConfig config, double[] qGrad)
        {
            using var model = ModelFixtures.Create(config, new ReferenceBackend(), batch, training: true, seed: 11);
            model.SetInputs(tokens, ids);
            ReferenceBackend.WriteDoubles(zH0, model.Ws.ZH);
            ReferenceBackend.WriteDoubles(zL0, model.Ws.ZL);
            model.Segment(record: true);
            ReferenceBackend.WriteDoubles(rLogits, model.LogitsGrad);
            ReferenceBackend.WriteDoubles(qGrad, model.QGrad);
            model.ZeroGrads();
            model.Backward();
            var g = model.Layout.Entries.Where(e => e.Kind != TensorKind.Buffer)
                .ToDictionary(e => e.Name, e => ReferenceBackend.ReadDoubles(model.Grad(e.Name)));
            g["puzzle rows"] = ReferenceBackend.ReadDoubles(model.PuzzleRowsGrad);
            return g;
        }

        Dictionary<string, double[]> detached = Grads(cfg with { DetachQHead = true }, rQ);
        Dictionary<string, double[]> coupled = Grads(cfg, rQ);
        Dictionary<string, double[]> lmOnly = Grads(cfg, new double[batch * 2]);
        string[] qHead = [ParameterLayout.Names.QHeadWeight, ParameterLayout.Names.QHeadBias];
        foreach ((string name, double[] g) in detached)
        {
            double[] expected = qHead.Contains(name) ? coupled[name] : lmOnly[name];
            Assert.True(expected.SequenceEqual(g), $"{name}: detached gradient differs from the expected one");
        }
        // The coupling is real (otherwise the test could not fail): the Q gradient moves the trunk's gradients.
        Assert.False(coupled[ParameterLayout.Names.Qkv("H", 0)].SequenceEqual(lmOnly[ParameterLayout.Names.Qkv("H", 0)]));
        Assert.Contains(detached[ParameterLayout.Names.QHeadWeight], x => x != 0);
    }

    private static void CheckTensor(Buf param, double[] analytic, Func<double> loss, string name)
    {
        double[] x = ReferenceBackend.ReadDoubles(param);
        double Perturbed()
        {
            ReferenceBackend.WriteDoubles(x, param);
            return loss();
        }
        FiniteDiff.Check(x, analytic, Perturbed, name, samples: 12, h: 1e-6, tol: 1e-6);
        ReferenceBackend.WriteDoubles(x, param);
    }
}
