using ScottPlot;
using SkiaSharp;

namespace Hrm.Train.Render;

/// <summary>Answers ScottPlot's requests for <see cref="RenderFonts.Family"/> with the faces embedded in hrm.</summary>
internal sealed class EmbeddedFontResolver : IFontResolver
{
    public SKTypeface? CreateTypeface(string fontName, FontWeight weight, FontSlant slant, FontSpacing width) =>
        CreateTypeface(fontName, weight >= FontWeight.SemiBold, italic: false);

    public SKTypeface? CreateTypeface(string fontName, bool bold, bool italic) =>
        fontName == RenderFonts.Family ? RenderFonts.Face(bold) : null;
}
