using Hrm.Runtime.Memory;
using Hrm.Runtime.Numerics;
using static Hrm.Runtime.Memory.ParameterLayout;

namespace Hrm.Runtime.Model;

public sealed partial class HrmModel
{
    /// <summary>
    /// Initialises every tensor as the reference does (spec 1.9), drawing in layout order from
    /// <paramref name="rng"/>: truncated LeCun normal with std 1/sqrt(fan_in) for linear weights, 1/sqrt(D) for
    /// embeddings, zeros for the puzzle table, Q head weight 0 and bias −5, H_init/L_init std 1 rounded to bf16.
    /// </summary>
    public void Initialize(HrmRandom rng)
    {
        foreach (TensorEntry e in Layout.Entries)
        {
            var values = new float[e.Count];
            FillInitial(e, values, rng);
            WriteParameter(e.Name, values);
        }
    }

    private void FillInitial(TensorEntry e, Span<float> values, HrmRandom rng)
    {
        switch (e.Name)
        {
            case Names.QHeadWeight:
            case Names.PuzzleEmb:
                values.Clear();
                return;
            case Names.QHeadBias:
                values.Fill(-5f);
                return;
            case Names.EmbedTokens:
            case Names.EmbedPos:
                TruncatedNormal.Fill(values, 1.0 / Math.Sqrt(Config.HiddenSize), rng);
                return;
            case Names.HInit:
            case Names.LInit:
                TruncatedNormal.Fill(values, 1.0, rng);
                for (int i = 0; i < values.Length; i++) values[i] = BFloat16.Round(values[i]);
                return;
            default:
                // Every CastedLinear (qkv, o, gate_up, down, lm_head): std 1/sqrt(fan_in), fan_in = shape[1].
                TruncatedNormal.Fill(values, 1.0 / Math.Sqrt(e.Shape[1]), rng);
                return;
        }
    }
}
