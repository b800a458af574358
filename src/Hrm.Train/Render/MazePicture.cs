using Hrm.Runtime.Puzzles;
using Hrm.Train.Cli;
using Hrm.Train.Data;
using SkiaSharp;

namespace Hrm.Train.Render;

/// <summary>
/// <c>hrm render maze</c>: the maze with the model's path (blue; any other change the model made, such as a path
/// through a wall, in red), then the prediction after every segment (cells changed since the previous segment, or
/// since the maze for segment 1, outlined in yellow).
/// </summary>
internal static class MazePicture
{
    private const int Margin = 24;

    private static readonly SKColor Wall = new(0x2B, 0x2B, 0x2B);
    private static readonly SKColor Start = new(0x2C, 0xA0, 0x2C);
    private static readonly SKColor Goal = new(0xD6, 0x27, 0x28);
    private static readonly SKColor WrongChange = new(0xFF, 0x40, 0xA0);

    /// <summary>Draws <paramref name="s"/> and writes the PNG.</summary>
    public static void Save(string path, MazeTrace s)
    {
        int n = MazeBoard.SideOf(s.Puzzle.Length);
        byte[][] history = [.. s.Run.History.Select(Clamp)];
        int cell = Math.Clamp(480 / n, 4, 40), small = Math.Clamp(180 / n, 3, 24);
        int columns = StripLayout.ColumnsFor(history.Length, small * n, 1300);
        float boardTop = Margin + 58;
        var strip = new StripLayout(history.Length, small * n, columns, Margin, boardTop + cell * n + 56);
        int width = (int)Math.Max(strip.Width, cell * n + 440) + 2 * Margin;
        using var c = new PngCanvas(width, (int)(strip.Top + strip.Height) + Margin / 2);

        c.Text($"Maze {n}x{n}: the model's path after {Words.Count(s.Run.Segments, "segment")}", Margin,
            Margin + 16, 20, Palette.Text, bold: true);
        MazePathCheck check = s.Check;
        string shortest = check.Shortest < 0 ? "the goal is unreachable" : $"shortest {check.Shortest} moves";
        string status = check.Valid
            ? $"valid path: {check.Length} moves ({shortest}){(check.IsShortest ? ", a shortest path" : ", NOT a shortest path")}"
            : $"NOT a valid path: {check.Problem} ({shortest})";
        c.Text(status, Margin, Margin + 42, 15, check.IsShortest ? Palette.Good : Palette.Bad);
        DrawMaze(c, Margin, boardTop, cell, s.Puzzle, history[^1], changed: null);
        DrawLegend(c, Margin + cell * n + 32, boardTop, s);

        c.Text("The prediction after each segment (yellow outline: changed since the previous segment)", Margin,
            strip.Top - 12, 15, Palette.Text, bold: true);
        byte[] previous = s.Puzzle;
        for (int i = 0; i < history.Length; i++)
        {
            bool[] changed = [.. history[i].Select((t, k) => t != previous[k])];
            (float x, float y) = strip.Corner(i);
            c.Text($"segment {i + 1}", x, y - 4, 12, Palette.Text, bold: true);
            DrawMaze(c, x, y, small, s.Puzzle, history[i], changed);
            int pathCells = history[i].Count(t => t == MazeBoard.Path);
            c.Text($"{changed.Count(b => b)} changed, {Words.Count(pathCells, "path cell")}", x, y + small * n + 13, 11, Palette.Subtle);
            previous = history[i];
        }
        c.SavePng(path);
    }

    private static byte[] Clamp(int[] predicted) => [.. predicted.Select(t => (byte)Math.Clamp(t, 0, MazeBoard.Path))];

    private static SKColor Base(byte token) => token switch
    {
        MazeBoard.Wall => Wall,
        MazeBoard.Start => Start,
        MazeBoard.Goal => Goal,
        MazeBoard.Open => SKColors.White,
        _ => Palette.GivenBg,   // PAD: not part of a maze
    };

    private static void DrawMaze(PngCanvas c, float x, float y, int cell, byte[] puzzle, byte[] predicted, bool[]? changed)
    {
        int n = MazeBoard.SideOf(puzzle.Length);
        float inset = Math.Max(1, cell / 5f);
        for (int i = 0; i < puzzle.Length; i++)
        {
            float cx = x + i % n * cell, cy = y + i / n * cell;
            c.Fill(cx, cy, cell, cell, Base(puzzle[i]));
            if (predicted[i] == puzzle[i]) continue;
            bool path = predicted[i] == MazeBoard.Path && puzzle[i] == MazeBoard.Open;
            c.Fill(cx + inset, cy + inset, cell - 2 * inset, cell - 2 * inset, path ? Palette.Filled : WrongChange);
        }
        if (changed != null)
        {
            float w = Math.Max(1, cell / 4f);
            for (int i = 0; i < puzzle.Length; i++)
            {
                if (changed[i]) c.Outline(x + i % n * cell + w / 2, y + i / n * cell + w / 2, cell - w, cell - w, Palette.Changed, w);
            }
        }
        c.Outline(x, y, n * cell, n * cell, Palette.Text, 1);
    }

    private static void DrawLegend(PngCanvas c, float x, float y, MazeTrace s)
    {
        (SKColor Bg, SKColor? Inner, string Label)[] keys =
        [
            (Start, null, "start (S)"),
            (Goal, null, "goal (G)"),
            (Wall, null, "wall"),
            (SKColors.White, Palette.Filled, $"the model's path ({Words.Count(s.Predicted.Count(t => t == MazeBoard.Path), "cell")})"),
            (Wall, WrongChange, "any other change the model made"),
            (SKColors.White, null, "changed since the previous segment (strip)"),
        ];
        for (int k = 0; k < keys.Length; k++)
        {
            float ky = y + k * 30;
            c.Fill(x, ky, 22, 22, keys[k].Bg);
            if (keys[k].Inner is SKColor inner) c.Fill(x + 5, ky + 5, 12, 12, inner);
            c.Outline(x, ky, 22, 22, k == keys.Length - 1 ? Palette.Changed : Palette.GridLine, k == keys.Length - 1 ? 4 : 1);
            c.Text(keys[k].Label, x + 32, ky + 16, 14, Palette.Text);
        }
        float iy = y + keys.Length * 30 + 20;
        c.Text($"answer unchanged since segment {s.Run.StableSince}", x, iy, 14, Palette.Subtle);
        c.Text(FormattableString.Invariant($"halting confidence sigmoid(q_halt) = {s.Run.Confidence:F3}"), x, iy + 22, 14, Palette.Subtle);
        if (s.OtherChanges > 0)
            c.Text($"{s.OtherChanges} cells changed other than by marking an open cell", x, iy + 44, 14, Palette.Bad);
    }
}
