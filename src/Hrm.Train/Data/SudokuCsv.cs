using System.Globalization;
using System.Text;
using Hrm.Runtime.Formats;
using Hrm.Runtime.Puzzles;

namespace Hrm.Train.Data;

/// <summary>
/// The reference's Sudoku CSV (spec 5.2, <c>sapientinc/sudoku-extreme</c>): a header row, which is skipped,
/// then four positional columns source, question, answer, rating. question is 81 characters, '.' or '0' for
/// a blank; answer is 81 digits 1-9 that must solve the question; rating is an integer. A field may be
/// wrapped in double quotes (with "" for a literal quote). Empty lines are skipped.
/// </summary>
public static class SudokuCsv
{
    /// <summary>The header row <see cref="Write"/> emits.</summary>
    public const string Header = "source,question,answer,rating";

    private const int Cells = 81;

    /// <summary>Reads every row of <paramref name="path"/>.</summary>
    /// <param name="path">The CSV file.</param>
    /// <returns>The records in file order.</returns>
    /// <exception cref="HrmFormatException">
    /// A malformed row; the message names the file, the line and the problem.
    /// </exception>
    public static List<SudokuRecord> Read(string path) => [.. Enumerate(path)];

    /// <summary>Streams the rows of <paramref name="path"/> one at a time (for very large files).</summary>
    /// <param name="path">The CSV file.</param>
    /// <returns>The records in file order, validated as they are read.</returns>
    /// <exception cref="HrmFormatException">A malformed row.</exception>
    public static IEnumerable<SudokuRecord> Enumerate(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return EnumerateCore(path);
    }

    /// <summary>Writes records in the same layout (header, then source, question with '.', answer, rating).</summary>
    /// <param name="path">The destination, replaced atomically.</param>
    /// <param name="records">9x9 records.</param>
    public static void Write(string path, IEnumerable<SudokuRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        using var file = new AtomicFileWriter(path);
        using (var writer = new StreamWriter(file.Stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true))
        {
            writer.NewLine = "\n";
            writer.WriteLine(Header);
            foreach (SudokuRecord r in records)
            {
                if (r.Puzzle.Length != Cells || r.Solution.Length != Cells)
                    throw new ArgumentException("the Sudoku CSV holds 9x9 puzzles only", nameof(records));
                writer.Write(Quote(r.Source));
                writer.Write(',');
                foreach (byte d in r.Puzzle) writer.Write(d == 0 ? '.' : (char)('0' + d));
                writer.Write(',');
                foreach (byte d in r.Solution) writer.Write((char)('0' + d));
                writer.Write(',');
                writer.WriteLine(r.Rating.ToString(CultureInfo.InvariantCulture));
            }
        }
        file.Commit();
    }

    private static IEnumerable<SudokuRecord> EnumerateCore(string path)
    {
        var fields = new List<string>(4);
        int line = 0;
        foreach (string text in TextLines.Read(path, "Sudoku CSV"))
        {
            line++;
            // The header is line 1, whatever it holds, as the reference's builder reads it (csv.reader, next(reader)),
            // except a puzzle row there: skipping it would lose a puzzle without a word.
            if (line == 1 && IsRow(text, fields)) throw HeaderIsARow(path, Header, "puzzle");
            if (line == 1 || text.Length == 0) continue;
            yield return ParseRow(path, line, text, fields);
        }
    }

    /// <summary>Whether a line splits into 4 columns with an 81-character question and answer (a puzzle row; a
    /// header has column names there).</summary>
    private static bool IsRow(string text, List<string> fields) =>
        Split(text, fields) is null && fields.Count == 4 && fields[1].Length == Cells && fields[2].Length == Cells;

    /// <summary>The error for a CSV whose line 1 is a <paramref name="what"/> row where the header belongs.</summary>
    internal static HrmFormatException HeaderIsARow(string path, string header, string what) =>
        Error(path, 1, "header", $"is a {what} row: line 1 is the header, skipped as the reference's builder skips " +
            $"it, so this {what} would be lost; add a header line first ({header})");

    private static SudokuRecord ParseRow(string path, int line, string text, List<string> fields)
    {
        string? splitError = Split(text, fields);
        if (splitError is not null) throw Error(path, line, "row", splitError);
        if (fields.Count != 4)
        {
            throw Error(path, line, "row",
                $"has {fields.Count} columns; expected 4 (source, question, answer, rating)");
        }
        byte[] puzzle = Grid(path, line, "question", fields[1], blanks: true);
        byte[] solution = Grid(path, line, "answer", fields[2], blanks: false);
        string ratingText = fields[3].Trim();
        if (!int.TryParse(ratingText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int rating))
            throw Error(path, line, "rating", $"'{fields[3]}' is not an integer");
        string? wrong = SudokuBoard.FindSolutionError(solution, puzzle);
        if (wrong is not null) throw Error(path, line, "answer", $"does not solve the question: {wrong}");
        return new SudokuRecord(puzzle, solution, rating, fields[0]);
    }

    private static byte[] Grid(string path, int line, string column, string field, bool blanks)
    {
        if (field.Length != Cells)
            throw Error(path, line, column, $"has {field.Length} characters; expected {Cells}");
        byte[] grid = new byte[Cells];
        for (int i = 0; i < Cells; i++)
        {
            char ch = field[i];
            if (ch is >= '1' and <= '9') grid[i] = (byte)(ch - '0');
            else if (!(blanks && ch is '.' or '0'))
            {
                string allowed = blanks ? "a digit 1-9, '.' or '0'" : "a digit 1-9";
                throw Error(path, line, column,
                    $"character {CharText.Quote(ch)} at position {i + 1} (row {i / 9 + 1}, column {i % 9 + 1}) " +
                    $"is not {allowed}");
            }
        }
        return grid;
    }

    /// <summary>Splits one CSV line into <paramref name="fields"/>; returns a problem or null.</summary>
    internal static string? Split(string text, List<string> fields)
    {
        fields.Clear();
        var sb = new StringBuilder();
        int i = 0;
        while (true)
        {
            sb.Clear();
            if (i < text.Length && text[i] == '"')
            {
                int start = i++;
                while (true)
                {
                    if (i >= text.Length) return $"the quoted field starting at character {start + 1} is not closed";
                    if (text[i] == '"')
                    {
                        if (i + 1 < text.Length && text[i + 1] == '"')
                        {
                            sb.Append('"');
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    sb.Append(text[i++]);
                }
                if (i < text.Length && text[i] != ',')
                    return $"unexpected {CharText.Quote(text[i])} after the closing quote at character {i}";
            }
            else
            {
                int end = text.IndexOf(',', i);
                if (end < 0) end = text.Length;
                sb.Append(text, i, end - i);
                i = end;
            }
            fields.Add(sb.ToString());
            if (i >= text.Length) return null;
            i++; // the comma
        }
    }

    private static string Quote(string s) =>
        s.AsSpan().IndexOfAny(",\"\r\n") < 0 ? s : "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static HrmFormatException Error(string path, int line, string column, string problem) =>
        new(path, $"line {line}, {column}", problem);
}
