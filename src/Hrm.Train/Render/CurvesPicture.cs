using System.Globalization;
using Hrm.Train.Training;
using ScottPlot;
using SkiaSharp;

namespace Hrm.Train.Render;

/// <summary>
/// <c>hrm render curves</c>: training curves from metrics.jsonl, four ScottPlot panels (loss, accuracy, exact
/// accuracy, mean segments), each with the <c>train/</c> values as a line and the <c>eval/</c> values of the same
/// metric as points. Non-finite values are left out and counted in the header.
/// </summary>
internal static class CurvesPicture
{
    private const int Margin = 16;
    private const int PanelWidth = 620;
    private const int PanelHeight = 400;
    private const int Header = 56;

    /// <summary>The panels: metric name after the train/ or eval/ prefix, and its title.</summary>
    public static readonly (string Metric, string Title)[] Panels =
    [
        ("lm_loss", "LM loss"),
        ("accuracy", "token accuracy"),
        ("exact_accuracy", "exact accuracy (whole puzzle)"),
        ("steps", "mean segments (ACT steps)"),
    ];

    private static readonly SKColor TrainColor = new(0x1F, 0x77, 0xB4);
    private static readonly SKColor EvalColor = new(0xD6, 0x27, 0x28);

    /// <summary>Draws the panels and writes the PNG.</summary>
    /// <param name="path">Output file.</param>
    /// <param name="source">The log's name, for the header.</param>
    /// <param name="entries">The log's lines.</param>
    /// <exception cref="ArgumentException">The log has none of the panels' values.</exception>
    public static void Save(string path, string source, IReadOnlyList<MetricsEntry> entries)
    {
        int found = Panels.Count(p => entries.Any(e => e.Values.ContainsKey("train/" + p.Metric) || e.Values.ContainsKey("eval/" + p.Metric)));
        if (found == 0)
        {
            string wanted = string.Join(", ", Panels.Select(p => "train/" + p.Metric));
            throw new ArgumentException($"{source}: none of {wanted} or their eval/ counterparts in {entries.Count} lines");
        }
        int trainLines = entries.Count(e => e.Values.Keys.Any(k => k.StartsWith("train/", StringComparison.Ordinal)));
        int evalLines = entries.Count(e => e.Values.Keys.Any(k => k.StartsWith("eval/", StringComparison.Ordinal)));
        int skipped = 0;
        using var c = new PngCanvas(2 * PanelWidth + 3 * Margin, 2 * PanelHeight + 3 * Margin + Header);
        for (int i = 0; i < Panels.Length; i++)
        {
            float x = Margin + i % 2 * (PanelWidth + Margin), y = Header + Margin + i / 2 * (PanelHeight + Margin);
            (double[] tx, double[] ty, int tSkip) = Series(entries, "train/" + Panels[i].Metric);
            (double[] ex, double[] ey, int eSkip) = Series(entries, "eval/" + Panels[i].Metric);
            skipped += tSkip + eSkip;
            double[] all = [.. ty, .. ey];
            if (all.Length > 0 && !double.IsFinite(all.Max() - all.Min()))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{source}: the values of " +
                    $"{Panels[i].Metric} run from {all.Min():G3} to {all.Max():G3}, a span past what a plot can draw"));
            }
            if (tx.Length + ex.Length == 0)
            {
                c.Outline(x, y, PanelWidth, PanelHeight, Palette.GridLine, 1);
                c.CenteredText($"{Panels[i].Title}: no train/{Panels[i].Metric} or eval/{Panels[i].Metric} values",
                    x + PanelWidth / 2f, y + PanelHeight / 2f, 14, Palette.Subtle);
                continue;
            }
            c.Plot(Panel(Panels[i].Title, Panels[i].Metric, tx, ty, ex, ey), x, y, PanelWidth, PanelHeight);
        }
        string note = skipped > 0 ? $"; {Words.Count(skipped, "non-finite value")} left out" : "";
        c.Text("Training curves", Margin, 26, 20, Palette.Text, bold: true);
        c.Text($"{source}: {Words.Count(trainLines, "train line")}, {Words.Count(evalLines, "eval line")}{note}", Margin, 50, 14,
            Palette.Subtle);
        float lx = c.Width - Margin - 330;
        c.Line(lx, 20, lx + 28, 20, TrainColor, 2);
        c.Text("train/<metric>", lx + 36, 25, 14, Palette.Text);
        c.Dot(lx + 175, 20, 5, EvalColor);
        c.Text("eval/<metric>", lx + 188, 25, 14, Palette.Text);
        c.SavePng(path);
    }

    private static Plot Panel(string title, string metric, double[] tx, double[] ty, double[] ex, double[] ey)
    {
        var plot = RenderFonts.NewPlot();
        plot.Title(title, size: 16);
        plot.XLabel("step", size: 13);
        plot.YLabel(metric, size: 13);
        if (tx.Length > 0)
        {
            var line = plot.Add.ScatterLine(tx, ty, Scott(TrainColor));
            line.LineWidth = 1.5f;
            if (tx.Length == 1) line.MarkerSize = 6;
        }
        if (ex.Length > 0)
        {
            var points = plot.Add.ScatterPoints(ex, ey, Scott(EvalColor));
            points.MarkerSize = 9;
        }
        return plot;
    }

    private static Color Scott(SKColor c) => new(c.Red, c.Green, c.Blue);

    private static (double[] X, double[] Y, int Skipped) Series(IReadOnlyList<MetricsEntry> entries, string key)
    {
        var xs = new List<double>();
        var ys = new List<double>();
        int skipped = 0;
        foreach (MetricsEntry e in entries)
        {
            if (!e.Values.TryGetValue(key, out double v)) continue;
            if (!double.IsFinite(v))
            {
                skipped++;
                continue;
            }
            xs.Add(e.Step);
            ys.Add(v);
        }
        return ([.. xs], [.. ys], skipped);
    }
}
