using System.Text;
using Hrm.Runtime.Formats;

namespace Hrm.Runtime.Tests.Formats;

/// <summary><see cref="TextLines"/>: the lines <see cref="File.ReadLines(string)"/> gives, with a cap on a line's
/// length that is an error naming the file and the line.</summary>
public sealed class TextLinesTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Lines_are_those_of_File_ReadLines(int seed)
    {
        using var dir = new TempDir();
        var rng = new Random(seed);
        string[] ends = ["\n", "\r", "\r\n", "\n\n", "\r\r\n"];
        var text = new StringBuilder();
        if (seed % 2 == 0) text.Append('\uFEFF'); // a byte order mark: dropped by both
        // Lines around the reader's 32K-character buffer, so that some "\r\n" pairs straddle a refill.
        for (int i = 0; i < 60; i++)
        {
            int length = rng.Next(4) == 0 ? rng.Next(32_760, 32_780) : rng.Next(0, 300);
            for (int c = 0; c < length; c++) text.Append((char)rng.Next('a', 'z' + 1));
            if (rng.Next(3) == 0) text.Append("é€"); // several UTF-8 bytes a character
            if (i < 59 || seed > 2) text.Append(ends[rng.Next(ends.Length)]);
        }
        string path = dir.Write("t.txt", new UTF8Encoding(false).GetBytes(text.ToString()));
        Assert.Equal(File.ReadLines(path), TextLines.Read(path, "test file"));
    }

    [Fact]
    public void A_cr_at_a_buffer_end_and_its_lf_after_the_refill_end_one_line()
    {
        using var dir = new TempDir();
        string first = new('x', TextLines.BufferChars - 1); // its '\r' ends a read, the '\n' opens the next
        string path = dir.Write("t.txt", Encoding.ASCII.GetBytes(first + "\r\nsecond\r\n\r\nfourth"));
        Assert.Equal([first, "second", "", "fourth"], TextLines.Read(path, "test file"));
        Assert.Equal(File.ReadLines(path), TextLines.Read(path, "test file"));
    }

    [Theory]
    [InlineData("a\r")]
    [InlineData("\r")]
    [InlineData("a\r\r")]
    [InlineData("\n\n")]
    [InlineData("a\rb\n\rc")]
    public void Endings_at_the_end_of_the_file_are_those_of_File_ReadLines(string text)
    {
        using var dir = new TempDir();
        string path = dir.Write("t.txt", Encoding.ASCII.GetBytes(text));
        Assert.Equal(File.ReadLines(path), TextLines.Read(path, "test file"));
        // The same with the '\r' as the last character of a read and of the file.
        path = dir.Write("u.txt", Encoding.ASCII.GetBytes(new string('y', TextLines.BufferChars - 1) + text));
        Assert.Equal(File.ReadLines(path), TextLines.Read(path, "test file"));
    }

    [Fact]
    public void Utf16_with_a_byte_order_mark_is_read_as_File_ReadLines_reads_it()
    {
        using var dir = new TempDir();
        foreach (Encoding enc in (Encoding[])[Encoding.Unicode, Encoding.BigEndianUnicode])
        {
            string path = dir.Write("t.txt", [.. enc.GetPreamble(), .. enc.GetBytes("one\r\ntwo é€\nthree")]);
            Assert.Equal(["one", "two é€", "three"], TextLines.Read(path, "test file"));
            Assert.Equal(File.ReadLines(path), TextLines.Read(path, "test file"));
        }
    }

    [Fact]
    public void A_line_longer_than_the_cap_is_named_with_its_number()
    {
        using var dir = new TempDir();
        string path = dir.Write("t.txt", Encoding.ASCII.GetBytes("ab\r\ncd\n" + new string('7', 100_001) + "\nend\n"));
        var e = Assert.Throws<HrmFormatException>(() => TextLines.Read(path, "puzzle file", 100_000).ToList());
        Assert.Equal($"{path}: line 3: longer than 100,000 characters: not a puzzle file (its lines are far shorter)",
            e.Message);
        // The lines before it come out; a line of exactly the cap is allowed.
        Assert.Equal(["ab", "cd"], TextLines.Read(path, "puzzle file", 100_000).Take(2));
        Assert.Equal(4, TextLines.Read(path, "puzzle file", 100_001).Count());
    }

    [Fact]
    public void A_missing_file_fails_when_read_is_called()
    {
        using var dir = new TempDir();
        Assert.Throws<FileNotFoundException>(() => TextLines.Read(dir.File("none.txt"), "test file"));
        Assert.Empty(TextLines.Read(dir.Write("empty.txt", []), "test file"));
    }
}
