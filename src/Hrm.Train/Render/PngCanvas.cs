using SkiaSharp;

namespace Hrm.Train.Render;

/// <summary>
/// A white raster canvas (SkiaSharp, the renderer under ScottPlot) with the few drawing calls the pictures need:
/// filled and outlined rectangles, lines, text in the embedded font, a ScottPlot plot in a rectangle, and PNG output.
/// Coordinates are pixels from the top-left corner.
/// </summary>
internal sealed class PngCanvas : IDisposable
{
    /// <summary>The largest side accepted (a guard against absurd layouts).</summary>
    public const int MaxSide = 16384;

    private readonly SKSurface _surface;
    private readonly SKPaint _paint = new() { IsAntialias = true };

    public PngCanvas(int width, int height)
    {
        if (width < 1 || height < 1 || width > MaxSide || height > MaxSide)
            throw new ArgumentException($"a picture of {width} x {height} pixels is outside 1..{MaxSide} per side");
        (Width, Height) = (width, height);
        _surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul))
            ?? throw new InvalidOperationException($"SkiaSharp could not create a {width} x {height} surface");
        _surface.Canvas.Clear(SKColors.White);
    }

    public int Width { get; }

    public int Height { get; }

    public void Fill(float x, float y, float w, float h, SKColor color)
    {
        _paint.Style = SKPaintStyle.Fill;
        _paint.Color = color;
        _surface.Canvas.DrawRect(x, y, w, h, _paint);
    }

    public void Outline(float x, float y, float w, float h, SKColor color, float lineWidth)
    {
        _paint.Style = SKPaintStyle.Stroke;
        _paint.StrokeWidth = lineWidth;
        _paint.Color = color;
        _surface.Canvas.DrawRect(x, y, w, h, _paint);
    }

    public void Line(float x0, float y0, float x1, float y1, SKColor color, float lineWidth)
    {
        _paint.Style = SKPaintStyle.Stroke;
        _paint.StrokeWidth = lineWidth;
        _paint.Color = color;
        _surface.Canvas.DrawLine(x0, y0, x1, y1, _paint);
    }

    public void Dot(float cx, float cy, float radius, SKColor color)
    {
        _paint.Style = SKPaintStyle.Fill;
        _paint.Color = color;
        _surface.Canvas.DrawCircle(cx, cy, radius, _paint);
    }

    /// <summary>Draws <paramref name="text"/> with its baseline at <paramref name="y"/>.</summary>
    public void Text(string text, float x, float y, float size, SKColor color, bool bold = false,
        SKTextAlign align = SKTextAlign.Left)
    {
        using var font = new SKFont(RenderFonts.Face(bold), size);
        _paint.Style = SKPaintStyle.Fill;
        _paint.Color = color;
        _surface.Canvas.DrawText(text, x, y, align, font, _paint);
    }

    /// <summary>Draws <paramref name="text"/> centred on (cx, cy), using the cap height for the vertical centre.</summary>
    public void CenteredText(string text, float cx, float cy, float size, SKColor color, bool bold = false)
    {
        using var font = new SKFont(RenderFonts.Face(bold), size);
        Text(text, cx, cy + font.Metrics.CapHeight / 2, size, color, bold, SKTextAlign.Center);
    }

    /// <summary>Width in pixels of <paramref name="text"/> at <paramref name="size"/>.</summary>
    public static float TextWidth(string text, float size, bool bold = false)
    {
        using var font = new SKFont(RenderFonts.Face(bold), size);
        return font.MeasureText(text);
    }

    /// <summary>
    /// Renders a ScottPlot plot of <paramref name="w"/> x <paramref name="h"/> pixels at (x, y). The plot draws on a
    /// surface of its own first: ScottPlot clears the whole canvas it is given.
    /// </summary>
    public void Plot(ScottPlot.Plot plot, float x, float y, int w, int h)
    {
        RenderFonts.UseForScottPlot();
        using SKSurface surface = SKSurface.Create(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Premul))
            ?? throw new InvalidOperationException($"SkiaSharp could not create a {w} x {h} surface");
        plot.Render(surface);
        using SKImage image = surface.Snapshot();
        _surface.Canvas.DrawImage(image, x, y);
    }

    /// <summary>Encodes the picture as PNG and writes it to <paramref name="path"/> (creating its directory).</summary>
    public void SavePng(string path)
    {
        using SKImage image = _surface.Snapshot();
        using SKData data = image.Encode(SKEncodedImageFormat.Png, 100)
            ?? throw new InvalidOperationException("SkiaSharp could not encode the picture as PNG");
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        File.WriteAllBytes(path, data.ToArray());
    }

    public void Dispose()
    {
        _paint.Dispose();
        _surface.Dispose();
    }
}
