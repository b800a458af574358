using Hrm.Runtime.Numerics;
using Hrm.Runtime.Solver;

namespace Hrm.Train.Data;

/// <summary>
/// The augmentation of <c>hrm data pairs --relabel SYMBOLS --num-aug K</c>: every train group also appears
/// <paramref name="Views"/> times relabelled, each view one random permutation of <paramref name="Symbols"/> applied to
/// every input and output of the group, other symbols kept: the reference's digit relabelling of Sudoku (spec 5.2), for
/// any task whose symbols are interchangeable (colours, digits, letters). As in the reference, the test split is not
/// augmented and views are not de-duplicated; with <c>--puzzle-ids</c> (the ARC layout) each view is a puzzle of its
/// own, named <c>GROUP|FROM&gt;TO</c> (<see cref="TextView"/>), no two views of a group alike and none the original.
/// </summary>
/// <param name="Symbols">The symbols that are permuted among themselves.</param>
/// <param name="Views">Relabelled views a group gets besides its original.</param>
/// <param name="Seed">Seed of the permutations (one stream, drawn in file order).</param>
public sealed record TextRelabel(string Symbols, int Views, ulong Seed)
{
    /// <summary>Why the relabelling does not fit <paramref name="alphabet"/> (or is no relabelling), or null.</summary>
    public string? FindError(TextAlphabet alphabet)
    {
        ArgumentNullException.ThrowIfNull(alphabet);
        if (Symbols.Length < 2) return $"--relabel \"{Symbols}\" has {Symbols.Length} symbols; a permutation needs 2";
        if (Views < 1) return $"--num-aug is {Views}; at least 1 view";
        for (int i = 0; i < Symbols.Length; i++)
        {
            if (alphabet.TokenOf(Symbols[i]) < 0)
            {
                return $"--relabel symbol '{Symbols[i]}' is not in the alphabet " +
                    $"\"{TextAlphabet.Printable(alphabet.Symbols)}\"";
            }
            if (Symbols.IndexOf(Symbols[i], StringComparison.Ordinal) != i)
                return $"--relabel has '{Symbols[i]}' twice";
        }
        return null;
    }

    /// <summary>One view's mapping: <see cref="Symbols"/>[i] becomes the result's [i] (a Fisher-Yates
    /// shuffle).</summary>
    internal char[] Draw(HrmRandom rng)
    {
        char[] to = Symbols.ToCharArray();
        for (int i = to.Length - 1; i > 0; i--)
        {
            int j = rng.NextInt(0, i + 1);
            (to[i], to[j]) = (to[j], to[i]);
        }
        return to;
    }

    /// <summary><paramref name="text"/> with <see cref="Symbols"/>[i] replaced by <paramref name="to"/>[i].</summary>
    internal string Apply(string text, char[] to)
    {
        var chars = text.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
        {
            int at = Symbols.IndexOf(chars[i], StringComparison.Ordinal);
            if (at >= 0) chars[i] = to[at];
        }
        return new string(chars);
    }
}
