using System.Text;

namespace Hrm.Runtime.Formats;

/// <summary>
/// The lines of a text file, as <see cref="File.ReadLines(string)"/> gives them (UTF-8 unless a byte order mark says
/// otherwise; a line ends at "\n", "\r" or "\r\n"; no empty line after a final line end), except that a line longer
/// than a cap is an error naming the file and the line instead of a string of any length: a file of one 1 GB line
/// would otherwise take several GB of memory before anything could say it is not a puzzle file.
/// </summary>
internal static class TextLines
{
    /// <summary>The cap on a line's length: every line our files hold (a 30 x 30 maze row of the CSV: ~1.8K
    /// characters; a metrics record: a few hundred) is far below it.</summary>
    public const int DefaultMaxChars = 1 << 20;

    /// <summary>The characters read at a time (a "\r\n" may straddle two reads).</summary>
    internal const int BufferChars = 1 << 15;

    /// <summary>Reads <paramref name="path"/> a line at a time; the file is opened here, and the lines can be
    /// enumerated once.</summary>
    /// <param name="path">The file.</param>
    /// <param name="what">What the file is, for the error ("puzzle file").</param>
    /// <param name="maxChars">The longest line allowed.</param>
    /// <exception cref="HrmFormatException">A line longer than <paramref name="maxChars"/>, naming its number.
    /// </exception>
    public static IEnumerable<string> Read(string path, string what, int maxChars = DefaultMaxChars)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxChars);
        // Opened here, not on the first MoveNext, so that a missing file fails where File.ReadLines would.
        var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, 1 << 16);
        return Enumerate(reader, path, what, maxChars);
    }

    private static IEnumerable<string> Enumerate(StreamReader reader, string path, string what, int maxChars)
    {
        using (reader)
        {
            var line = new StringBuilder();
            char[] buffer = new char[BufferChars]; // [chars]
            int at = 0, end = 0;
            long number = 0;
            bool pendingCr = false; // a '\r' ended the last line: a '\n' right after it belongs to it
            while (true)
            {
                if (at == end)
                {
                    end = reader.Read(buffer, 0, buffer.Length);
                    at = 0;
                    if (end == 0) break;
                }
                if (pendingCr)
                {
                    pendingCr = false;
                    if (buffer[at] == '\n') { at++; continue; }
                }
                ReadOnlySpan<char> rest = buffer.AsSpan(at, end - at);
                int stop = rest.IndexOfAny('\r', '\n');
                ReadOnlySpan<char> part = stop < 0 ? rest : rest[..stop];
                if (line.Length + part.Length > maxChars) throw TooLong(path, what, number + 1, maxChars);
                if (stop < 0)
                {
                    line.Append(part);
                    at = end;
                    continue;
                }
                at += stop + 1;
                pendingCr = rest[stop] == '\r';
                number++;
                if (line.Length == 0)
                {
                    yield return new string(part); // the whole line in the buffer: one copy
                    continue;
                }
                line.Append(part);
                yield return line.ToString();
                line.Clear();
            }
            if (line.Length > 0) yield return line.ToString();
        }
    }

    private static HrmFormatException TooLong(string path, string what, long number, int maxChars) =>
        new(path, $"line {number}", $"longer than {maxChars:N0} characters: not a {what} " +
            "(its lines are far shorter)");
}
