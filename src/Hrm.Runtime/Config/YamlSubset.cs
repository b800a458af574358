using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Hrm.Runtime.Config;

/// <summary>
/// The YAML that PyYAML's <c>yaml.dump</c> writes for a run config (the reference's <c>all_config.yaml</c>), read into
/// JSON: block mappings and sequences by indentation, plain, single- and double-quoted scalars (null, booleans,
/// integers, floats, strings as YAML 1.1 resolves them), empty or one-line flow collections of scalars
/// (<c>[]</c>, <c>{}</c>, <c>[1, 2]</c>), comments and a leading <c>---</c>. Anchors, tags, multi-line scalars and
/// nested flow collections are not read: an <see cref="HrmConfigException"/> names the line.
/// </summary>
internal static partial class YamlSubset
{
    private sealed record Line(int Number, int Indent, string Text);

    /// <summary>True when <paramref name="text"/> is a JSON object (its first character after white space and
    /// <c>//</c> or <c>/* */</c> comments, which the JSON readers here skip, is '{'): read it as JSON, not YAML.</summary>
    public static bool IsJsonObject(string text)
    {
        int i = 0;
        while (i < text.Length)
        {
            if (char.IsWhiteSpace(text[i])) i++;
            else if (text.AsSpan(i).StartsWith("//", StringComparison.Ordinal))
                i = text.IndexOf('\n', i) is int end and >= 0 ? end + 1 : text.Length;
            else if (text.AsSpan(i).StartsWith("/*", StringComparison.Ordinal))
                i = text.IndexOf("*/", i + 2, StringComparison.Ordinal) is int end and >= 0 ? end + 2 : text.Length;
            else return text[i] == '{';
        }
        return false;
    }

    /// <summary>The document as JSON text.</summary>
    public static string ToJson(string yaml, string source)
    {
        List<Line> lines = Lines(yaml, source);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            if (lines.Count == 0) w.WriteStartObject();
            int i = 0;
            if (lines.Count > 0) Block(lines, ref i, lines[0].Indent, w, source, depth: 0);
            if (lines.Count == 0) w.WriteEndObject();
            else if (i < lines.Count) throw Error(source, lines[i], "does not belong to the block above it");
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static List<Line> Lines(string yaml, string source)
    {
        var lines = new List<Line>();
        string[] raw = yaml.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        for (int n = 0; n < raw.Length; n++)
        {
            string text = StripComment(raw[n]).TrimEnd();
            if (text.Trim().Length == 0 || (lines.Count == 0 && text.Trim() == "---")) continue;
            if (text.Contains('\t', StringComparison.Ordinal))
                throw new HrmConfigException($"{source}: line {n + 1}: a tab (YAML indents with spaces)");
            int indent = text.Length - text.TrimStart(' ').Length;
            lines.Add(new Line(n + 1, indent, text[indent..]));
        }
        return lines;
    }

    /// <summary>A block mapping or sequence whose lines start at <paramref name="indent"/>.</summary>
    private static void Block(List<Line> lines, ref int i, int indent, Utf8JsonWriter w, string source, int depth)
    {
        if (depth > MaxDepth) throw Error(source, lines[i], $"is nested more than {MaxDepth} levels deep");
        bool sequence = IsItem(lines[i].Text);
        if (sequence) w.WriteStartArray();
        else w.WriteStartObject();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        while (i < lines.Count && lines[i].Indent >= indent)
        {
            Line line = lines[i];
            if (line.Indent > indent) throw Error(source, line, "is indented more than the lines before it");
            if (sequence && !IsItem(line.Text)) break; // the list under a key ends where the next key starts
            if (!sequence && IsItem(line.Text)) throw Error(source, line, "is a list item inside a mapping");
            i++;
            if (sequence)
            {
                string item = line.Text == "-" ? "" : Continued(lines, ref i, indent, line.Text[2..].Trim(), source);
                if (item.Length == 0) Nested(lines, ref i, indent, w, source, line, depth);
                else if (KeyValue().IsMatch(item) && !IsQuoted(item))
                    throw Error(source, line, "has a mapping inside a list item (not read here)");
                else Scalar(item, w, source, line);
                continue;
            }
            Match m = KeyValue().Match(line.Text);
            if (!m.Success) throw Error(source, line, "is not 'key: value'");
            string key = Unquote(m.Groups[1].Value, source, line);
            if (!keys.Add(key)) throw Error(source, line, $"gives the key '{key}' a second time");
            w.WritePropertyName(key);
            string value = m.Groups[2].Value.Trim();
            if (value.Length > 0) value = Continued(lines, ref i, indent, value, source);
            if (value.Length == 0) Nested(lines, ref i, indent, w, source, line, depth);
            else Scalar(value, w, source, line);
        }
        if (sequence) w.WriteEndArray();
        else w.WriteEndObject();
    }

    /// <summary>The value of a key or item left empty on its line: the more indented block below, or null. (PyYAML
    /// writes a list under a key at the key's own indentation.)</summary>
    private static void Nested(List<Line> lines, ref int i, int indent, Utf8JsonWriter w, string source, Line owner,
        int depth)
    {
        if (i < lines.Count && (lines[i].Indent > indent || (lines[i].Indent == indent && IsItem(lines[i].Text)
            && !IsItem(owner.Text))))
            Block(lines, ref i, lines[i].Indent, w, source, depth + 1);
        else w.WriteNullValue();
    }

    /// <summary>A scalar with the lines that continue it: PyYAML folds a long value (plain or quoted) at a space onto
    /// lines indented deeper than its key, so each such line joins with one space (after a double-quoted line's
    /// closing '\', with none). A continuation that reads as 'key: value' is a misplaced key, not text.</summary>
    private static string Continued(List<Line> lines, ref int i, int indent, string value, string source)
    {
        while (i < lines.Count && lines[i].Indent > indent)
        {
            Line next = lines[i];
            bool openQuote = value[0] is '\'' or '"' && !IsQuoted(value);
            if (!openQuote && (KeyValue().IsMatch(next.Text) || IsItem(next.Text)))
                throw Error(source, next, "is indented more than the lines before it");
            value = value.StartsWith('"') && value.EndsWith('\\') ? value[..^1] + next.Text : value + " " + next.Text;
            i++;
        }
        return value;
    }

    /// <summary>Block nesting deeper than this is refused (a run config has 3 levels).</summary>
    private const int MaxDepth = 32;

    private static void Scalar(string text, Utf8JsonWriter w, string source, Line line)
    {
        if (text is "[]") { w.WriteStartArray(); w.WriteEndArray(); return; }
        if (text is "{}") { w.WriteStartObject(); w.WriteEndObject(); return; }
        if (text.StartsWith('[') && text.EndsWith(']'))
        {
            w.WriteStartArray();
            foreach (string item in text[1..^1].Split(','))
            {
                string t = item.Trim();
                if (t.Length == 0 || t.IndexOfAny(['[', ']', '{', '}']) >= 0 || (t.Contains('"', StringComparison.Ordinal) &&
                    !IsQuoted(t)))
                    throw Error(source, line, "has a flow list other than one of plain scalars (not read here)");
                Scalar(t, w, source, line);
            }
            w.WriteEndArray();
            return;
        }
        if (text[0] is '{' or '&' or '*' or '!' or '|' or '>' or '[')
            throw Error(source, line, "has a flow mapping, anchor, alias, tag or block scalar (not read here)");
        if (IsQuoted(text))
        {
            w.WriteStringValue(Unquote(text, source, line));
            return;
        }
        switch (text)
        {
            case "null" or "Null" or "NULL" or "~": w.WriteNullValue(); return;
            case "true" or "True" or "TRUE": w.WriteBooleanValue(true); return;
            case "false" or "False" or "FALSE": w.WriteBooleanValue(false); return;
            case ".inf" or "+.inf" or ".Inf": w.WriteStringValue("Infinity"); return;
            case "-.inf" or "-.Inf": w.WriteStringValue("-Infinity"); return;
            case ".nan" or ".NaN": w.WriteStringValue("NaN"); return;
        }
        if (Integer().IsMatch(text) && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l))
            w.WriteNumberValue(l);
        else if (Float().IsMatch(text) &&
                 double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d))
        {
            // Past double's range a float is infinite, as in PyYAML (float('1e400')); written as .inf is.
            if (double.IsFinite(d)) w.WriteNumberValue(d);
            else w.WriteStringValue(d > 0 ? "Infinity" : "-Infinity");
        }
        else w.WriteStringValue(text);
    }

    private static bool IsItem(string text) => text == "-" || text.StartsWith("- ", StringComparison.Ordinal);

    private static bool IsQuoted(string t) =>
        t.Length >= 2 && ((t[0] == '\'' && t[^1] == '\'') || (t[0] == '"' && t[^1] == '"'));

    private static string Unquote(string t, string source, Line line)
    {
        if (!IsQuoted(t)) return t;
        string inner = t[1..^1];
        if (t[0] == '\'') return inner.Replace("''", "'", StringComparison.Ordinal);
        var sb = new StringBuilder(inner.Length);
        for (int i = 0; i < inner.Length; i++)
        {
            char c = inner[i];
            if (c != '\\') { sb.Append(c); continue; }
            if (++i == inner.Length) throw Error(source, line, "has a double-quoted string ending in '\\'");
            int hex = inner[i] switch { 'x' => 2, 'u' => 4, 'U' => 8, _ => 0 };
            if (hex > 0)
            {
                if (inner.Length - i - 1 < hex || !uint.TryParse(inner.AsSpan(i + 1, hex), NumberStyles.AllowHexSpecifier,
                        CultureInfo.InvariantCulture, out uint code) || code > 0x10FFFF || code is >= 0xD800 and <= 0xDFFF)
                    throw Error(source, line, $"has a bad \\{inner[i]} escape in a double-quoted string");
                sb.Append(char.ConvertFromUtf32((int)code));
                i += hex;
                continue;
            }
            sb.Append(inner[i] switch
            {
                '0' => "\0", 'a' => "\a", 'b' => "\b", 't' or '\t' => "\t", 'n' => "\n", 'v' => "\v", 'f' => "\f",
                'r' => "\r", 'e' => "\u001b", ' ' => " ", '"' => "\"", '/' => "/", '\\' => "\\", 'N' => "\u0085",
                '_' => "\u00a0", 'L' => "\u2028", 'P' => "\u2029",
                _ => throw Error(source, line, $"has an unknown escape \\{inner[i]} in a double-quoted string"),
            });
        }
        return sb.ToString();
    }

    private static string StripComment(string s)
    {
        char quote = '\0';
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (quote == '"' && c == '\\') i++; // an escape: the next character is text
            else if (quote == '\'' && c == '\'' && i + 1 < s.Length && s[i + 1] == '\'') i++; // '' inside '...'
            else if (quote != '\0') { if (c == quote) quote = '\0'; }
            else if (c is '\'' or '"' && (i == 0 || s[i - 1] is ' ' or ':' or '[' or ',' or '-')) quote = c;
            else if (c == '#' && (i == 0 || s[i - 1] == ' ')) return s[..i];
        }
        return s;
    }

    private static HrmConfigException Error(string source, Line line, string problem) =>
        new($"{source}: line {line.Number}: '{line.Text}' {problem}");

    [GeneratedRegex(@"^((?:'[^']*'|""[^""]*""|[^'""#:][^:#]*?)):(?:\s+(.*))?$")]
    private static partial Regex KeyValue();

    [GeneratedRegex(@"^[-+]?[0-9]+$")]
    private static partial Regex Integer();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex Float();
}
