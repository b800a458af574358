using Hrm.Runtime.Puzzles;
using Hrm.Runtime.Arc;
using Hrm.Train.Data;
using Hrm.Train.Render;
using SkiaSharp;

namespace Hrm.Train.Tests.Render;

[Collection(SerialRendering.Name)]
public sealed class PictureTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("hrm-picture-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public void Wrong_cells_are_the_ones_that_differ_from_the_unique_solution()
    {
        byte[] solution = SudokuText.Parse("1234 3412 2143 4321", 4);
        byte[] givens = SudokuText.Parse("1... .4.. ..4. ...1", 4);
        byte[] answer = (byte[])solution.Clone();
        answer[5] = 3;   // overwrites the given 4
        answer[6] = 4;
        answer[15] = 0;  // left empty
        bool[] wrong = SudokuPicture.WrongCells(answer, givens, solution);
        Assert.Equal([5, 6, 15], Enumerable.Range(0, 16).Where(i => wrong[i]));
    }

    [Fact]
    public void Without_a_solution_wrong_cells_are_repeats_empties_and_changed_givens()
    {
        byte[] givens = SudokuText.Parse("1... .... .... ...1", 4);
        byte[] answer = SudokuText.Parse("1234 3412 2143 4321", 4);
        Assert.DoesNotContain(true, SudokuPicture.WrongCells(answer, givens, []));   // a valid board that keeps the givens
        answer[0] = 2;   // the given 1 is gone, and 2 repeats in row 1 (cell 1), column 1 (cell 8) and box 1 (cell 1)
        answer[9] = 0;   // left empty
        bool[] wrong = SudokuPicture.WrongCells(answer, givens, []);
        Assert.Equal([0, 1, 8, 9], Enumerable.Range(0, 16).Where(i => wrong[i]));
    }

    [Fact]
    public void Arc_grids_are_drawn_in_the_arc_palette()
    {
        ArcGrid input = ArcGrid.FromRows([0, 1, 2], [3, 4, 5]), expected = ArcGrid.FromRows([6, 7], [8, 9]);
        ArcGrid predicted = ArcGrid.FromRows([6, 7], [8, 1]);
        string path = Path.Combine(_dir.FullName, "arc.png");
        ArcPicture.Save(path, "crafted", input, expected, predicted, segments: 2);
        using SKBitmap bitmap = PngFile.Decode(path);
        HashSet<SKColor> seen = PngFile.Colors(bitmap);
        foreach (SKColor c in ArcPicture.Colors) Assert.Contains(c, seen);
        Assert.Equal(new SKColor(0x87, 0x0C, 0x25), ArcPicture.Colors[9]);   // maroon, the one odd member of the palette
    }

    [Fact]
    public void Text_renders_with_the_embedded_font_also_through_scottplot()
    {
        SKTypeface face = RenderFonts.Face(bold: false);
        Assert.Equal(RenderFonts.Family, face.FamilyName);
        Assert.True(face.GlyphCount > 150, $"{face.GlyphCount} glyphs");
        Assert.True(RenderFonts.Face(bold: true).IsBold);
        RenderFonts.UseForScottPlot();
        SKTypeface viaScottPlot = ScottPlot.Fonts.GetTypeface(ScottPlot.Fonts.Default, false, false);
        Assert.Equal(RenderFonts.Family, ScottPlot.Fonts.Default);
        Assert.Same(face, viaScottPlot);

        string path = Path.Combine(_dir.FullName, "text.png");
        using (var c = new PngCanvas(200, 40))
        {
            c.Text("Hello 123", 10, 28, 20, SKColors.Black);
            c.SavePng(path);
        }
        using SKBitmap bitmap = PngFile.Decode(path);
        int dark = 0;
        for (int y = 0; y < bitmap.Height; y++)
        {
            for (int x = 0; x < bitmap.Width; x++) dark += bitmap.GetPixel(x, y).Red < 128 ? 1 : 0;
        }
        Assert.InRange(dark, 100, 2000);
    }
}
