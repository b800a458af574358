using Hrm.Runtime.Solver;

namespace Hrm.Runtime.Tests.Solver;

public sealed class PuzzleParsingTests
{
    private const string Hard =
        "8..........36......7..9.2...5...7.......457.....1...3...1....68..85...1..9....4..";

    [Fact]
    public void Sudoku_parses_dots_zeros_and_its_own_printout_in_every_size()
    {
        SudokuGrid g = SudokuGrid.Parse(Hard);
        Assert.Equal(9, g.Size);
        Assert.Equal(21, g.GivenCount);
        Assert.Equal(8, g[0, 0]);
        Assert.Equal(0, g[0, 1]);
        Assert.Equal(3, g[1, 2]);
        Assert.Equal(Hard, g.ToCompactString());
        Assert.Equal(Hard, SudokuGrid.Parse(g.ToString()).ToCompactString());
        Assert.Equal(Hard, SudokuGrid.Parse(Hard.Replace('.', '0')).ToCompactString());
        Assert.Equal(4, SudokuGrid.Parse("12.. 34.. .... ....").Size);
        Assert.Equal(6, SudokuGrid.Parse(new string('.', 36)).Size);
        Assert.Equal(Hard, SudokuGrid.FromDigits(g.ToDigits()).ToCompactString());
    }

    [Fact]
    public void Sudoku_errors_say_what_and_where()
    {
        PuzzleFormatException e = Assert.Throws<PuzzleFormatException>(() => SudokuGrid.Parse(Hard[..30] + "x" + Hard[31..]));
        Assert.Contains("'x' at index 30", e.Message, StringComparison.Ordinal);
        Assert.Contains("row 4, column 4", e.Message, StringComparison.Ordinal);
        Assert.Equal((4, 4), (e.Row, e.Column));
        e = Assert.Throws<PuzzleFormatException>(() => SudokuGrid.Parse(Hard[..79]));
        Assert.Contains("too few cells: found 79, a 9x9 grid has 81", e.Message, StringComparison.Ordinal);
        Assert.Null(e.Row);
        // A truncated 9x9 is read as a 6x6, whose digits end at 6: the count comes first in the message.
        e = Assert.Throws<PuzzleFormatException>(() => SudokuGrid.Parse(Hard[..30]));
        Assert.StartsWith("30 cells, where a Sudoku has 16, 36 or 81 (read as 6x6): ",
            e.Message, StringComparison.Ordinal);
        Assert.Contains("too many cells", Assert.Throws<PuzzleFormatException>(() => SudokuGrid.Parse(Hard + "12")).Message,
            StringComparison.Ordinal);
        e = Assert.Throws<PuzzleFormatException>(() => SudokuGrid.Parse("8" + Hard[1..8] + "8" + Hard[9..]));
        Assert.Contains("row 1 has 8 twice, at (row 1, column 1) and (row 1, column 9)", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<PuzzleFormatException>(() => SudokuGrid.Parse("5" + new string('.', 15)));
        Assert.Contains("out of range; digits are 1..4", e.Message, StringComparison.Ordinal);
        Assert.Equal((1, 1), (e.Row, e.Column));
        e = Assert.Throws<PuzzleFormatException>(() => SudokuGrid.FromDigits(new byte[15].Append((byte)7).ToArray()));
        Assert.Equal((4, 4), (e.Row, e.Column));
        Assert.Throws<ArgumentException>(() => SudokuGrid.FromDigits(new byte[20]));
        Assert.Throws<ArgumentOutOfRangeException>(() => SudokuGrid.Parse(Hard, 8));
    }

    [Fact]
    public void Maze_parses_open_dots_and_prints_back()
    {
        Maze m = Maze.Parse(TinyCheckpoint.Maze6);
        Assert.Equal(6, m.Side);
        Assert.Equal('S', m[0, 0]);
        Assert.Equal('#', m[0, 2]);
        Assert.Equal('G', m[3, 5]);
        Assert.Equal(TinyCheckpoint.Maze6.TrimEnd('\n'), m.ToString());
        Assert.Equal(m.ToString(), Maze.Parse(TinyCheckpoint.Maze6.Replace(' ', '.')).ToString());
        Assert.Equal(m.ToString(), Maze.Parse(TinyCheckpoint.Maze6.Replace("\n", "", StringComparison.Ordinal)).ToString());
    }

    [Fact]
    public void A_maze_whose_first_or_last_row_is_open_keeps_that_row()
    {
        string[] rows = TinyCheckpoint.Maze6.TrimEnd('\n').Split('\n');
        string lastOpen = string.Join('\n', rows[..5]) + "\n      \n";
        string firstOpen = "      \nS # # \n" + string.Join('\n', rows[2..]) + "\n"; // S moved down a row
        foreach ((string text, int openRow) in ((string, int)[])[
            (lastOpen, 5), (lastOpen.Replace("\n      \n", "\n\n", StringComparison.Ordinal), 5),
            (lastOpen + "\n\n", 5), (firstOpen, 0), ("\n\n" + firstOpen.TrimStart(' '), 0)])
        {
            Maze m = Maze.Parse(text);
            Assert.Equal(6, m.Side);
            Assert.Equal("      ", m.ToString().Split('\n')[openRow]);
        }
        var e = Assert.Throws<PuzzleFormatException>(() => Maze.Parse("\n" + string.Join('\n', rows[..5]) + "\n\n"));
        Assert.Contains("blank lines both before and after it", e.Message, StringComparison.Ordinal);
        Assert.Equal(TinyCheckpoint.Maze6.TrimEnd('\n'), Maze.Parse("\n\n" + TinyCheckpoint.Maze6 + "\n\n").ToString());
    }

    [Fact]
    public void Maze_errors_say_what_and_where()
    {
        PuzzleFormatException e = Assert.Throws<PuzzleFormatException>(() => Maze.Parse(TinyCheckpoint.Maze6.Remove(9, 1).Insert(9, "x")));
        Assert.Contains("row 2, column 3: 'x'", e.Message, StringComparison.Ordinal);
        Assert.Equal((2, 3), (e.Row, e.Column));
        Assert.Contains("has 2 starts and 0 goals; expected one of each",
            Assert.Throws<PuzzleFormatException>(() => Maze.Parse(TinyCheckpoint.Maze6.Replace("G", "S", StringComparison.Ordinal))).Message,
            StringComparison.Ordinal);
        Assert.Contains("n lines of n characters (or one line of n*n); got 3 lines of up to 4",
            Assert.Throws<PuzzleFormatException>(() => Maze.Parse("S  G\n#  #\n#  #\n")).Message, StringComparison.Ordinal);
    }
}
