namespace Hrm.Runtime.Solver;

/// <summary>
/// One view of a group of a task of your own (<c>hrm data pairs --puzzle-ids --relabel SYMBOLS --num-aug K</c>): the
/// group's texts with <see cref="From"/>[i] written as <see cref="To"/>[i], learned under a puzzle identifier of its
/// own. The original view relabels nothing (both empty). Its name in <c>identifiers.json</c> is the group's name for
/// the original and <c>GROUP|FROM&gt;TO</c> otherwise (<see cref="Name"/>), which is all the solver needs to undo it.
/// </summary>
/// <param name="PuzzleIdentifier">The identifier whose embedding the model learned for this view.</param>
/// <param name="From">The relabelled symbols (empty: the original view).</param>
/// <param name="To">What each of them becomes (a permutation of <paramref name="From"/>).</param>
public sealed record TextView(int PuzzleIdentifier, string From, string To)
{
    /// <summary>Separates a group's name from a view's relabelling in a view's name.</summary>
    public const char Separator = '|';

    /// <summary>Whether this is the group's own view (nothing relabelled).</summary>
    public bool IsOriginal => From.Length == 0;

    /// <summary>The view's puzzle name: <paramref name="group"/>, or <c>GROUP|FROM&gt;TO</c>.</summary>
    public string Name(string group) => IsOriginal ? group : $"{group}{Separator}{From}>{To}";

    /// <summary><paramref name="text"/> as this view writes it.</summary>
    public string Apply(string text) => Map(text, From, To);

    /// <summary>An answer of this view written back in the original's symbols.</summary>
    public string Undo(string text) => Map(text, To, From);

    /// <summary>
    /// The relabelling of a view name's part after <see cref="Separator"/>: <c>FROM&gt;TO</c>, FROM distinct
    /// characters and TO a permutation of them; null when <paramref name="suffix"/> is not one.
    /// </summary>
    public static (string From, string To)? ParseRelabelling(string suffix)
    {
        ArgumentNullException.ThrowIfNull(suffix);
        int n = (suffix.Length - 1) / 2;
        if (n < 1 || suffix.Length != 2 * n + 1 || suffix[n] != '>') return null;
        string from = suffix[..n], to = suffix[(n + 1)..];
        if (from.Distinct().Count() != n) return null;
        char[] a = from.ToCharArray(), b = to.ToCharArray();
        Array.Sort(a);
        Array.Sort(b);
        return a.AsSpan().SequenceEqual(b) ? (from, to) : null;
    }

    private static string Map(string text, string from, string to)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (from.Length == 0) return text;
        char[] chars = text.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
        {
            int at = from.IndexOf(chars[i], StringComparison.Ordinal);
            if (at >= 0) chars[i] = to[at];
        }
        return new string(chars);
    }
}
