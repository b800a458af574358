using SkiaSharp;

namespace Hrm.Train.Render;

/// <summary>Colours shared by the puzzle pictures (one meaning per colour in every picture).</summary>
internal static class Palette
{
    public static readonly SKColor Text = new(0x20, 0x20, 0x20);
    public static readonly SKColor Subtle = new(0x60, 0x60, 0x60);
    public static readonly SKColor GridLine = new(0xB0, 0xB0, 0xB0);
    public static readonly SKColor Good = new(0x1A, 0x7F, 0x37);
    public static readonly SKColor Bad = new(0xC0, 0x10, 0x10);

    /// <summary>Background of given (input) cells.</summary>
    public static readonly SKColor GivenBg = new(0xE4, 0xE4, 0xE4);

    /// <summary>Digits or path cells the model filled in.</summary>
    public static readonly SKColor Filled = new(0x1F, 0x5F, 0xBF);

    /// <summary>Background of wrong cells.</summary>
    public static readonly SKColor WrongBg = new(0xFF, 0xC8, 0xC8);

    /// <summary>Cells that changed since the previous segment.</summary>
    public static readonly SKColor Changed = new(0xFF, 0xD8, 0x40);
}
