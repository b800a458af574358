using SkiaSharp;

namespace Hrm.Train.Tests.Render;

/// <summary>Checks that a file is a PNG that decodes, and reads it back.</summary>
public static class PngFile
{
    private static readonly byte[] Signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>The decoded image (dispose it); fails the test unless the file starts with the PNG signature and decodes.</summary>
    public static SKBitmap Decode(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        Assert.True(bytes.AsSpan().StartsWith(Signature), $"{path} does not start with the PNG signature");
        SKBitmap? bitmap = SKBitmap.Decode(bytes);
        Assert.NotNull(bitmap);
        Assert.True(bitmap.Width > 0 && bitmap.Height > 0, $"{path} decodes to {bitmap.Width} x {bitmap.Height}");
        return bitmap;
    }

    /// <summary>Every distinct colour of the image.</summary>
    public static HashSet<SKColor> Colors(SKBitmap bitmap)
    {
        var set = new HashSet<SKColor>();
        for (int y = 0; y < bitmap.Height; y++)
        {
            for (int x = 0; x < bitmap.Width; x++) set.Add(bitmap.GetPixel(x, y));
        }
        return set;
    }
}
