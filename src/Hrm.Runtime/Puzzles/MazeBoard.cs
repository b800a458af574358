using System.Text;
using Hrm.Runtime.Solver;

namespace Hrm.Runtime.Puzzles;

/// <summary>
/// Square mazes as the reference encodes them (spec 5.3): characters <c>"# SGo"</c> are tokens 1..5 (wall,
/// open, start, goal, path; 0 is PAD), row-major, n x n (30 x 30 in the reference). A cell array here always
/// holds tokens. A path's length is its number of moves from S to G, one more than its 'o' cells.
/// </summary>
internal static class MazeBoard
{
    /// <summary>The characters of tokens 1..5.</summary>
    public const string Chars = "# SGo";

    /// <summary>Wall token.</summary>
    public const byte Wall = 1;

    /// <summary>Open cell token.</summary>
    public const byte Open = 2;

    /// <summary>Start token.</summary>
    public const byte Start = 3;

    /// <summary>Goal token.</summary>
    public const byte Goal = 4;

    /// <summary>Path token (labels only).</summary>
    public const byte Path = 5;

    /// <summary>vocab_size: PAD and the five characters.</summary>
    public const int VocabSize = 6;

    /// <summary>The reference's side.</summary>
    public const int DefaultSize = 30;

    /// <summary>The token of a character, or 0 when it is not one of <see cref="Chars"/>.</summary>
    /// <param name="c">A character.</param>
    /// <returns>1..5, or 0.</returns>
    public static byte Token(char c)
    {
        int i = Chars.IndexOf(c, StringComparison.Ordinal);
        return (byte)(i + 1);
    }

    /// <summary>The side n of a maze of <paramref name="cells"/> cells, or 0 when it is not a square.</summary>
    /// <param name="cells">Cell count.</param>
    /// <returns>n, or 0.</returns>
    public static int SideOf(int cells)
    {
        int n = (int)Math.Round(Math.Sqrt(cells));
        return n > 0 && n * n == cells ? n : 0;
    }

    /// <summary>The maze as n lines of <see cref="Chars"/> characters.</summary>
    /// <param name="cells">Tokens (0 prints as '?').</param>
    /// <returns>The text, lines joined by '\n'.</returns>
    public static string Format(ReadOnlySpan<byte> cells)
    {
        int n = SideOf(cells.Length);
        var sb = new StringBuilder(cells.Length + n);
        for (int r = 0; r < n; r++)
        {
            if (r > 0) sb.Append('\n');
            for (int c = 0; c < n; c++)
            {
                byte t = cells[r * n + c];
                sb.Append(t is >= 1 and <= 5 ? Chars[t - 1] : '?');
            }
        }
        return sb.ToString();
    }

    /// <summary>The widest maze <see cref="ParseText"/> reads (a model's sequence is its n * n cells).</summary>
    public const int MaxSide = 256;

    /// <summary>
    /// Parses a maze file: n lines of n characters from <c>"# SG"</c> ('.' is also read as open, 'o' as open;
    /// lines shorter than n are padded with open cells, for editors that trim trailing spaces), or one line of n*n.
    /// Blank lines before and after the maze are skipped; blank lines inside it are rows of open cells. A first or
    /// last row of open cells looks blank too: where the maze is wider than its lines, the blank lines on the one side
    /// that has any are taken back as such rows (with blank lines on both sides that is ambiguous, and an error).
    /// </summary>
    /// <param name="text">The file's text.</param>
    /// <returns>The tokens of the puzzle (no path cells).</returns>
    /// <exception cref="PuzzleFormatException">Bad characters, no square shape, or not exactly one S and one G.</exception>
    public static byte[] ParseText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] lines = TrimBlankLines(text);
        if (lines.Length == 1 && lines[0].Length <= MaxSide * MaxSide && SideOf(lines[0].Length) > 1)
            lines = [.. lines[0].Chunk(SideOf(lines[0].Length)).Select(c => new string(c))];
        int n = lines.Length;
        if (n > MaxSide || lines.Any(l => l.Length > MaxSide))
        {
            throw new PuzzleFormatException($"a maze is at most {MaxSide} x {MaxSide} here (the reference's are 30 x 30); " +
                $"got {n} lines of up to {lines.Max(l => l.Length)} characters");
        }
        if (n < 2 || lines.Any(l => l.Length > n))
        {
            int widest = n == 0 ? 0 : lines.Max(l => l.Length);
            throw new PuzzleFormatException(
                $"a maze is n lines of n characters (or one line of n*n); got {n} lines of up to {widest}");
        }
        byte[] cells = new byte[n * n];
        for (int r = 0; r < n; r++)
        {
            for (int c = 0; c < n; c++)
            {
                char ch = c < lines[r].Length ? lines[r][c] : ' ';
                byte t = ch is '.' or 'o' ? Open : Token(ch);
                if (t == 0 || t == Path)
                {
                    throw new PuzzleFormatException(
                        $"row {r + 1}, column {c + 1}: {CharText.Quote(ch)} is not one of '#', ' ', '.', 'S', 'G'",
                        r + 1, c + 1);
                }
                cells[r * n + c] = t;
            }
        }
        string? problem = FindPuzzleError(cells);
        return problem is null ? cells : throw new PuzzleFormatException(problem);
    }

    private static bool IsBlank(string line) => line.Trim().Length == 0;

    /// <summary>The lines of the maze: blank lines around it dropped, except those that are its open border rows
    /// (see <see cref="ParseText"/>).</summary>
    private static string[] TrimBlankLines(string text)
    {
        List<string> all = [.. text.Replace("\r", "", StringComparison.Ordinal).Split('\n')];
        if (all.Count > 1 && all[^1].Length == 0) all.RemoveAt(all.Count - 1); // the last line's end
        int before = all.TakeWhile(IsBlank).Count();
        if (before == all.Count) return [];
        int after = all.AsEnumerable().Reverse().TakeWhile(IsBlank).Count();
        List<string> core = all.GetRange(before, all.Count - before - after);
        int missing = core.Max(l => l.Length) - core.Count; // rows a square maze of that width lacks
        if (missing <= 0 || core.Count == 1) return [.. core];
        if (before > 0 && after > 0)
        {
            throw new PuzzleFormatException($"the maze is {core.Max(l => l.Length)} wide and {core.Count} lines " +
                "long, with blank lines both before and after it: are the missing rows of open cells at the top or " +
                "the bottom? Write them as spaces or '.'");
        }
        int take = Math.Min(missing, before + after);
        return before > 0
            ? [.. all.GetRange(before - take, take), .. core]
            : [.. core, .. all.GetRange(before + core.Count, take)];
    }

    /// <summary>A description of what makes <paramref name="puzzle"/> not a maze puzzle, or null.</summary>
    /// <param name="puzzle">Tokens.</param>
    /// <returns>Null when the maze is square, holds only wall/open/start/goal and exactly one S and one G.</returns>
    public static string? FindPuzzleError(ReadOnlySpan<byte> puzzle)
    {
        if (SideOf(puzzle.Length) == 0) return $"{puzzle.Length} cells is not a square maze";
        int bad = puzzle.IndexOfAnyExceptInRange(Wall, Goal);
        if (bad >= 0)
            return $"cell {Where(bad, puzzle.Length)} holds token {puzzle[bad]}; a puzzle holds '#', ' ', 'S', 'G'";
        int starts = puzzle.Count(Start), goals = puzzle.Count(Goal);
        return starts == 1 && goals == 1 ? null : $"has {starts} starts and {goals} goals; expected one of each";
    }

    /// <summary>"(row r, column c)", 1-based.</summary>
    /// <param name="index">Cell index.</param>
    /// <param name="cells">Cell count.</param>
    /// <returns>The position text.</returns>
    public static string Where(int index, int cells)
    {
        int n = Math.Max(SideOf(cells), 1);
        return $"(row {index / n + 1}, column {index % n + 1})";
    }
}
