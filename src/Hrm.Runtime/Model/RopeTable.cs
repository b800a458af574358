namespace Hrm.Runtime.Model;

/// <summary>
/// RoPE tables as the reference builds them in fp32: inv_freq[k] = 1 / base^(2k/HS), angle = p·inv_freq[k],
/// cos/sin of concat(angle, angle) → (T, HS).
/// </summary>
public static class RopeTable
{
    /// <summary>Fills cos and sin, each (T, HS).</summary>
    public static void Build(Span<float> cos, Span<float> sin, int t, int hs, double theta)
    {
        if (cos.Length != t * hs || sin.Length != t * hs)
            throw new ArgumentException($"RoPE tables must hold T·HS = {t * hs} values");
        int half = hs / 2;
        for (int k = 0; k < half; k++)
        {
            float exponent = (float)(2 * k) / hs;
            float invFreq = 1f / MathF.Pow((float)theta, exponent);
            for (int p = 0; p < t; p++)
            {
                float angle = p * invFreq;
                float cv = (float)Math.Cos(angle), sv = (float)Math.Sin(angle);
                cos[p * hs + k] = cv;
                cos[p * hs + k + half] = cv;
                sin[p * hs + k] = sv;
                sin[p * hs + k + half] = sv;
            }
        }
    }
}
