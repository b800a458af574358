using Hrm.Runtime.Puzzles;
using System.Globalization;
using Hrm.Train.Cli;
using Hrm.Train.Data;
using SkiaSharp;

namespace Hrm.Train.Render;

/// <summary>
/// <c>hrm render sudoku</c>: the puzzle with the model's answer (givens on grey, the model's digits in blue, wrong
/// cells on red), then the answer after every segment (cells changed since the previous segment on yellow; for
/// segment 1, changed since the puzzle).
/// </summary>
internal static class SudokuPicture
{
    private const int Margin = 24;

    /// <summary>
    /// Cells of <paramref name="answer"/> that are wrong: empty, different from a given, different from
    /// <paramref name="solution"/> when it is known (the puzzle's unique solution), or otherwise holding a digit
    /// that its row, column or box holds elsewhere.
    /// </summary>
    /// <param name="answer">n*n digits (0 = empty).</param>
    /// <param name="givens">n*n digits of the puzzle (0 = blank).</param>
    /// <param name="solution">The unique solution, or empty when unknown.</param>
    public static bool[] WrongCells(ReadOnlySpan<byte> answer, ReadOnlySpan<byte> givens, ReadOnlySpan<byte> solution)
    {
        int n = SudokuBoard.SizeFromCells(answer.Length);
        (int boxRows, int boxCols) = SudokuBoard.BoxShape(n);
        var wrong = new bool[answer.Length];
        for (int i = 0; i < answer.Length; i++)
        {
            wrong[i] = answer[i] == 0 || (givens[i] != 0 && givens[i] != answer[i]) ||
                (!solution.IsEmpty && solution[i] != answer[i]);
            for (int j = 0; j < answer.Length && !wrong[i] && solution.IsEmpty; j++)
            {
                int ri = i / n, ci = i % n, rj = j / n, cj = j % n;
                bool peer = ri == rj || ci == cj || (ri / boxRows == rj / boxRows && ci / boxCols == cj / boxCols);
                wrong[i] = j != i && peer && answer[j] == answer[i];
            }
        }
        return wrong;
    }

    /// <summary>Draws <paramref name="s"/> and writes the PNG.</summary>
    /// <param name="path">Output file.</param>
    /// <param name="s">The solve, with the prediction after every segment.</param>
    /// <param name="solution">The puzzle's unique solution, or null when it has none or several.</param>
    public static void Save(string path, SudokuTrace s, byte[]? solution)
    {
        int n = s.N;
        byte[][] history = [.. s.Run.History.Select(SegmentTrace.Digits)];
        bool[] wrong = WrongCells(s.Answer, s.Givens, solution);
        int cell = Math.Clamp(400 / n, 24, 80), small = Math.Clamp(150 / n, 12, 36);
        int columns = StripLayout.ColumnsFor(history.Length, small * n, 1300);
        float boardTop = Margin + 58;
        var strip = new StripLayout(history.Length, small * n, columns, Margin, boardTop + cell * n + 56);
        int width = (int)Math.Max(strip.Width, cell * n + 420) + 2 * Margin;
        using var c = new PngCanvas(width, (int)(strip.Top + strip.Height) + Margin / 2);

        c.Text($"Sudoku {n}x{n}: the model's answer after {Words.Count(s.Segments, "segment")}", Margin, Margin + 16,
            20, Palette.Text, bold: true);
        c.Text(Status(s, wrong, solution != null), Margin, Margin + 42, 15, s.Valid ? Palette.Good : Palette.Bad);
        DrawBoard(c, Margin, boardTop, cell, s.Givens, s.Answer, wrong, changed: null);
        DrawLegend(c, Margin + cell * n + 32, boardTop, s, solution != null);

        c.Text("The answer after each segment (yellow: changed since the previous segment; red: wrong)", Margin,
            strip.Top - 12, 15, Palette.Text, bold: true);
        byte[] previous = s.Givens;
        for (int i = 0; i < history.Length; i++)
        {
            bool[] changed = [.. history[i].Select((d, k) => d != previous[k])];
            bool[] bad = WrongCells(history[i], s.Givens, solution);
            (float x, float y) = strip.Corner(i);
            c.Text($"segment {i + 1}", x, y - 4, 12, Palette.Text, bold: true);
            DrawBoard(c, x, y, small, s.Givens, history[i], bad, changed);
            c.Text($"{changed.Count(b => b)} changed, {bad.Count(b => b)} wrong", x, y + small * n + 13, 11, Palette.Subtle);
            previous = history[i];
        }
        c.SavePng(path);
    }

    private static string Status(SudokuTrace s, bool[] wrong, bool unique)
    {
        if (s.Valid) return "valid: a complete Sudoku that respects every given";
        int bad = wrong.Count(b => b);
        return unique
            ? $"NOT valid: {Words.Count(bad, "wrong cell")} (red): different from the puzzle's unique solution"
            : $"NOT valid: {Words.Count(bad, "cell")} (red) empty, against a given, or repeated in a row, column or box";
    }

    private static void DrawBoard(PngCanvas c, float x, float y, int cell, byte[] givens, byte[] digits, bool[] wrong,
        bool[]? changed)
    {
        int n = SudokuBoard.SizeFromCells(digits.Length);
        (int boxRows, int boxCols) = SudokuBoard.BoxShape(n);
        for (int i = 0; i < digits.Length; i++)
        {
            float cx = x + i % n * cell, cy = y + i / n * cell;
            bool given = givens[i] != 0;
            SKColor bg = changed?[i] == true ? Palette.Changed : wrong[i] ? Palette.WrongBg : given ? Palette.GivenBg : SKColors.White;
            c.Fill(cx, cy, cell, cell, bg);
            if (digits[i] == 0) continue;
            SKColor ink = wrong[i] ? Palette.Bad : given ? Palette.Text : Palette.Filled;
            c.CenteredText(digits[i].ToString(CultureInfo.InvariantCulture), cx + cell / 2f, cy + cell / 2f, cell * 0.62f,
                ink, bold: given || wrong[i]);
        }
        for (int k = 0; k <= n; k++)
        {
            bool rowRule = k % boxRows == 0, colRule = k % boxCols == 0;
            c.Line(x, y + k * cell, x + n * cell, y + k * cell, rowRule ? Palette.Text : Palette.GridLine, rowRule ? 2 : 1);
            c.Line(x + k * cell, y, x + k * cell, y + n * cell, colRule ? Palette.Text : Palette.GridLine, colRule ? 2 : 1);
        }
    }

    private static void DrawLegend(PngCanvas c, float x, float y, SudokuTrace s, bool unique)
    {
        (SKColor Bg, SKColor Ink, string Label)[] keys =
        [
            (Palette.GivenBg, Palette.Text, $"given ({s.Givens.Count(d => d != 0)} cells)"),
            (SKColors.White, Palette.Filled, "filled in by the model"),
            (Palette.WrongBg, Palette.Bad, unique ? "wrong: differs from the unique solution" : "wrong: breaks a rule or a given, or empty"),
            (Palette.Changed, Palette.Text, "changed since the previous segment (strip)"),
        ];
        for (int k = 0; k < keys.Length; k++)
        {
            float ky = y + k * 30;
            c.Fill(x, ky, 22, 22, keys[k].Bg);
            c.Outline(x, ky, 22, 22, Palette.GridLine, 1);
            c.CenteredText("5", x + 11, ky + 11, 14, keys[k].Ink, bold: true);
            c.Text(keys[k].Label, x + 32, ky + 16, 14, Palette.Text);
        }
        float iy = y + keys.Length * 30 + 20;
        c.Text(string.Create(CultureInfo.InvariantCulture, $"answer unchanged since segment {s.StableSince}"), x, iy, 14, Palette.Subtle);
        c.Text(string.Create(CultureInfo.InvariantCulture, $"halting confidence sigmoid(q_halt) = {s.Confidence:F3}"), x, iy + 22, 14,
            Palette.Subtle);
        c.Text(string.Create(CultureInfo.InvariantCulture, $"{s.Milliseconds:F0} ms for {s.Segments} segments"), x, iy + 44, 14,
            Palette.Subtle);
    }
}
