using System.Globalization;
using System.Text;
using Hrm.Runtime.Puzzles;

namespace Hrm.Runtime.Solver;

/// <summary>
/// How a task of your own, given as text (<c>hrm data pairs</c>), becomes token rows and back: one character, one
/// position. Token 0 pads (an input's unused positions; in labels, positions the loss ignores), token 1 marks the end
/// of a text shorter than the row, and the symbols are tokens 2, 3, ... in <see cref="Symbols"/> order: the
/// convention of the reference's ARC encoding (0 pad, 1 end of grid, colours from 2). Every row holds
/// <see cref="SeqLen"/> positions. A dataset keeps its alphabet in <c>alphabet.json</c> (<see cref="Load"/>).
/// </summary>
public sealed partial class TextAlphabet
{
    /// <summary>The padding token (input positions past the end marker; labels there are ignored by the
    /// loss).</summary>
    public const int PadToken = 0;

    /// <summary>The token after a text's last symbol, when the text is shorter than the row.</summary>
    public const int EndToken = 1;

    /// <summary>The token of <see cref="Symbols"/>[0].</summary>
    public const int FirstSymbolToken = 2;

    /// <summary>Most symbols: tokens are stored as bytes (uint8, spec 5.1), so 256 − 2.</summary>
    public const int MaxSymbols = 256 - FirstSymbolToken;

    /// <summary>Longest row: the ARC rows (900) and more, within what a CPU trains.</summary>
    public const int MaxSeqLen = 4096;

    private readonly string _symbols;
    private readonly Dictionary<char, int> _tokens;

    private TextAlphabet(string symbols, int seqLen)
    {
        _symbols = symbols;
        SeqLen = seqLen;
        _tokens = new Dictionary<char, int>(symbols.Length);
        for (int i = 0; i < symbols.Length; i++) _tokens[symbols[i]] = FirstSymbolToken + i;
    }

    /// <summary>The symbols, one character each, in token order (token 2 first).</summary>
    public string Symbols => _symbols;

    /// <summary>Positions in a row: the longest input or output the dataset holds, or more.</summary>
    public int SeqLen { get; }

    /// <summary>The model's vocabulary: the symbols, padding and the end marker.</summary>
    public int VocabSize => _symbols.Length + FirstSymbolToken;

    /// <summary>An alphabet of <paramref name="symbols"/> (each character once, in token order) for rows of
    /// <paramref name="seqLen"/> positions.</summary>
    /// <exception cref="ArgumentException">No symbols, more than <see cref="MaxSymbols"/>, one twice, one that is not
    /// printable (a control or format character, half a surrogate pair, U+FFFD), or a row length outside 1 to
    /// <see cref="MaxSeqLen"/>.</exception>
    public static TextAlphabet Create(string symbols, int seqLen)
    {
        ArgumentNullException.ThrowIfNull(symbols);
        if (FindSymbolsError(symbols) is { } problem)
            throw new ArgumentException($"symbols {problem}", nameof(symbols));
        if (seqLen is < 1 or > MaxSeqLen)
            throw new ArgumentOutOfRangeException(nameof(seqLen), seqLen, $"expected 1 to {MaxSeqLen} positions");
        return new TextAlphabet(symbols, seqLen);
    }

    /// <summary>The symbols of <paramref name="texts"/>, each once, in ordinal order (what <c>hrm data pairs</c>
    /// uses without <c>--alphabet</c>).</summary>
    public static string SymbolsOf(IEnumerable<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var seen = new SortedSet<char>();
        foreach (string t in texts) seen.UnionWith(t);
        return string.Concat(seen);
    }

    /// <summary>The token of <paramref name="symbol"/>, or −1 when it is not in the alphabet.</summary>
    public int TokenOf(char symbol) => _tokens.TryGetValue(symbol, out int t) ? t : -1;

    /// <summary>
    /// <paramref name="text"/> as a row of <see cref="SeqLen"/> tokens: its symbols, then the end marker and padding
    /// when it is shorter.
    /// </summary>
    /// <exception cref="PuzzleFormatException">Empty, longer than the row, or a character that is not a symbol
    /// (named with its position, 1-based).</exception>
    public int[] Encode(string text)
    {
        var row = new int[SeqLen];
        Encode(text, row);
        return row;
    }

    /// <summary><see cref="Encode(string)"/> into <paramref name="row"/> (<see cref="SeqLen"/> tokens).</summary>
    public void Encode(string text, Span<int> row)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfNotEqual(row.Length, SeqLen, nameof(row));
        if (FindTextError(text) is { } problem) throw new PuzzleFormatException(problem);
        for (int i = 0; i < text.Length; i++) row[i] = _tokens[text[i]];
        if (text.Length < row.Length) row[text.Length] = EndToken;
        row[Math.Min(text.Length + 1, row.Length)..].Clear();
    }

    /// <summary>Why <paramref name="text"/> cannot be encoded (what and where), or null when it can.</summary>
    public string? FindTextError(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0) return "is empty; expected at least one symbol";
        if (text.Length > SeqLen)
            return $"has {text.Length} characters; the rows of this alphabet hold {SeqLen}";
        for (int i = 0; i < text.Length; i++)
        {
            if (!_tokens.ContainsKey(text[i]))
            {
                return $"character {CharText.Quote(text[i])} at position {i + 1} is not one of the alphabet's " +
                    $"{_symbols.Length} symbols \"{Printable(_symbols)}\"";
            }
        }
        return null;
    }

    /// <summary>
    /// The text of a row the model wrote: its symbols up to the first end marker (or the whole row).
    /// <paramref name="problem"/> says why the row is not a well-formed text (null when it is): a padding token
    /// before the end, or no symbol at all.
    /// </summary>
    public string Decode(ReadOnlySpan<int> tokens, out string? problem)
    {
        var sb = new StringBuilder(tokens.Length);
        problem = null;
        for (int i = 0; i < tokens.Length; i++)
        {
            int t = tokens[i];
            if (t == EndToken) break;
            if (t < FirstSymbolToken || t >= VocabSize)
            {
                problem ??= t == PadToken
                    ? $"position {i + 1} is the padding token, before the end marker"
                    : $"position {i + 1} is token {t}, outside the vocabulary of {VocabSize}";
                sb.Append('?');
                continue;
            }
            sb.Append(_symbols[t - FirstSymbolToken]);
        }
        if (sb.Length == 0) problem ??= "the row ends before its first symbol";
        return sb.ToString();
    }

    /// <summary>The symbols as an error message shows them (unprintable ones as U+XXXX).</summary>
    internal static string Printable(string symbols)
    {
        var sb = new StringBuilder(symbols.Length);
        foreach (char c in symbols)
        {
            string q = CharText.Quote(c);
            sb.Append(q[0] == '\'' ? c.ToString() : q);
        }
        return sb.ToString();
    }

    private static string? FindSymbolsError(string symbols)
    {
        if (symbols.Length == 0) return "is empty; expected at least one symbol";
        if (symbols.Length > MaxSymbols)
            return $"has {symbols.Length} characters; at most {MaxSymbols} fit byte tokens";
        var seen = new HashSet<char>();
        for (int i = 0; i < symbols.Length; i++)
        {
            char c = symbols[i];
            if (CharText.Quote(c)[0] != '\'')
            {
                return $"character {CharText.Quote(c)} at position {i + 1} is not printable " +
                    "(a control or format character, half a surrogate pair, or U+FFFD)";
            }
            if (!seen.Add(c))
            {
                return string.Create(CultureInfo.InvariantCulture,
                    $"has '{c}' twice (positions {symbols.IndexOf(c, StringComparison.Ordinal) + 1} and {i + 1})");
            }
        }
        return null;
    }
}
