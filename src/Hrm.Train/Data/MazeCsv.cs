using System.Globalization;
using System.Text;
using Hrm.Runtime.Formats;
using Hrm.Runtime.Puzzles;

namespace Hrm.Train.Data;

/// <summary>
/// The reference's maze CSV (spec 5.3, <c>sapientinc/maze-30x30-hard-1k</c>): a header row, then positional
/// columns source, puzzle, solution, rating; puzzle and solution are n*n characters of <c>"# SGo"</c> (30 x 30
/// in the reference). Checked per row: the shape (square, the same for every row of the file), the characters,
/// one S and one G, and that the solution is the puzzle with some open cells marked 'o'. Whether that marking is
/// a connected shortest path is reported by <see cref="MazePaths.Check"/>, not enforced here.
/// </summary>
public static class MazeCsv
{
    /// <summary>The header row <see cref="Write"/> emits.</summary>
    public const string Header = "source,question,answer,rating";

    /// <summary>Reads every row of <paramref name="path"/>.</summary>
    /// <param name="path">The CSV file.</param>
    /// <returns>The records in file order.</returns>
    /// <exception cref="HrmFormatException">A malformed row, naming the file, line and column.</exception>
    public static List<MazeRecord> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var result = new List<MazeRecord>();
        var fields = new List<string>(4);
        int line = 0, cells = -1;
        foreach (string text in TextLines.Read(path, "maze CSV"))
        {
            line++;
            // Line 1 is the header, as the reference's builder reads it, except a maze row there (it would be lost).
            if (line == 1 && SudokuCsv.Split(text, fields) is null && fields.Count == 4 &&
                fields[1].Length == fields[2].Length && MazeBoard.SideOf(fields[1].Length) >= 2)
                throw SudokuCsv.HeaderIsARow(path, Header, "maze");
            if (line == 1 || text.Length == 0) continue;
            string? splitError = SudokuCsv.Split(text, fields);
            if (splitError is not null) throw Error(path, line, "row", splitError);
            if (fields.Count != 4)
            {
                throw Error(path, line, "row",
                    $"has {fields.Count} columns; expected 4 (source, puzzle, solution, rating)");
            }
            if (cells < 0)
            {
                cells = fields[1].Length;
                if (MazeBoard.SideOf(cells) < 2)
                    throw Error(path, line, "puzzle", $"has {cells} characters; expected n*n (900 for 30 x 30)");
            }
            byte[] puzzle = Grid(path, line, "puzzle", fields[1], cells);
            byte[] solution = Grid(path, line, "solution", fields[2], cells);
            string? problem = MazeBoard.FindPuzzleError(puzzle) ?? FindLabelError(puzzle, solution);
            if (problem is not null)
            {
                string column = problem.StartsWith("label", StringComparison.Ordinal) ? "solution" : "puzzle";
                throw Error(path, line, column, problem);
            }
            NumberStyles sign = NumberStyles.AllowLeadingSign;
            if (!int.TryParse(fields[3].Trim(), sign, CultureInfo.InvariantCulture, out int rating))
                throw Error(path, line, "rating", $"'{fields[3]}' is not an integer");
            result.Add(new MazeRecord(puzzle, solution, rating, fields[0]));
        }
        return result;
    }

    /// <summary>Writes records in the same layout.</summary>
    /// <param name="path">The destination, replaced atomically.</param>
    /// <param name="records">The mazes.</param>
    public static void Write(string path, IEnumerable<MazeRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        using var file = new AtomicFileWriter(path);
        using (var writer = new StreamWriter(file.Stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true))
        {
            writer.NewLine = "\n";
            writer.WriteLine(Header);
            foreach (MazeRecord r in records)
            {
                writer.Write(r.Source.Contains(',', StringComparison.Ordinal) ? $"\"{r.Source}\"" : r.Source);
                writer.Write(',');
                writer.Write(MazeBoard.Format(r.Puzzle).Replace("\n", "", StringComparison.Ordinal));
                writer.Write(',');
                writer.Write(MazeBoard.Format(r.Solution).Replace("\n", "", StringComparison.Ordinal));
                writer.Write(',');
                writer.WriteLine(r.Rating.ToString(CultureInfo.InvariantCulture));
            }
        }
        file.Commit();
    }

    /// <summary>
    /// Null when <paramref name="solution"/> equals <paramref name="puzzle"/> except open cells marked 'o'.
    /// </summary>
    /// <param name="puzzle">Puzzle tokens.</param>
    /// <param name="solution">Label tokens.</param>
    /// <returns>A problem starting with "label", or null.</returns>
    public static string? FindLabelError(ReadOnlySpan<byte> puzzle, ReadOnlySpan<byte> solution)
    {
        for (int i = 0; i < puzzle.Length; i++)
        {
            if (solution[i] == puzzle[i] || (solution[i] == MazeBoard.Path && puzzle[i] == MazeBoard.Open)) continue;
            return $"label cell {MazeBoard.Where(i, puzzle.Length)} is '{MazeBoard.Chars[solution[i] - 1]}' " +
                "where the " +
                $"puzzle has '{MazeBoard.Chars[puzzle[i] - 1]}'; only open cells may change, to 'o'";
        }
        return null;
    }

    private static byte[] Grid(string path, int line, string column, string field, int cells)
    {
        if (field.Length != cells)
            throw Error(path, line, column, $"has {field.Length} characters; the first row has {cells}");
        byte[] grid = new byte[cells];
        for (int i = 0; i < cells; i++)
        {
            grid[i] = MazeBoard.Token(field[i]);
            if (grid[i] == 0)
            {
                throw Error(path, line, column,
                    $"character {CharText.Quote(field[i])} at {MazeBoard.Where(i, cells)} is not one of \"# SGo\"");
            }
        }
        return grid;
    }

    private static HrmFormatException Error(string path, int line, string column, string problem) =>
        new(path, $"line {line}, {column}", problem);
}
