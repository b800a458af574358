using System.Globalization;
using ScottPlot;

namespace Hrm.Train.Render;

/// <summary><c>hrm analyze participation-ratio --out</c>: a bar chart of the PR of z_H and z_L, trained and untrained.</summary>
internal static class ParticipationRatioPicture
{
    private static readonly Color HColor = Color.FromHex("#9467BD");
    private static readonly Color LColor = Color.FromHex("#FF7F0E");

    /// <summary>Draws the bars and writes the PNG.</summary>
    /// <param name="path">Output file.</param>
    /// <param name="subtitle">What the samples are (printed under the chart; '\n' breaks lines).</param>
    /// <param name="models">Each model's name and its PR of z_H and z_L (NaN when undefined).</param>
    public static void Save(string path, string subtitle, IReadOnlyList<(string Name, double ZH, double ZL)> models)
    {
        var plot = RenderFonts.NewPlot();
        var bars = new List<Bar>();
        var ticks = new List<(double, string)>();
        for (int m = 0; m < models.Count; m++)
        {
            double x = m * 3;
            bars.Add(Bar(x, models[m].ZH, HColor));
            bars.Add(Bar(x + 1, models[m].ZL, LColor));
            ticks.Add((x, "z_H"));
            ticks.Add((x + 1, "z_L"));
            ticks.Add((x + 0.5, "\n" + models[m].Name));
        }
        plot.Add.Bars(bars.ToArray());
        plot.Axes.Margins(bottom: 0, top: 0.15);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            [.. ticks.Select(t => t.Item1)], [.. ticks.Select(t => t.Item2)]);
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.Title("Participation ratio of the recurrent states", size: 17);
        plot.YLabel("PR = (Σλ)² / Σλ²", size: 14);
        string[] lines = subtitle.Split('\n');
        using var c = new PngCanvas(760, 510 + 18 * lines.Length + 4);
        c.Plot(plot, 0, 0, 760, 510);
        for (int i = 0; i < lines.Length; i++) c.Text(lines[i], 10, 524 + 18 * i, 12, Palette.Subtle);
        c.SavePng(path);
    }

    private static Bar Bar(double x, double value, Color color) => new()
    {
        Position = x,
        Value = double.IsFinite(value) ? value : 0,
        FillColor = color,
        Size = 0.9,
        Label = double.IsFinite(value) ? value.ToString("F2", CultureInfo.InvariantCulture) : "n/a",
    };
}
