using Hrm.Runtime.Backends;
using Hrm.Runtime.Config;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;
using Hrm.Runtime.Numerics;
using Hrm.Runtime.Tests.TestUtil;

namespace Hrm.Runtime.Tests.Model;

/// <summary>Small configs and helpers shared by the model tests.</summary>
public static class ModelFixtures
{
    /// <summary>A micro RoPE config: C=16, 2 heads of 8, 1 H block, 2 L blocks, L=5, V=7, one prefix position.</summary>
    public static HrmConfig Micro(int hCycles = 1, int lCycles = 1) => new()
    {
        HiddenSize = 16, NumHeads = 2, Expansion = 4, HCycles = hCycles, LCycles = lCycles, HLayers = 1, LLayers = 2,
        HaltMaxSteps = 3, PuzzleEmbNdim = 16, VocabSize = 7, SeqLen = 5, NumPuzzleIdentifiers = 3,
    };

    /// <summary>Learned positions and a 2-position prefix whose puzzle row (24 wide) is zero-padded to 32.</summary>
    public static HrmConfig MicroLearned() => Micro() with { PosEncodings = PosEncoding.Learned, PuzzleEmbNdim = 24 };

    /// <summary>Initialises, then makes the zero-initialised tensors random so every gradient path is exercised.</summary>
    public static void RandomizeAll(HrmModel model, int seed)
    {
        model.Initialize(new HrmRandom((ulong)seed));
        int k = 0;
        foreach (TensorEntry e in model.Layout.Entries)
        {
            if (e.Name is ParameterLayout.Names.QHeadWeight or ParameterLayout.Names.PuzzleEmb or ParameterLayout.Names.QHeadBias)
                model.WriteParameter(e.Name, TestData.Floats(seed * 31 + k, (int)e.Count, 0.5f));
            k++;
        }
    }

    /// <summary>Fresh random tokens (B·L) and puzzle ids (B).</summary>
    public static (int[] Tokens, int[] Ids) Inputs(HrmConfig c, int batch, int seed) =>
        (TestData.Ints(seed, batch * c.SeqLen, 0, c.VocabSize), TestData.Ints(seed + 1, batch, 0, c.NumPuzzleIdentifiers));

    /// <summary>Creates a model on <paramref name="backend"/>.</summary>
    public static HrmModel Create(HrmConfig c, IHrmBackend backend, int batch, bool training, int seed)
    {
        var m = new HrmModel(c, backend);
        RandomizeAll(m, seed);
        m.Reserve(batch, training);
        return m;
    }
}
