using System.Globalization;

namespace Hrm.Runtime.Formats;

/// <summary>
/// A strict parser for the Python dict literal of an <c>.npy</c> header, e.g.
/// <c>{'descr': '&lt;i4', 'fortran_order': False, 'shape': (2, 3), }</c>: exactly the keys
/// 'descr', 'fortran_order' and 'shape', each once, in any order, followed only by whitespace.
/// </summary>
internal sealed class NpyHeaderParser
{
    private const char End = '\0';
    private readonly string _path;
    private readonly string _text;
    private int _pos;

    private NpyHeaderParser(string path, string text)
    {
        _path = path;
        _text = text;
    }

    private char Peek => _pos < _text.Length ? _text[_pos] : End;

    /// <summary>Parses the header text of the file at <paramref name="path"/>.</summary>
    public static (string Descr, bool FortranOrder, long[] Shape) Parse(string path, string text) =>
        new NpyHeaderParser(path, text).ParseDict();

    private (string Descr, bool FortranOrder, long[] Shape) ParseDict()
    {
        SkipWhitespace();
        Expect('{');
        SkipWhitespace();
        string? descr = null;
        bool? fortran = null;
        long[]? shape = null;
        while (Peek != '}')
        {
            string key = ParseString("header", "a quoted dictionary key");
            SkipWhitespace();
            Expect(':');
            SkipWhitespace();
            switch (key)
            {
                case "descr" when descr is null: descr = ParseString("descr", "a quoted dtype string"); break;
                case "fortran_order" when fortran is null: fortran = ParseBool(); break;
                case "shape" when shape is null: shape = ParseShape(); break;
                case "descr" or "fortran_order" or "shape": throw Fail(key, "appears twice in the header");
                default:
                    throw Fail("header", $"unexpected key '{key}'; expected exactly 'descr', 'fortran_order', 'shape'");
            }
            SkipWhitespace();
            if (Peek == ',')
            {
                _pos++;
                SkipWhitespace();
            }
            else if (Peek != '}')
            {
                throw Fail("header", $"expected ',' or '}}' {Where()}");
            }
        }
        _pos++;
        SkipWhitespace();
        if (_pos != _text.Length) throw Fail("header", $"unexpected text after the dictionary {Where()}");
        if (descr is null) throw Fail("descr", "missing from the header dictionary");
        if (fortran is null) throw Fail("fortran_order", "missing from the header dictionary");
        if (shape is null) throw Fail("shape", "missing from the header dictionary");
        return (descr, fortran.Value, shape);
    }

    private string ParseString(string field, string what)
    {
        char quote = Peek;
        if (quote is not ('\'' or '"')) throw Fail(field, $"expected {what} {Where()}");
        int start = ++_pos;
        while (Peek != quote)
        {
            if (Peek is End or '\\' or '\n')
                throw Fail(field, $"unterminated or escaped string starting at character {start - 1} of the header");
            _pos++;
        }
        return _text[start.._pos++];
    }

    private bool ParseBool()
    {
        ReadOnlySpan<char> rest = _text.AsSpan(_pos);
        if (rest.StartsWith("True", StringComparison.Ordinal))
        {
            _pos += 4;
            return true;
        }
        if (rest.StartsWith("False", StringComparison.Ordinal))
        {
            _pos += 5;
            return false;
        }
        throw Fail("fortran_order", $"expected True or False {Where()}");
    }

    private long[] ParseShape()
    {
        Expect('(', "shape", "a tuple such as (3,), (2, 81) or ()");
        SkipWhitespace();
        var dims = new List<long>();
        bool trailingComma = false;
        while (Peek != ')')
        {
            dims.Add(ParseDimension(dims.Count));
            SkipWhitespace();
            trailingComma = Peek == ',';
            if (trailingComma)
            {
                _pos++;
                SkipWhitespace();
            }
            else if (Peek != ')')
            {
                throw Fail("shape", $"expected ',' or ')' {Where()}");
            }
        }
        _pos++;
        if (dims.Count == 1 && !trailingComma)
            throw Fail("shape", $"({dims[0]}) is not a tuple; a 1-d shape is written ({dims[0]},)");
        return [.. dims];
    }

    private long ParseDimension(int index)
    {
        int start = _pos;
        if (Peek == '-') throw Fail("shape", $"dimension {index} is negative {Where()}");
        while (char.IsAsciiDigit(Peek)) _pos++;
        if (_pos == start) throw Fail("shape", $"expected a non-negative integer for dimension {index} {Where()}");
        if (!long.TryParse(_text.AsSpan(start, _pos - start), NumberStyles.None, CultureInfo.InvariantCulture,
                out long value))
        {
            throw Fail("shape", $"dimension {index} ({_text[start.._pos]}) does not fit in a 64-bit integer");
        }
        return value;
    }

    private void SkipWhitespace()
    {
        while (Peek is ' ' or '\t' or '\n' or '\r') _pos++;
    }

    private void Expect(char c, string field = "header", string? what = null)
    {
        if (Peek != c) throw Fail(field, $"expected {what ?? $"'{c}'"} {Where()}");
        _pos++;
    }

    private string Where()
    {
        if (_pos >= _text.Length) return "at the end of the header";
        int n = Math.Min(20, _text.Length - _pos);
        return $"at character {_pos} of the header, found \"{_text.Substring(_pos, n)}\"";
    }

    private HrmFormatException Fail(string field, string problem) => new(_path, field, problem);
}
