using System.Globalization;
using Hrm.Runtime.Formats;
using ScottPlot;

namespace Hrm.Train.Render;

/// <summary>
/// <c>hrm render halting</c>: a histogram of the segments each example used under adaptive halting, from the
/// <c>segments.npy</c> that <c>hrm eval --halting adaptive --out DIR</c> writes (int32, shape [N]).
/// </summary>
internal static class HaltingPicture
{
    /// <summary>Reads and checks segments.npy: '&lt;i4', one dimension, at least one example, every value ≥ 1.</summary>
    /// <exception cref="HrmFormatException">Another dtype or shape, or a value below 1 (named by index).</exception>
    public static int[] ReadSegments(string path)
    {
        NpyArray a = Npy.Read(path);
        if (a.Descr != "<i4")
            throw new HrmFormatException(path, "descr", $"is '{a.Descr}'; segments used per example are int32 ('<i4')");
        if (a.Shape.Length != 1 || a.Shape[0] < 1)
            throw new HrmFormatException(path, "shape", $"expected [N] with N >= 1 (segments used per example), got {Npy.FormatShape(a.Shape)}");
        int[] segments = a.ToInt32();
        int bad = Array.FindIndex(segments, s => s < 1 || s > MaxSegments);
        if (bad >= 0)
        {
            throw new HrmFormatException(path, $"element {bad}", $"is {segments[bad]}; every example uses at least 1 " +
                $"segment, and the picture shows at most {MaxSegments}");
        }
        return segments;
    }

    /// <summary>The most segments per example the histogram has a bar for.</summary>
    public const int MaxSegments = 4096;

    /// <summary>Draws the histogram and writes the PNG.</summary>
    public static void Save(string path, string source, int[] segments)
    {
        int max = segments.Max();
        var counts = new double[max];
        foreach (int s in segments) counts[s - 1]++;
        int[] sorted = [.. segments.Order()];
        double median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2.0;
        var plot = RenderFonts.NewPlot();
        var bars = plot.Add.Bars([.. Enumerable.Range(1, max).Select(i => (double)i)], counts);
        bars.Color = Color.FromHex("#1F77B4");
        foreach (Bar b in bars.Bars)
        {
            b.Size = 0.8;
            if (max <= 32 && b.Value > 0) b.Label = b.Value.ToString("0", CultureInfo.InvariantCulture);
        }
        plot.Axes.Margins(bottom: 0);
        int step = Math.Max(1, (max + 15) / 16);
        double[] ticks = [.. Enumerable.Range(1, max).Where(i => (i - 1) % step == 0 || i == max).Select(i => (double)i)];
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks,
            [.. ticks.Select(t => t.ToString("0", CultureInfo.InvariantCulture))]);
        string stats = FormattableString.Invariant($"mean {segments.Average():F2}, median {median:0.#}, max {max}");
        plot.Title($"Segments used under adaptive halting: {segments.Length} examples, {stats}", size: 16);
        plot.XLabel("segments used", size: 14);
        plot.YLabel("examples", size: 14);
        using var c = new PngCanvas(900, 560);
        c.Plot(plot, 0, 0, 900, 540);
        c.Text(source, 8, 554, 11, Palette.Subtle);
        c.SavePng(path);
    }
}
