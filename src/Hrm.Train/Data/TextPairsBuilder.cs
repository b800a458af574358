using Hrm.Runtime.Formats;
using Hrm.Runtime.Numerics;
using Hrm.Runtime.Solver;

namespace Hrm.Train.Data;

/// <summary>The examples of one split and the file they came from (named in errors).</summary>
/// <param name="Path">The CSV file.</param>
/// <param name="Pairs">Its examples, in file order.</param>
public sealed record TextPairsSource(string Path, IReadOnlyList<TextPair> Pairs);

/// <summary>
/// Builds a dataset in the reference's layout (spec 5.1) from text pairs (<see cref="TextPairsCsv"/>): every character
/// a position, tokens as <see cref="TextAlphabet"/> says (0 pad, 1 end marker, symbols from 2; labels past the end
/// marker are 0, which the loss ignores), every identifier 0, each example its own puzzle, and the consecutive rows of
/// a group name one group (a row without one: a group of its own), with <see cref="TextRelabel"/>'s views of the train
/// groups. <c>alphabet.json</c> goes next to <c>identifiers.json</c>, for <c>hrm solve --text</c> and
/// <see cref="TextPuzzle"/>.
/// </summary>
public static class TextPairsBuilder
{
    /// <summary>Writes <c>outDir/train</c>, <c>outDir/test</c>, <c>identifiers.json</c> and
    /// <c>alphabet.json</c>.</summary>
    /// <param name="outDir">The dataset directory.</param>
    /// <param name="train">The train examples.</param>
    /// <param name="test">The test examples (may be none).</param>
    /// <param name="symbols">The symbols in token order, or null for every character the files use, in ordinal order.
    /// </param>
    /// <param name="seqLen">Positions a row, or null for the longest input or output.</param>
    /// <param name="relabel">Relabelled views of every train group, or null for none.</param>
    /// <param name="puzzleIds">Give every group its own puzzle identifier, named by its group name (the ARC layout:
    /// a group is one puzzle whose rows are its examples, so the model learns an embedding per group); every row
    /// needs a group name, and a test row's group must have train rows; with <paramref name="relabel"/> each view of a
    /// train group is a puzzle of its own too (<see cref="TextView.Name"/>; the test split keeps the originals).
    /// False: identifier 0 everywhere, each row its own puzzle.</param>
    /// <returns>The alphabet written.</returns>
    /// <exception cref="HrmFormatException">A text with a character that is not a symbol or longer than
    /// <paramref name="seqLen"/> (or <see cref="TextAlphabet.MaxSeqLen"/>), or a group whose rows are not consecutive
    /// (file and line named).</exception>
    /// <exception cref="ArgumentException">No train examples, bad <paramref name="symbols"/>, or a
    /// <paramref name="relabel"/> that does not fit the alphabet.</exception>
    public static TextAlphabet Build(string outDir, TextPairsSource train, TextPairsSource test, string? symbols,
        int? seqLen, TextRelabel? relabel = null, bool puzzleIds = false)
    {
        ArgumentNullException.ThrowIfNull(outDir);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        if (train.Pairs.Count == 0)
            throw new ArgumentException($"{train.Path}: no examples to train on", nameof(train));
        IEnumerable<TextPair> all = train.Pairs.Concat(test.Pairs);
        string used = symbols ?? TextAlphabet.SymbolsOf(all.SelectMany(p => (string[])[p.Input, p.Output]));
        int longest = all.Max(p => Math.Max(p.Input.Length, p.Output.Length));
        int limit = Math.Min(seqLen ?? TextAlphabet.MaxSeqLen, TextAlphabet.MaxSeqLen);
        if (longest > limit)
        {
            TextPair p = all.First(p => Math.Max(p.Input.Length, p.Output.Length) == longest);
            string path = train.Pairs.Any(q => ReferenceEquals(q, p)) ? train.Path : test.Path;
            throw new HrmFormatException(path, $"line {p.Line}", $"has a text of {longest} characters; " +
                (seqLen is int given ? $"--seq-len is {given}" : $"rows hold at most {TextAlphabet.MaxSeqLen}"));
        }
        TextAlphabet alphabet = TextAlphabet.Create(used, seqLen ?? longest);
        if (relabel?.FindError(alphabet) is { } badRelabel) throw new ArgumentException(badRelabel, nameof(relabel));
        foreach (TextPairsSource source in (TextPairsSource[])[train, test])
        {
            Groups(source);  // every problem said before a file is written
            foreach (TextPair p in source.Pairs)
            {
                Check(source.Path, p.Line, "input", p.Input, alphabet);
                Check(source.Path, p.Line, "output", p.Output, alphabet);
            }
        }
        Dictionary<string, char[][]>? drawn = null;
        Dictionary<string, int>? ids = puzzleIds ? PuzzleIdentifiers(train, test, relabel, out drawn) : null;
        WriteSplit(outDir, "train", train, alphabet, relabel, ids, drawn);
        WriteSplit(outDir, "test", test, alphabet, null, ids, null);
        DatasetWriter.WriteIdentifiers(outDir,
            [DatasetIdentifiers.Blank, .. ids?.OrderBy(kv => kv.Value).Select(kv => kv.Key) ?? []]);
        alphabet.Save(Path.Combine(outDir, TextAlphabet.FileName));
        return alphabet;
    }

    /// <summary>The groups of <paramref name="source"/>: (first row, rows) each, in file order.</summary>
    /// <exception cref="HrmFormatException">A group name that comes back after another group's rows.</exception>
    public static List<(int Start, int Count)> Groups(TextPairsSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var groups = new List<(int, int)>();
        var firstLine = new Dictionary<string, int>(StringComparer.Ordinal);
        IReadOnlyList<TextPair> pairs = source.Pairs;
        for (int i = 0; i < pairs.Count; i++)
        {
            string g = pairs[i].Group;
            if (g.Length > 0 && i > 0 && pairs[i - 1].Group == g)
            {
                (int s, int c) = groups[^1];
                groups[^1] = (s, c + 1);
                continue;
            }
            if (g.Length > 0 && !firstLine.TryAdd(g, pairs[i].Line))
            {
                throw TextPairsCsv.Error(source.Path, pairs[i].Line, "group",
                    $"'{g}' began at line {firstLine[g]} and another group came between: a group's rows are " +
                    "consecutive");
            }
            groups.Add((i, 1));
        }
        return groups;
    }

    /// <summary>Moves <paramref name="count"/> groups of <paramref name="train"/>, chosen at random, to a test split;
    /// both keep file order.</summary>
    /// <exception cref="ArgumentException">Not fewer groups than the file holds.</exception>
    public static (TextPairsSource Train, TextPairsSource Test) HoldOut(TextPairsSource train, int count, HrmRandom rng)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(rng);
        List<(int Start, int Count)> groups = Groups(train);
        if (count < 0 || count >= groups.Count)
        {
            throw new ArgumentException(
                $"--holdout {count}: {train.Path} has {groups.Count} groups; hold out 0 to {groups.Count - 1}");
        }
        int[] order = Enumerable.Range(0, groups.Count).ToArray();
        for (int i = 0; i < count; i++)
        {
            int j = rng.NextInt(i, order.Length);
            (order[i], order[j]) = (order[j], order[i]);
        }
        var held = new bool[groups.Count];
        for (int i = 0; i < count; i++) held[order[i]] = true;
        var keep = new List<TextPair>();
        var test = new List<TextPair>();
        for (int g = 0; g < groups.Count; g++)
        {
            (int s, int c) = groups[g];
            (held[g] ? test : keep).AddRange(train.Pairs.Skip(s).Take(c));
        }
        return (train with { Pairs = keep }, train with { Pairs = test });
    }

    /// <summary>Identifiers 1, 2, ... for the train groups' names in file order, each group's relabelled views right
    /// after it (<paramref name="drawn"/>: the mapping of each, drawn here); every row named, every test name a train
    /// one.</summary>
    private static Dictionary<string, int> PuzzleIdentifiers(TextPairsSource train, TextPairsSource test,
        TextRelabel? relabel, out Dictionary<string, char[][]>? drawn)
    {
        if (relabel != null && relabel.Views > Relabellings(relabel.Symbols.Length))
        {
            throw new ArgumentException($"--num-aug {relabel.Views}: \"{relabel.Symbols}\" has only " +
                $"{Relabellings(relabel.Symbols.Length)} relabellings besides the original, and with --puzzle-ids " +
                "every view is a different one", nameof(relabel));
        }
        HrmRandom? rng = relabel is null ? null : new HrmRandom(relabel.Seed);
        drawn = relabel is null ? null : new Dictionary<string, char[][]>(StringComparer.Ordinal);
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (TextPairsSource source in (TextPairsSource[])[train, test])
        {
            foreach (TextPair p in source.Pairs)
            {
                if (p.Group.Length == 0)
                {
                    throw TextPairsCsv.Error(source.Path, p.Line, "group",
                        "is empty; with --puzzle-ids every row names its group (its puzzle)");
                }
                if (relabel != null && p.Group.Contains(TextView.Separator, StringComparison.Ordinal))
                {
                    throw TextPairsCsv.Error(source.Path, p.Line, "group", $"'{p.Group}' has a " +
                        $"'{TextView.Separator}', which with --relabel and --puzzle-ids separates a group's name " +
                        "from its views' in identifiers.json");
                }
                if (ReferenceEquals(source, train))
                {
                    if (ids.TryAdd(p.Group, ids.Count + 1) && drawn != null)
                        drawn[p.Group] = DrawViews(p.Group, relabel!, rng!, ids);
                }
                else if (!ids.ContainsKey(p.Group))
                {
                    throw TextPairsCsv.Error(source.Path, p.Line, "group",
                        $"'{p.Group}' has no train rows: its puzzle embedding would never be trained");
                }
            }
        }
        return ids;
    }

    /// <summary>The relabellings of <paramref name="symbols"/> symbols other than the identity: n! - 1, capped at
    /// int.MaxValue.</summary>
    private static int Relabellings(int symbols)
    {
        long n = 1;
        for (int i = 2; i <= symbols && n <= int.MaxValue; i++) n *= i;
        return (int)Math.Min(n - 1, int.MaxValue);
    }

    /// <summary>The <see cref="TextRelabel.Views"/> relabellings of one group, each new and none the identity (drawn
    /// again until so, as the reference's ARC builder draws its views), each given the next identifier.</summary>
    private static char[][] DrawViews(string group, TextRelabel relabel, HrmRandom rng, Dictionary<string, int> ids)
    {
        var views = new char[relabel.Views][];
        for (int v = 0; v < views.Length; v++)
        {
            string name;
            do
            {
                views[v] = relabel.Draw(rng);
                name = ViewName(group, relabel, views[v]);
            }
            while (relabel.Symbols.AsSpan().SequenceEqual(views[v]) || !ids.TryAdd(name, ids.Count + 1));
        }
        return views;
    }

    private static string ViewName(string group, TextRelabel relabel, char[] to) =>
        new TextView(0, relabel.Symbols, new string(to)).Name(group);

    private static void WriteSplit(string outDir, string split, TextPairsSource source, TextAlphabet alphabet,
        TextRelabel? relabel, Dictionary<string, int>? ids, Dictionary<string, char[][]>? drawn)
    {
        HrmRandom? rng = relabel is null || drawn != null ? null : new HrmRandom(relabel.Seed);
        int l = alphabet.SeqLen;
        using var w = new DatasetStreamWriter(outDir, split, l, alphabet.VocabSize,
            ignoreLabelId: TextAlphabet.PadToken);
        int[] row = new int[l];              // (seq_len) tokens of one text
        byte[] x = new byte[l], y = new byte[l];
        foreach ((int start, int count) in Groups(source))
        {
            string group = source.Pairs[start].Group;
            for (int view = 0; view <= (relabel?.Views ?? 0); view++)
            {
                // view 0: the original; with --puzzle-ids each view is its own puzzle, drawn beforehand
                char[]? to = view == 0 ? null : drawn != null ? drawn[group][view - 1] : relabel!.Draw(rng!);
                for (int i = start; i < start + count; i++)
                {
                    TextPair p = source.Pairs[i];
                    string input = to is null ? p.Input : relabel!.Apply(p.Input, to);
                    string output = to is null ? p.Output : relabel!.Apply(p.Output, to);
                    Encode(source.Path, p.Line, "input", input, alphabet, row, x);
                    Encode(source.Path, p.Line, "output", output, alphabet, row, y);
                    w.AddExample(x, y);
                    if (ids is null) w.EndPuzzle(0);
                }
                if (ids != null)
                    w.EndPuzzle(ids[to is null ? group : ViewName(group, relabel!, to)]);
            }
            w.EndGroup();
        }
        w.Complete(numPuzzleIdentifiers: ids is null ? 1 : ids.Count + 1);
    }

    private static void Check(string path, int line, string column, string text, TextAlphabet alphabet)
    {
        if (alphabet.FindTextError(text) is { } problem) throw TextPairsCsv.Error(path, line, column, problem);
    }

    private static void Encode(string path, int line, string column, string text, TextAlphabet alphabet, int[] row,
        byte[] tokens)
    {
        Check(path, line, column, text, alphabet);
        alphabet.Encode(text, row);
        for (int i = 0; i < row.Length; i++) tokens[i] = (byte)row[i];
    }
}
