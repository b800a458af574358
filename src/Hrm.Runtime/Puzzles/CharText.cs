using System.Globalization;

namespace Hrm.Runtime.Puzzles;

/// <summary>A character of an input file as an error message shows it.</summary>
internal static class CharText
{
    /// <summary>'x' for a printable character; as its code (U+0000) a character a terminal would swallow, garble or
    /// act on: control characters (a NUL of binary input), half a surrogate pair, invisible format characters (a
    /// zero-width space, a right-to-left override), line and paragraph separators, and U+FFFD (what undecodable
    /// bytes became).</summary>
    public static string Quote(char c) => char.GetUnicodeCategory(c) is UnicodeCategory.Control or
        UnicodeCategory.Surrogate or UnicodeCategory.Format or UnicodeCategory.LineSeparator or
        UnicodeCategory.ParagraphSeparator || c == '\uFFFD' ? $"U+{(int)c:X4}" : $"'{c}'";
}
