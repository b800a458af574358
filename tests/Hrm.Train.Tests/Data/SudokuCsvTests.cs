using Hrm.Runtime.Formats;
using Hrm.Train.Data;
using static Hrm.Train.Tests.Data.SudokuTestData;

namespace Hrm.Train.Tests.Data;

public sealed class SudokuCsvTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("hrm-csv-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string P(string name) => Path.Combine(_dir.FullName, name);

    private string WriteRows(params string[] rows)
    {
        string path = P("data.csv");
        File.WriteAllText(path, "source,question,answer,rating\n" + string.Join("\n", rows) + "\n");
        return path;
    }

    [Fact]
    public void Reads_the_reference_layout_with_quotes_zero_blanks_and_crlf()
    {
        string path = P("ref.csv");
        File.WriteAllText(path,
            "source,question,answer,rating\r\n" +
            $"tdoku,{Hard},{HardSolution},172\r\n" +
            $"\"forum, \"\"hardest\"\"\",\"{Easy.Replace('.', '0')}\",{EasySolution},\"0\"\r\n");
        List<SudokuRecord> rows = SudokuCsv.Read(path);
        Assert.Equal(2, rows.Count);
        Assert.Equal("tdoku", rows[0].Source);
        Assert.Equal(Digits(Hard), rows[0].Puzzle);
        Assert.Equal(Digits(HardSolution), rows[0].Solution);
        Assert.Equal(172, rows[0].Rating);
        Assert.Equal("forum, \"hardest\"", rows[1].Source);
        Assert.Equal(Digits(Easy), rows[1].Puzzle);
        Assert.Equal(0, rows[1].Rating);
    }

    [Fact]
    public void Round_trips()
    {
        SudokuRecord[] records =
        [
            Record(Hard, HardSolution, 172, "a,b"), Record(Easy, EasySolution, 0, "quote\"d"),
            Record(Hard2, Hard2Solution, 25, ""),
        ];
        SudokuCsv.Write(P("out.csv"), records);
        List<SudokuRecord> back = SudokuCsv.Read(P("out.csv"));
        Assert.Equal(records.Length, back.Count);
        for (int i = 0; i < records.Length; i++)
        {
            Assert.Equal(records[i].Puzzle, back[i].Puzzle);
            Assert.Equal(records[i].Solution, back[i].Solution);
            Assert.Equal(records[i].Rating, back[i].Rating);
            Assert.Equal(records[i].Source, back[i].Source);
        }
        Assert.StartsWith(SudokuCsv.Header + "\n", File.ReadAllText(P("out.csv")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("x," + Hard + "," + HardSolution, "line 3, row", "3 columns")]
    [InlineData("x," + Hard + "," + HardSolution + ",1,extra", "line 3, row", "5 columns")]
    [InlineData("x," + Hard + "." + "," + HardSolution + ",1", "line 3, question", "82 characters")]
    [InlineData("x,8x" + ".........36......7..9.2...5...7.......457.....1...3...1....68..85...1..9....4.." + "," + HardSolution + ",1",
        "line 3, question", "character 'x' at position 2 (row 1, column 2)")]
    [InlineData("x," + Hard + "," + "81275364." + "943682175675491283154237896369845721287169534521974368438526917796318452" + ",1",
        "line 3, answer", "character '.' at position 9")]
    [InlineData("x," + Hard + "," + EasySolution + ",1", "line 3, answer", "does not solve the question")]
    [InlineData("x," + Hard + "," + HardSolution + ",hard", "line 3, rating", "'hard' is not an integer")]
    [InlineData("\"x," + Hard + "," + HardSolution + ",1", "line 3, row", "not closed")]
    public void Malformed_rows_name_the_file_line_and_problem(string badRow, string field, string problem)
    {
        string path = WriteRows($"ok,{Easy},{EasySolution},0", badRow);
        var e = Assert.Throws<HrmFormatException>(() => SudokuCsv.Read(path));
        Assert.Equal(path, e.Path);
        Assert.Equal(field, e.Field);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Answer_breaking_the_rules_is_rejected_even_if_it_matches_the_givens()
    {
        char[] answer = HardSolution.ToCharArray();
        (answer[1], answer[2]) = (answer[2], answer[1]); // cells 2 and 3 of row 1 are blank in the puzzle
        string path = WriteRows($"x,{Hard},{new string(answer)},1");
        var e = Assert.Throws<HrmFormatException>(() => SudokuCsv.Read(path));
        Assert.Contains("twice", e.Message, StringComparison.Ordinal);
        Assert.Equal("line 2, answer", e.Field);
    }

    [Fact]
    public void Filter_and_subsample_are_plain_and_seeded()
    {
        var records = Enumerable.Range(0, 50).Select(i => Record(Easy, EasySolution, i, $"s{i}")).ToList();
        Assert.Equal(Enumerable.Range(30, 20), SudokuRecords.FilterMinRating(records, 30).Select(r => r.Rating));
        List<SudokuRecord> a = SudokuRecords.Subsample(records, 10, new(3));
        List<SudokuRecord> b = SudokuRecords.Subsample(records, 10, new(3));
        Assert.Equal(10, a.Select(r => r.Rating).Distinct().Count());
        Assert.Equal(a.Select(r => r.Rating), b.Select(r => r.Rating));
        Assert.NotEqual(a.Select(r => r.Rating), SudokuRecords.Subsample(records, 10, new(4)).Select(r => r.Rating));
        Assert.Equal(records, SudokuRecords.Subsample(records, 50, new(3)));
        Assert.Equal(records, SudokuRecords.Subsample(records, 80, new(3)));
    }
}
