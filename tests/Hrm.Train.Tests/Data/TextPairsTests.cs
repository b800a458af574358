using Hrm.Runtime.Formats;
using Hrm.Runtime.Numerics;
using Hrm.Runtime.Solver;
using Hrm.Train.Data;

namespace Hrm.Train.Tests.Data;

/// <summary>Datasets of a task of one's own from text pairs: the CSV, the rows written, groups and held-out
/// groups.</summary>
public sealed class TextPairsTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("hrm-pairs-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string P(string name) => Path.Combine(_dir.FullName, name);

    private string Csv(string name, string text)
    {
        File.WriteAllText(P(name), text);
        return P(name);
    }

    [Fact]
    public void The_csv_takes_a_header_quotes_groups_and_blank_lines_and_keeps_spaces()
    {
        List<TextPair> pairs = TextPairsCsv.Read(Csv("a.csv",
            "Input,Output,Group\n12,21,g\r\n\n\"3,4\",\"4,3\",g\n \"\"x, y ,\n5,5\n"));
        Assert.Equal(
            [new TextPair("12", "21", "g", 2), new TextPair("3,4", "4,3", "g", 4), new TextPair(" \"\"x", " y ", "", 5),
             new TextPair("5", "5", "", 6)],
            pairs);
        Assert.Single(TextPairsCsv.Read(Csv("b.csv", "ab,ba\n")));   // no header: line 1 is an example
        Assert.Equal([new TextPair("a,b", "", "", 2), new TextPair("c", "", "", 3)],
            TextPairsCsv.Read(Csv("c.csv", "input\n\"a,b\"\nc\n"), inputsOnly: true));
        HrmFormatException e = Assert.Throws<HrmFormatException>(() => TextPairsCsv.Read(P("c.csv")));
        Assert.Equal("line 1, row", e.Field);   // an input alone is no example of a dataset, nor its header
        e = Assert.Throws<HrmFormatException>(() => TextPairsCsv.Read(Csv("d.csv", "a\nb,c\n"), inputsOnly: true));
        Assert.Contains("has an output where line 1 has none", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ab\n", "line 1, row", "has 1 columns")]
    [InlineData("input,output\na,b,c,d\n", "line 2, row", "has 4 columns")]
    [InlineData("a,b\n,b\n", "line 2, input", "is empty")]
    [InlineData("a,\n", "line 1, output", "is empty")]
    [InlineData("a,b\n\"a,b\n", "line 2, row", "is not closed")]
    public void Malformed_csv_lines_are_named(string text, string field, string problem)
    {
        HrmFormatException e = Assert.Throws<HrmFormatException>(() => TextPairsCsv.Read(Csv("bad.csv", text)));
        Assert.Equal(field, e.Field);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
        Assert.Contains("bad.csv", e.Message, StringComparison.Ordinal);
        Assert.Throws<HrmFormatException>(() => TextPairsCsv.Read(P("none.csv")));
        Assert.Throws<HrmFormatException>(() => TextPairsCsv.Read(_dir.FullName));
    }

    [Fact]
    public void The_dataset_holds_the_texts_as_tokens_one_puzzle_an_example_and_groups_as_given()
    {
        string train = Csv("train.csv", "ab,ba,g1\nba,ab,g1\nabc,cba,\nc,c,g2\n");
        string test = Csv("test.csv", "cab,bac\n");
        TextAlphabet a = TextPairsBuilder.Build(P("data"), Source(train), Source(test), null, null);
        Assert.Equal("abc", a.Symbols);
        Assert.Equal(3, a.SeqLen);
        Assert.Equal(a.Symbols, TextAlphabet.Load(P("data")).Symbols);
        using (var ds = PuzzleDataset.Open(P("data"), "train"))
        {
            Assert.Equal((4, 4, 3), (ds.ExampleCount, ds.PuzzleCount, ds.GroupCount));
            Assert.Equal((5, 3, 0), (ds.Metadata.VocabSize, ds.Metadata.SeqLen, ds.Metadata.IgnoreLabelId));
            int[] x = new int[3], y = new int[3];
            ds.ReadExample(0, x, y);
            Assert.Equal([2, 3, 1], x);
            Assert.Equal([3, 2, 1], y);
            ds.ReadExample(3, x, y);
            Assert.Equal([4, 1, 0], x);
            Assert.Equal([4, 1, PuzzleDataset.IgnoreLabel], y);   // past the end marker: ignored by the loss
        }
        using (var ds = PuzzleDataset.Open(P("data"), "test")) Assert.Equal(1, ds.GroupCount);
        Assert.Equal("[\"<blank>\"]", File.ReadAllText(P("data/identifiers.json")));
        // An alphabet given in another order, and longer rows.
        TextAlphabet b = TextPairsBuilder.Build(P("data2"), Source(train), Source(test), "cbad", 5);
        Assert.Equal((6, 5), (b.VocabSize, b.SeqLen));
        using var ds2 = PuzzleDataset.Open(P("data2"), "train");
        int[] x2 = new int[5], y2 = new int[5];
        ds2.ReadExample(0, x2, y2);
        Assert.Equal([4, 3, 1, 0, 0], x2);
    }

    [Fact]
    public void Texts_the_alphabet_or_rows_cannot_hold_and_scattered_groups_are_named_by_file_and_line()
    {
        string train = Csv("train.csv", "ab,ba\nabc,cba\n");
        HrmFormatException e = Assert.Throws<HrmFormatException>(() =>
            TextPairsBuilder.Build(P("d1"), Source(train), Source(train, []), "ab", null));
        Assert.Equal("line 2, input", e.Field);
        Assert.Contains("'c' at position 3", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<HrmFormatException>(
            () => TextPairsBuilder.Build(P("d2"), Source(train), Source(train, []), null, 2));
        Assert.Equal("line 2", e.Field);
        Assert.Contains("--seq-len is 2", e.Message, StringComparison.Ordinal);
        string longTest = Csv("long.csv", "ab,ba\n" + new string('a', TextAlphabet.MaxSeqLen + 1) + ",a\n");
        e = Assert.Throws<HrmFormatException>(
            () => TextPairsBuilder.Build(P("d4"), Source(train), Source(longTest), null, null));
        Assert.Equal("line 2", e.Field);
        int max = TextAlphabet.MaxSeqLen;
        Assert.EndsWith($"has a text of {max + 1} characters; rows hold at most {max}", e.Message,
            StringComparison.Ordinal);
        Assert.Contains("long.csv", e.Message, StringComparison.Ordinal);
        string scattered = Csv("s.csv", "a,a,g\nb,b,h\nab,ab,g\n");
        e = Assert.Throws<HrmFormatException>(() => TextPairsBuilder.Groups(Source(scattered)));
        Assert.Equal("line 3, group", e.Field);
        Assert.Contains("'g' began at line 1", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(
            () => TextPairsBuilder.Build(P("d3"), Source(train, []), Source(train), null, null));
        Assert.False(Directory.Exists(P("d1")) || Directory.Exists(P("d2")) || Directory.Exists(P("d3")) ||
            Directory.Exists(P("d4")));
    }

    [Fact]
    public void Held_out_groups_move_whole_to_the_test_split_in_file_order_and_the_seed_decides_which()
    {
        string text = string.Concat(Enumerable.Range(0, 20).Select(i => $"{i % 7},{i % 7},g{i / 2}\n"));
        TextPairsSource all = Source(Csv("all.csv", text));
        (TextPairsSource train, TextPairsSource test) = TextPairsBuilder.HoldOut(all, 3, new HrmRandom(1));
        Assert.Equal((14, 6), (train.Pairs.Count, test.Pairs.Count));
        Assert.Equal(3, TextPairsBuilder.Groups(test).Count);
        Assert.Equal(all.Pairs, train.Pairs.Concat(test.Pairs).OrderBy(p => p.Line));
        Assert.True(test.Pairs.Zip(test.Pairs.Skip(1)).All(t => t.First.Line < t.Second.Line));
        Assert.Equal(test.Pairs, TextPairsBuilder.HoldOut(all, 3, new HrmRandom(1)).Test.Pairs);
        Assert.NotEqual(test.Pairs, TextPairsBuilder.HoldOut(all, 3, new HrmRandom(2)).Test.Pairs);
        Assert.Empty(TextPairsBuilder.HoldOut(all, 0, new HrmRandom(1)).Test.Pairs);
        Assert.Contains("has 10 groups", Assert.Throws<ArgumentException>(
            () => TextPairsBuilder.HoldOut(all, 10, new HrmRandom(1))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Relabelled_views_permute_the_symbols_of_a_whole_group_alike_and_leave_the_test_split_alone()
    {
        string train = Csv("train.csv", "ab-c,c-ba,g\nca,ac,g\nbb,bb,\n");
        string test = Csv("test.csv", "abc,cba\n");
        var relabel = new TextRelabel("abc", 3, Seed: 5);
        TextAlphabet a = TextPairsBuilder.Build(P("aug"), Source(train), Source(test), null, null, relabel);
        Assert.Equal("-abc", a.Symbols);
        using (var ds = PuzzleDataset.Open(P("aug"), "train"))
        {
            Assert.Equal((2, 12, 12), (ds.GroupCount, ds.PuzzleCount, ds.ExampleCount));   // (2 + 1) rows x 4 views
            int[] x = new int[4], y = new int[4];
            string Text(int[] row) => a.Decode(row, out _);
            var views = new List<(string, string)>();
            for (int e = 0; e < 8; e++)
            {
                ds.ReadExample(e, x, y);
                views.Add((Text(x), Text(y)));
            }
            Assert.Equal(("ab-c", "c-ba"), views[0]);
            Assert.Equal(("ca", "ac"), views[1]);
            for (int v = 1; v < 4; v++)
            {
                (string input, string output) = views[2 * v];
                Assert.Equal('-', input[2]);
                Assert.Equal(new string([.. input.Reverse()]), output);   // a reversal stays a reversal
                Assert.Equal("abc", string.Concat(input.Where(char.IsLetter).Order()));
                // The group's second row under the same permutation: c -> input[3], a -> input[0].
                Assert.Equal(string.Concat(input[3], input[0]), views[2 * v + 1].Item1);
            }
            Assert.True(views.Skip(2).Where((_, i) => i % 2 == 0).Distinct().Count() > 1);
        }
        using (var ds = PuzzleDataset.Open(P("aug"), "test")) Assert.Equal(1, ds.ExampleCount);
        TextPairsBuilder.Build(P("aug2"), Source(train), Source(test), null, null, relabel);
        foreach (string f in Directory.GetFiles(P("aug"), "*.npy", SearchOption.AllDirectories))
        {
            Assert.Equal(File.ReadAllBytes(f),
                File.ReadAllBytes(f.Replace(P("aug"), P("aug2"), StringComparison.Ordinal)));
        }
        TextPairsBuilder.Build(P("aug3"), Source(train), Source(test), null, null, relabel with { Seed = 6 });
        Assert.NotEqual(File.ReadAllBytes(P("aug/train/all__inputs.npy")),
            File.ReadAllBytes(P("aug3/train/all__inputs.npy")));
        foreach ((string symbols, string problem) in (ReadOnlySpan<(string, string)>)
            [("ax", "'x' is not in the alphabet"), ("aba", "'a' twice"), ("a", "a permutation needs 2")])
        {
            ArgumentException e = Assert.Throws<ArgumentException>(() => TextPairsBuilder.Build(P("bad"), Source(train),
                Source(test), null, null, new TextRelabel(symbols, 2, 1)));
            Assert.Contains(problem, e.Message, StringComparison.Ordinal);
        }
        Assert.False(Directory.Exists(P("bad")));
    }

    [Fact]
    public void Puzzle_ids_make_each_group_one_named_puzzle_whose_test_rows_share_its_identifier()
    {
        string train = Csv("train.csv", "ab,ba,t1\nba,ab,t1\nab,aa,t2\nb,a,t2\naa,bb,t3\n");
        string test = Csv("test.csv", "bb,aa,t2\nab,ba,t1\nbab,bab,t1\n");
        TextPairsBuilder.Build(P("ids"), Source(train), Source(test), null, null, puzzleIds: true);
        Assert.Equal("[\"<blank>\", \"t1\", \"t2\", \"t3\"]", File.ReadAllText(P("ids/identifiers.json")));
        using (var ds = PuzzleDataset.Open(P("ids"), "train"))
        {
            Assert.Equal((3, 3, 5, 4), (ds.GroupCount, ds.PuzzleCount, ds.ExampleCount,
                ds.Metadata.NumPuzzleIdentifiers));
            Assert.Equal([1, 2, 3], ds.PuzzleIdentifiers.ToArray());
            Assert.Equal([0, 2, 4, 5], ds.PuzzleIndices.ToArray());   // a group's rows are one puzzle's examples
        }
        using (var ds = PuzzleDataset.Open(P("ids"), "test"))
        {
            Assert.Equal([2, 1], ds.PuzzleIdentifiers.ToArray());
            Assert.Equal([0, 1, 3], ds.PuzzleIndices.ToArray());
        }
        HrmFormatException e = Assert.Throws<HrmFormatException>(() => TextPairsBuilder.Build(P("bad1"),
            Source(train), Source(Csv("t2.csv", "ab,ba,t4\n")), null, null, puzzleIds: true));
        Assert.Equal("line 1, group", e.Field);
        Assert.Contains("'t4' has no train rows", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<HrmFormatException>(() => TextPairsBuilder.Build(P("bad2"),
            Source(Csv("t3.csv", "ab,ba,t1\nab,ba\n")), Source(test), null, null, puzzleIds: true));
        Assert.Equal("line 2, group", e.Field);
        ArgumentException a = Assert.Throws<ArgumentException>(() => TextPairsBuilder.Build(P("bad3"), Source(train),
            Source(test), null, null, new TextRelabel("ab", 2, 1), puzzleIds: true));
        Assert.Contains("\"ab\" has only 1 relabellings besides the original", a.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(P("bad1")) || Directory.Exists(P("bad2")) || Directory.Exists(P("bad3")));
    }

    [Fact]
    public void Puzzle_ids_with_relabel_make_each_view_a_named_puzzle_of_its_group()
    {
        string train = Csv("train.csv", "ab-c,c-ba,t1\nca,ac,t1\nab,aa,t2\nb,c,t2\naa,bb,t3\n");
        string test = Csv("test.csv", "bb,aa,t2\ncab,bac,t1\n");
        TextAlphabet alphabet = TextPairsBuilder.Build(P("v"), Source(train), Source(test), null, null,
            new TextRelabel("abc", 3, 9), puzzleIds: true);
        string[] names = [.. System.Text.Json.JsonSerializer.Deserialize<string[]>(
            File.ReadAllText(P("v/identifiers.json")))!];
        Assert.Equal(13, names.Length);   // <blank>, then each group and its 3 views
        TextViews views = TextViews.FromNames(names, "identifiers.json");
        Assert.Equal((3, 4), (views.Count, views.ViewCount));
        using (var ds = PuzzleDataset.Open(P("v"), "train"))
        {
            Assert.Equal((3, 12, 20, 13), (ds.GroupCount, ds.PuzzleCount, ds.ExampleCount,
                ds.Metadata.NumPuzzleIdentifiers));
            Assert.Equal(Enumerable.Range(1, 12), ds.PuzzleIdentifiers.ToArray());
            Assert.Equal([0, 2, 4, 6, 8, 10, 12, 14, 16, 17, 18, 19, 20], ds.PuzzleIndices.ToArray());
            Assert.Equal([0, 4, 8, 12], ds.GroupIndices.ToArray());   // a group: its original, then its views
            int[] x = new int[alphabet.SeqLen], y = new int[alphabet.SeqLen];
            TextPair[] originals = [.. TextPairsCsv.Read(train)];
            int row = 0, puzzle = 0;
            foreach ((string group, int start, int count) in (ReadOnlySpan<(string, int, int)>)
                [("t1", 0, 2), ("t2", 2, 2), ("t3", 4, 1)])
            {
                IReadOnlyList<TextView> of = views.Of(group)!;
                Assert.Equal(4, of.Count);
                Assert.True(of[0].IsOriginal);
                // Each view new and none the identity.
                Assert.Equal(3, of.Skip(1).Select(v => v.To).Distinct().Count(v => v != "abc"));
                foreach (TextView v in of)
                {
                    Assert.Equal(ds.PuzzleIdentifiers[puzzle++], v.PuzzleIdentifier);
                    Assert.Equal(v.Name(group), names[v.PuzzleIdentifier]);
                    for (int i = start; i < start + count; i++)
                    {
                        ds.ReadExample(row++, x, y);
                        Assert.Equal((v.Apply(originals[i].Input), v.Apply(originals[i].Output)),
                            (alphabet.Decode(x, out _), alphabet.Decode(y, out _)));
                    }
                }
            }
        }
        using (var ds = PuzzleDataset.Open(P("v"), "test"))   // the originals' identifiers, the rows as written
        {
            Assert.Equal([views.Of("t2")![0].PuzzleIdentifier, views.Of("t1")![0].PuzzleIdentifier],
                ds.PuzzleIdentifiers.ToArray());
        }
        // "ab" has one relabelling besides the original: every group's one view is it.
        TextPairsBuilder.Build(P("ab"), Source(train), Source(test), null, null, new TextRelabel("ab", 1, 3), true);
        TextViews ab = TextViews.FromNames(System.Text.Json.JsonSerializer.Deserialize<string[]>(
            File.ReadAllText(P("ab/identifiers.json")))!, "identifiers.json");
        foreach (string g in (string[])["t1", "t2", "t3"]) Assert.Equal("ba", ab.Of(g)![1].To);
        HrmFormatException e = Assert.Throws<HrmFormatException>(() => TextPairsBuilder.Build(P("bad"),
            Source(Csv("bar.csv", "ab,ba,t|1\n")), Source(test), null, null, new TextRelabel("ab", 1, 1), true));
        Assert.Equal("line 1, group", e.Field);
        Assert.False(Directory.Exists(P("bad")));
    }

    private static TextPairsSource Source(string path) => new(path, TextPairsCsv.Read(path));

    private static TextPairsSource Source(string path, TextPair[] pairs) => new(path, pairs);
}
