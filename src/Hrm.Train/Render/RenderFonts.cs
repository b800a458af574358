using SkiaSharp;

namespace Hrm.Train.Render;

/// <summary>
/// The typefaces every picture uses: DejaVu Sans and DejaVu Sans Bold, subset to Latin-1 and a few symbols and
/// embedded in hrm (Render/Fonts, with their licence), so text renders on machines without any system font. The
/// SkiaSharp build ScottPlot uses on Linux (NoDependencies) has no fontconfig: with an empty /usr/share/fonts it
/// finds no typeface and draws no text at all.
/// </summary>
internal static class RenderFonts
{
    /// <summary>The family name the embedded faces answer to.</summary>
    public const string Family = "DejaVu Sans";

    private static readonly Lazy<SKTypeface> Regular = new(() => Load("DejaVuSans.ttf"));
    private static readonly Lazy<SKTypeface> Bold = new(() => Load("DejaVuSans-Bold.ttf"));
    private static readonly Lazy<bool> ScottPlotReady = new(Register);

    /// <summary>The regular or bold face.</summary>
    public static SKTypeface Face(bool bold) => bold ? Bold.Value : Regular.Value;

    /// <summary>Makes ScottPlot draw all its text with the embedded faces (once per process).</summary>
    public static void UseForScottPlot() => _ = ScottPlotReady.Value;

    /// <summary>A new ScottPlot plot whose text uses the embedded faces (a plot takes the font names when created).</summary>
    public static ScottPlot.Plot NewPlot()
    {
        UseForScottPlot();
        return new ScottPlot.Plot();
    }

    private static bool Register()
    {
        ScottPlot.Fonts.FontResolvers.Insert(0, new EmbeddedFontResolver());
        ScottPlot.Fonts.Default = Family;
        ScottPlot.Fonts.Sans = Family;
        return true;
    }

    private static SKTypeface Load(string file)
    {
        string name = "Hrm.Train.Render.Fonts." + file;
        using Stream stream = typeof(RenderFonts).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"the font resource '{name}' is missing from the hrm assembly");
        using SKData data = SKData.Create(stream);
        return SKTypeface.FromData(data)
            ?? throw new InvalidOperationException($"the font resource '{name}' is not a font SkiaSharp can read");
    }
}
