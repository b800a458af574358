using Hrm.Runtime.Formats;

namespace Hrm.Train.Data;

/// <summary>
/// The file <c>hrm data pairs</c> reads: one example a line, <c>input,output</c> or <c>input,output,group</c>, CSV
/// quoting (a field in double quotes may hold commas; <c>""</c> is a quote), no trimming (a space is a symbol like
/// any other). An optional first line <c>input,output</c> or <c>input,output,group</c> (<c>input</c> for a file of
/// inputs alone) is a header; blank lines are skipped. Input and output are not empty.
/// </summary>
public static class TextPairsCsv
{
    /// <summary>Reads every example of <paramref name="path"/>, in file order.</summary>
    /// <param name="path">The CSV file.</param>
    /// <param name="inputsOnly">Also take lines of one column, an input alone (its output ""), as
    /// <c>hrm solve --texts</c> does; a file has outputs on every line or on none.</param>
    /// <exception cref="HrmFormatException">A malformed line, naming the file, the line and the column.</exception>
    public static List<TextPair> Read(string path, bool inputsOnly = false)
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
            if (line == 1 && IsHeader(fields, inputsOnly)) continue;
            if (fields.Count is not (2 or 3) && !(inputsOnly && fields.Count == 1))
            {
                throw Error(path, line, "row", $"has {fields.Count} columns; expected " +
                    (inputsOnly ? "1 (input), " : "") + "2 (input,output) or 3 (input,output,group)");
            }
            if (fields[0].Length == 0) throw Error(path, line, "input", "is empty");
            if (fields.Count > 1 && fields[1].Length == 0) throw Error(path, line, "output", "is empty");
            if (result.Count > 0 && (fields.Count == 1) != (result[0].Output.Length == 0))
            {
                throw Error(path, line, "row", $"has {(fields.Count == 1 ? "no output" : "an output")} where line " +
                    $"{result[0].Line} has {(fields.Count == 1 ? "one" : "none")}: outputs on every line or on none");
            }
            result.Add(new TextPair(fields[0], fields.Count > 1 ? fields[1] : "", fields.Count == 3 ? fields[2] : "",
                line));
        }
        return result;
    }

    /// <summary>The error for <paramref name="column"/> of line <paramref name="line"/>.</summary>
    internal static HrmFormatException Error(string path, int line, string column, string problem) =>
        new(path, $"line {line}, {column}", problem);

    private static bool IsHeader(List<string> f, bool inputsOnly) =>
        (f.Count is 2 or 3 || inputsOnly && f.Count == 1) && f[0].Equals("input", StringComparison.OrdinalIgnoreCase) &&
        (f.Count == 1 || f[1].Equals("output", StringComparison.OrdinalIgnoreCase)) &&
        (f.Count < 3 || f[2].Equals("group", StringComparison.OrdinalIgnoreCase));
}
