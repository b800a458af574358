using Hrm.Runtime.Formats;
using Hrm.Runtime.Solver;

namespace Hrm.Runtime.Tests.Solver;

/// <summary>Text inputs as token rows and back (<see cref="TextAlphabet"/>), and alphabet.json.</summary>
public sealed class TextAlphabetTests
{
    [Fact]
    public void Texts_become_symbols_then_an_end_marker_then_padding_and_decode_back()
    {
        TextAlphabet a = TextAlphabet.Create("xyz+", 6);
        Assert.Equal(6, a.VocabSize);
        Assert.Equal([3, 4, 2, 1, 0, 0], a.Encode("yzx"));
        Assert.Equal([4, 4, 4, 4, 4, 4], a.Encode("zzzzzz"));   // a full row: no end marker
        Assert.Equal([3, 1, 0, 0, 0, 0], a.Encode("y"));
        Assert.Equal("yzx", a.Decode(a.Encode("yzx"), out string? problem));
        Assert.Null(problem);
        Assert.Equal("zzzzzz", a.Decode(a.Encode("zzzzzz"), out problem));
        Assert.Null(problem);
        Assert.Equal("x+", a.Decode([2, 5, 1, 3, 0, 4], out problem));   // whatever follows the end is not read
        Assert.Null(problem);
        Assert.Equal(2, a.TokenOf('x'));
        Assert.Equal(-1, a.TokenOf('w'));
    }

    [Fact]
    public void Rows_the_model_wrote_badly_are_decoded_with_the_problem_named()
    {
        TextAlphabet a = TextAlphabet.Create("ab", 4);
        Assert.Equal("a?b", a.Decode([2, 0, 3, 1], out string? problem));
        Assert.Equal("position 2 is the padding token, before the end marker", problem);
        Assert.Equal("", a.Decode([1, 2, 2, 2], out problem));
        Assert.Equal("the row ends before its first symbol", problem);
        Assert.Equal("?", a.Decode([9, 1, 0, 0], out problem));
        Assert.Contains("position 1 is token 9, outside the vocabulary of 4", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Inputs_that_do_not_fit_are_refused_with_what_and_where()
    {
        TextAlphabet a = TextAlphabet.Create("01", 4);
        Assert.Contains("'2' at position 3", Assert.Throws<PuzzleFormatException>(() => a.Encode("012")).Message,
            StringComparison.Ordinal);
        Assert.Contains("has 5 characters; the rows of this alphabet hold 4",
            Assert.Throws<PuzzleFormatException>(() => a.Encode("01010")).Message, StringComparison.Ordinal);
        Assert.Contains("empty", Assert.Throws<PuzzleFormatException>(() => a.Encode("")).Message,
            StringComparison.Ordinal);
        Assert.Contains("U+0009 at position 2", Assert.Throws<PuzzleFormatException>(() => TextPuzzle.Parse("0\t", a))
            .Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Alphabets_are_refused_when_a_symbol_repeats_is_unprintable_or_there_are_too_many()
    {
        Assert.Contains("has 'a' twice (positions 1 and 3)",
            Assert.Throws<ArgumentException>(() => TextAlphabet.Create("aba", 4)).Message, StringComparison.Ordinal);
        Assert.Contains("U+0000 at position 2",
            Assert.Throws<ArgumentException>(() => TextAlphabet.Create("a\0", 4)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => TextAlphabet.Create("", 4));
        string many = string.Concat(Enumerable.Range(0, 255).Select(i => (char)(0x100 + i)));
        Assert.Contains("has 255 characters; at most 254",
            Assert.Throws<ArgumentException>(() => TextAlphabet.Create(many, 4)).Message, StringComparison.Ordinal);
        Assert.Equal(256, TextAlphabet.Create(many[..254], 4).VocabSize);
        Assert.Throws<ArgumentOutOfRangeException>(() => TextAlphabet.Create("a", 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => TextAlphabet.Create("a", TextAlphabet.MaxSeqLen + 1));
        Assert.Equal(" -09AZaz", TextAlphabet.SymbolsOf(["za", "A9Z", "0- "]));
    }

    [Fact]
    public void Alphabet_json_round_trips_every_symbol_and_names_what_is_wrong()
    {
        TextAlphabet a = TextAlphabet.Create("\"\\,<é中 a", 12);
        string json = a.ToJson();
        Assert.True(json.All(char.IsAscii), json);
        TextAlphabet back = TextAlphabet.Parse(json);
        Assert.Equal(a.Symbols, back.Symbols);
        Assert.Equal(12, back.SeqLen);
        const string Head = "{\"pad_id\": 0, \"end_id\": 1, \"first_symbol_id\": 2, ";
        (string Json, string Field)[] bad =
        [
            ("[1]", "json"),
            ("{\"pad_id\": 0, \"end_id\": 1, \"first_symbol_id\": 2, \"seq_len\": 4}", "symbols"),
            ("{\"pad_id\": 0, \"end_id\": 2, \"first_symbol_id\": 2, \"seq_len\": 4, \"symbols\": [\"a\"]}", "end_id"),
            ("{\"pad_id\": 0, \"end_id\": 1, \"first_symbol_id\": 2, \"seq_len\": 0, \"symbols\": [\"a\"]}", "seq_len"),
            (Head + "\"seq_len\": 4, \"symbols\": [\"ab\"]}", "symbols[0]"),
            (Head + "\"seq_len\": 4, \"symbols\": [\"a\", 3]}", "symbols[1]"),
            (Head + "\"seq_len\": 4, \"symbols\": [\"a\", \"a\"]}", "symbols"),
            (Head + "\"seq_len\": \"4\", \"symbols\": [\"a\"]}", "seq_len"),
            (Head + "\"seq_len\": 4, \"symbols\": [\"\\ud800\"]}", "symbols[0]"),
            ("{\"pad_id\": 0,", "json"),
        ];
        foreach ((string json2, string field) in bad)
            Assert.Equal(field, Assert.Throws<HrmFormatException>(() => TextAlphabet.Parse(json2, "x.json")).Field);
    }

    [Fact]
    public void Alphabets_are_saved_atomically_and_found_next_to_a_checkpoint()
    {
        DirectoryInfo dir = Directory.CreateTempSubdirectory("hrm-alphabet-");
        try
        {
            string ckpt = Path.Combine(dir.FullName, "model.safetensors");
            File.WriteAllBytes(ckpt, [1, 2, 3]);
            HrmFormatException missing = Assert.Throws<HrmFormatException>(() => TextAlphabet.FindFor(ckpt));
            Assert.Contains("--alphabet", missing.Message, StringComparison.Ordinal);
            TextAlphabet.Create("ab", 3).Save(Path.Combine(dir.FullName, TextAlphabet.FileName));
            Assert.Equal(["alphabet.json", "model.safetensors"], dir.GetFiles().Select(f => f.Name).Order());
            Assert.Equal("ab", TextAlphabet.FindFor(ckpt).Symbols);
            Assert.Equal("ab", TextAlphabet.FindFor(dir.FullName).Symbols);
            Assert.Equal(3, TextAlphabet.Load(dir.FullName).SeqLen);
            Assert.Throws<HrmFormatException>(() => TextAlphabet.Load(Path.Combine(dir.FullName, "none.json")));
            Assert.Throws<HrmFormatException>(() => TextAlphabet.FindFor(Path.Combine(dir.FullName, "none")));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
