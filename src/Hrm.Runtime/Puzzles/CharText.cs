namespace Hrm.Runtime.Puzzles;

/// <summary>A character of an input file as an error message shows it.</summary>
internal static class CharText
{
    /// <summary>'x' for a printable character; a control character or half a surrogate pair (binary input, a NUL) as
    /// its code, U+0000, which a terminal would otherwise swallow or garble.</summary>
    public static string Quote(char c) =>
        char.IsControl(c) || char.IsSurrogate(c) ? $"U+{(int)c:X4}" : $"'{c}'";
}
