using Hrm.Runtime.Puzzles;
using Hrm.Runtime.Solver;
using Hrm.Train.Data;
using static Hrm.Train.Tests.Data.SudokuTestData;

namespace Hrm.Train.Tests.Data;

public sealed class SudokuTextTests
{
    [Fact]
    public void Parses_dots_zeros_and_separators_and_round_trips_the_pretty_print()
    {
        byte[] a = SudokuText.Parse(Hard);
        byte[] b = SudokuText.Parse(Hard.Replace('.', '0'));
        Assert.Equal(a, b);
        string pretty = SudokuText.Format(a);
        Assert.StartsWith("8 . . | . . . | . . .\n. . 3 | 6 . . | . . .", pretty, StringComparison.Ordinal);
        Assert.Contains("------+-------+------", pretty, StringComparison.Ordinal);
        Assert.Equal(a, SudokuText.Parse(pretty));
        Assert.Equal(a, SudokuText.Parse(pretty.Replace("\n", "\r\n", StringComparison.Ordinal)));
    }

    [Fact]
    public void Small_boards_format_with_their_box_shape()
    {
        byte[] four = SudokuText.Parse("12.. 34.. .... ....", 4);
        Assert.Equal("1 2 | . .\n3 4 | . .\n----+----\n. . | . .\n. . | . .", SudokuText.Format(four));
        byte[] six = new byte[36];
        string pretty6 = SudokuText.Format(six);
        Assert.Equal(". . . | . . .", pretty6.Split('\n')[0]);
        Assert.Equal("------+------", pretty6.Split('\n')[2]);
        Assert.Equal(six, SudokuText.Parse(pretty6, 6));
    }

    [Fact]
    public void Errors_say_what_and_where()
    {
        string bad = Hard[..20] + "x" + Hard[21..];
        string m = Assert.Throws<PuzzleFormatException>(() => SudokuText.Parse(bad)).Message;
        Assert.Contains("'x'", m, StringComparison.Ordinal);
        Assert.Contains("index 20", m, StringComparison.Ordinal);
        Assert.Contains("row 3, column 3", m, StringComparison.Ordinal);
        Assert.Contains("too few cells: found 80",
            Assert.Throws<PuzzleFormatException>(() => SudokuText.Parse(Hard[..80])).Message, StringComparison.Ordinal);
        Assert.Contains("too many cells",
            Assert.Throws<PuzzleFormatException>(() => SudokuText.Parse(Hard + "1")).Message, StringComparison.Ordinal);
        Assert.Contains("out of range; digits are 1..4",
            Assert.Throws<PuzzleFormatException>(() => SudokuText.Parse("1234" + "5..." + "........", 4)).Message,
            StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 5, "row 1 has 7 twice")]
    [InlineData(0, 45, "column 1 has 7 twice")]
    [InlineData(0, 20, "box 1 (rows 1-3, columns 1-3) has 7 twice")]
    public void Duplicate_givens_name_the_unit(int first, int second, string expected)
    {
        char[] cells = new string('.', 81).ToCharArray();
        cells[first] = cells[second] = '7';
        string m = Assert.Throws<PuzzleFormatException>(() => SudokuText.Parse(new string(cells))).Message;
        Assert.Contains(expected, m, StringComparison.Ordinal);
    }

    [Fact]
    public void Board_helpers_encode_tokens_and_check_solutions()
    {
        Assert.Equal((3, 3), SudokuBoard.BoxShape(9));
        Assert.Equal((2, 3), SudokuBoard.BoxShape(6));
        Assert.Equal((2, 2), SudokuBoard.BoxShape(4));
        Assert.Equal(11, SudokuBoard.VocabSize(9));
        Assert.Equal(6, SudokuBoard.SizeFromCells(36));
        byte[] tokens = SudokuBoard.ToTokens(Digits(Hard));
        Assert.Equal(9, tokens[0]);
        Assert.Equal(SudokuBoard.BlankToken, tokens[1]);
        byte[] back = new byte[81];
        SudokuBoard.FromTokens(tokens.Select(t => (int)t).ToArray(), back);
        Assert.Equal(Digits(Hard), back);
        Assert.Throws<ArgumentException>(() => SudokuBoard.FromTokens(new int[81], back));
        Assert.True(SudokuBoard.IsValidSolution(Digits(HardSolution), Digits(Hard)));
        Assert.False(SudokuBoard.IsValidSolution(Digits(EasySolution), Digits(Hard)));
        byte[] swapped = Digits(HardSolution);
        (swapped[0], swapped[1]) = (swapped[1], swapped[0]);
        Assert.False(SudokuBoard.IsValidSolution(swapped, []));
        Assert.False(SudokuBoard.IsValidSolution(Digits(Hard), []));
        Assert.Equal(21, SudokuBoard.CountGivens(Digits(Hard)));
    }
}
