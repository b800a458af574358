using Hrm.Runtime.Formats;

namespace Hrm.Train.Data;

/// <summary>
/// The file <c>hrm data pairs</c> reads: one example a line, <c>input,output</c> or <c>input,output,group</c>, CSV
/// quoting (a field in double quotes may hold commas; <c>""</c> is a quote), no trimming (a space is a symbol like
/// any other). An optional first line <c>input,output</c> or <c>input,output,group</c> is a header; blank lines are
/// skipped. Input and output are not empty.
/// </summary>
public static class TextPairsCsv
{
    /// <summary>Reads every example of <paramref name="path"/>, in file order.</summary>
    /// <exception cref="HrmFormatException">A malformed line, naming the file, the line and the column.</exception>
    public static List<TextPair> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path)) throw new HrmFormatException(path, "file", "is a directory; expected a CSV file");
        if (!File.Exists(path)) throw new HrmFormatException(path, "file", "is missing");
        var result = new List<TextPair>();
        var fields = new List<string>(3);
        int line = 0;
        foreach (string text in TextLines.Read(path, "text pairs CSV"))
        {
            line++;
            if (text.Length == 0) continue;
            string? splitError = SudokuCsv.Split(text, fields);
            if (splitError is not null) throw Error(path, line, "row", splitError);
            if (line == 1 && IsHeader(fields)) continue;
            if (fields.Count is not (2 or 3))
            {
                throw Error(path, line, "row",
                    $"has {fields.Count} columns; expected 2 (input,output) or 3 (input,output,group)");
            }
            if (fields[0].Length == 0) throw Error(path, line, "input", "is empty");
            if (fields[1].Length == 0) throw Error(path, line, "output", "is empty");
            result.Add(new TextPair(fields[0], fields[1], fields.Count == 3 ? fields[2] : "", line));
        }
        return result;
    }

    /// <summary>The error for <paramref name="column"/> of line <paramref name="line"/>.</summary>
    internal static HrmFormatException Error(string path, int line, string column, string problem) =>
        new(path, $"line {line}, {column}", problem);

    private static bool IsHeader(List<string> f) =>
        f.Count is 2 or 3 && f[0].Equals("input", StringComparison.OrdinalIgnoreCase) &&
        f[1].Equals("output", StringComparison.OrdinalIgnoreCase) &&
        (f.Count == 2 || f[2].Equals("group", StringComparison.OrdinalIgnoreCase));
}
