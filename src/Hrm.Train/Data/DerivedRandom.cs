using Hrm.Runtime.Numerics;

namespace Hrm.Train.Data;

/// <summary>
/// Independent generators for the items of a build: item i of a run with seed s draws only from
/// <c>For(s, i)</c>, so a build's output does not depend on how many threads produced it.
/// </summary>
internal static class DerivedRandom
{
    /// <summary>The generator of item <paramref name="index"/> under <paramref name="seed"/>.</summary>
    public static HrmRandom For(ulong seed, long index) =>
        new(Mix(Mix(seed) + 0x9E3779B97F4A7C15UL * ((ulong)index + 1)));

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
