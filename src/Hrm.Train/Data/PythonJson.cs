using System.Globalization;
using System.Text;

namespace Hrm.Train.Data;

/// <summary>
/// JSON text as Python's <c>json.dump</c> writes it with its defaults, which is how the reference's dataset builders
/// write <c>dataset.json</c> and <c>identifiers.json</c>: one line, ", " and ": " separators, no trailing newline,
/// every character outside ASCII escaped as <c>\uXXXX</c> (lower-case hex, surrogate pairs beyond the BMP), and
/// floats as Python's <c>repr</c> (the shortest text that reads back to the same double; "1.0", not "1"). Our
/// builders write the reference's bytes, so a dataset built either way is the same file.
/// </summary>
internal static class PythonJson
{
    /// <summary>Appends <paramref name="s"/> as a JSON string (ensure_ascii=True).</summary>
    public static StringBuilder String(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (char ch in s)
        {
            switch (ch)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (ch is >= ' ' and <= '~') sb.Append(ch);
                    else sb.Append("\\u").Append(((int)ch).ToString("x4", CultureInfo.InvariantCulture));
                    break;
            }
        }
        return sb.Append('"');
    }

    /// <summary>Appends <paramref name="v"/> as Python's <c>repr(float)</c> does (finite values only).</summary>
    public static StringBuilder Float(StringBuilder sb, double v)
    {
        if (!double.IsFinite(v)) throw new ArgumentOutOfRangeException(nameof(v), v, "JSON has no NaN or infinity");
        // Both find the shortest digits that read back to v; they differ in layout. Take .NET's digits D and decimal
        // exponent X (v = D[0].D[1..] x 10^X), then lay them out as Python does: an exponent below 1e-4 and from
        // 1e16 on ("1e-05", "1e+16"), else written out, keeping ".0" on whole numbers.
        string r = v.ToString("R", CultureInfo.InvariantCulture).TrimStart('-');
        int e = r.IndexOf('E', StringComparison.Ordinal);
        int x0 = e < 0 ? 0 : int.Parse(r.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        string mantissa = e < 0 ? r : r[..e];
        int point = mantissa.IndexOf('.', StringComparison.Ordinal) is int p and >= 0 ? p : mantissa.Length;
        string all = mantissa.Replace(".", "", StringComparison.Ordinal);
        string digits = all.TrimStart('0');
        int exp = point - (all.Length - digits.Length) - 1 + x0;
        digits = digits.TrimEnd('0');
        if (double.IsNegative(v)) sb.Append('-');
        if (digits.Length == 0) return sb.Append("0.0");
        if (exp >= 16 || exp < -4)
        {
            sb.Append(digits[0]);
            if (digits.Length > 1) sb.Append('.').Append(digits, 1, digits.Length - 1);
            return sb.Append('e').Append(exp < 0 ? '-' : '+')
                .Append(Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture));
        }
        int whole = exp + 1;
        if (whole <= 0) return sb.Append("0.").Append('0', -whole).Append(digits);
        if (digits.Length <= whole) return sb.Append(digits).Append('0', whole - digits.Length).Append(".0");
        return sb.Append(digits, 0, whole).Append('.').Append(digits, whole, digits.Length - whole);
    }

    /// <summary>A list of strings: <c>["a", "b"]</c>.</summary>
    public static string StringList(IEnumerable<string> items)
    {
        var sb = new StringBuilder("[");
        bool first = true;
        foreach (string s in items)
        {
            if (!first) sb.Append(", ");
            String(sb, s);
            first = false;
        }
        return sb.Append(']').ToString();
    }
}
