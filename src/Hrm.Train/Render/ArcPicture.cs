using Hrm.Runtime.Arc;
using Hrm.Train.Data;
using SkiaSharp;

namespace Hrm.Train.Render;

/// <summary>
/// <c>hrm render arc</c>: one test example of an ARC dataset as input, expected and predicted grids in the standard
/// ARC palette, each cropped to its grid (<see cref="ArcEncoding.Crop"/>); predicted cells that differ from the
/// expected grid carry a white cross.
/// </summary>
internal static class ArcPicture
{
    private const int Margin = 24;
    private const int PanelGap = 40;
    private const int Panel = 320;

    /// <summary>The standard ARC colours 0..9: black, blue, red, green, yellow, grey, magenta, orange, light blue, maroon.</summary>
    public static readonly SKColor[] Colors =
    [
        new(0x00, 0x00, 0x00), new(0x00, 0x74, 0xD9), new(0xFF, 0x41, 0x36), new(0x2E, 0xCC, 0x40), new(0xFF, 0xDC, 0x00),
        new(0xAA, 0xAA, 0xAA), new(0xF0, 0x12, 0xBE), new(0xFF, 0x85, 0x1B), new(0x7F, 0xDB, 0xFF), new(0x87, 0x0C, 0x25),
    ];

    private static readonly SKColor Lines = new(0x55, 0x55, 0x55);

    /// <summary>Draws the three grids and writes the PNG.</summary>
    /// <param name="path">Output file.</param>
    /// <param name="title">What the example is (task name, view, example index).</param>
    /// <param name="input">The cropped input.</param>
    /// <param name="expected">The cropped label.</param>
    /// <param name="predicted">The cropped prediction.</param>
    /// <param name="segments">Segments the model ran.</param>
    public static void Save(string path, string title, ArcGrid input, ArcGrid expected, ArcGrid predicted, int segments)
    {
        ArcGrid[] grids = [input, expected, predicted];
        int[] cells = [.. grids.Select(g => Math.Clamp(Panel / Math.Max(1, Math.Max(g.Rows, g.Cols)), 4, 40))];
        float height = grids.Select((g, i) => Math.Max(g.Rows * cells[i], 60)).Max();
        using var c = new PngCanvas(2 * Margin + 3 * Panel + 2 * PanelGap, (int)(Margin + 90 + height + Margin));
        c.Text(title, Margin, Margin + 16, 18, Palette.Text, bold: true);
        bool exact = predicted.Equals(expected);
        int differ = predicted.Rows == expected.Rows && predicted.Cols == expected.Cols
            ? Enumerable.Range(0, expected.Cells.Length).Count(i => predicted.Cells[i] != expected.Cells[i])
            : -1;
        string status = exact ? "exact match" : differ >= 0
            ? $"{differ} of {expected.Cells.Length} cells differ (white crosses)"
            : $"wrong shape: {predicted.Rows}x{predicted.Cols} predicted, {expected.Rows}x{expected.Cols} expected";
        c.Text($"prediction after {Words.Count(segments, "segment")}: {status}", Margin, Margin + 42, 15,
            exact ? Palette.Good : Palette.Bad);
        string[] names = ["input", "expected", "predicted"];
        for (int p = 0; p < 3; p++)
        {
            float x = Margin + p * (Panel + PanelGap), y = Margin + 80;
            c.Text($"{names[p]} ({grids[p].Rows}x{grids[p].Cols})", x, y - 8, 14, Palette.Text, bold: true);
            if (grids[p].Cells.Length == 0)
            {
                c.Outline(x, y, Panel, 60, Palette.GridLine, 1);
                c.Text("(empty: the first token is not a colour)", x + 8, y + 24, 12, Palette.Subtle);
                continue;
            }
            DrawGrid(c, x, y, cells[p], grids[p], p == 2 && differ > 0 ? expected : null);
        }
        c.SavePng(path);
    }

    private static void DrawGrid(PngCanvas c, float x, float y, int cell, ArcGrid g, ArcGrid? expected)
    {
        for (int r = 0; r < g.Rows; r++)
        {
            for (int col = 0; col < g.Cols; col++)
            {
                float cx = x + col * cell, cy = y + r * cell;
                c.Fill(cx, cy, cell, cell, Colors[g[r, col]]);
                if (expected == null || expected[r, col] == g[r, col]) continue;
                float m = cell * 0.22f, w = Math.Max(1.5f, cell / 8f);
                c.Line(cx + m, cy + m, cx + cell - m, cy + cell - m, SKColors.White, w);
                c.Line(cx + cell - m, cy + m, cx + m, cy + cell - m, SKColors.White, w);
            }
        }
        for (int r = 0; r <= g.Rows; r++) c.Line(x, y + r * cell, x + g.Cols * cell, y + r * cell, Lines, 1);
        for (int col = 0; col <= g.Cols; col++) c.Line(x + col * cell, y, x + col * cell, y + g.Rows * cell, Lines, 1);
    }
}
