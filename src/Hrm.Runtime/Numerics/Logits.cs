using System.Numerics;

namespace Hrm.Runtime.Numerics;

/// <summary>Reading model outputs: argmax over a position's logits and the sigmoid of a Q logit.</summary>
internal static class Logits
{
    /// <summary>First index of the maximum (torch.argmax's tie rule); NaN entries after index 0 never win.</summary>
    public static int ArgMax<T>(ReadOnlySpan<T> x) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int best = 0;
        for (int j = 1; j < x.Length; j++)
        {
            if (x[j] > x[best]) best = j;
        }
        return best;
    }

    /// <summary>1 / (1 + e^−x) in double.</summary>
    public static double Sigmoid(float x) => 1.0 / (1.0 + Math.Exp(-(double)x));
}
