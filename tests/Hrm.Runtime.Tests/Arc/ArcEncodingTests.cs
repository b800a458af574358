using Hrm.Runtime.Arc;

namespace Hrm.Runtime.Tests.Arc;

public sealed class ArcEncodingTests
{
    private const int S = ArcEncoding.Side;

    private static int[] Tokens(byte[] bytes) => [.. bytes.Select(b => (int)b)];

    private static int[] Canvas(params (int Row, int Cols)[] rows)
    {
        int[] t = new int[ArcEncoding.SeqLen];   // all PAD
        for (int r = 0; r < rows.Length; r++)
        {
            for (int c = 0; c < rows[r].Cols; c++) t[r * S + c] = 2 + (r + c) % 10;
            if (rows[r].Cols < S) t[r * S + rows[r].Cols] = ArcEncoding.Eos;
        }
        return t;
    }

    [Fact]
    public void Encoding_places_the_grid_with_eos_borders_and_crop_recovers_it()
    {
        ArcGrid g = ArcGrid.FromRows([1, 2, 3, 0], [4, 5, 6, 9], [7, 8, 9, 0]);
        byte[] seq = new byte[ArcEncoding.SeqLen];
        ArcEncoding.Encode(g, 0, 0, seq);
        Assert.Equal([3, 4, 5, 2, 1], seq[..5]);
        Assert.Equal([1, 1, 1, 1, 0], seq[(3 * S)..(3 * S + 5)]);   // EOS row below, corner stays PAD
        Assert.Equal(g, ArcEncoding.Crop(Tokens(seq)));
        ArcEncoding.Encode(g, 5, 7, seq);
        Assert.Equal(3, seq[5 * S + 7]);
        Assert.Equal(ArcEncoding.Eos, seq[5 * S + 11]);
        Assert.Equal(ArcEncoding.Eos, seq[8 * S + 7]);
        Assert.Equal(0, seq[8 * S + 11]);
        Assert.Equal(0, ArcEncoding.Crop(Tokens(seq)).Rows);         // off-origin grids crop to nothing
        ArcEncoding.Encode(g, 27, 26, seq);                           // flush with the corner: no EOS fits
        Assert.DoesNotContain(ArcEncoding.Eos, seq);
        Assert.Throws<ArgumentException>(() => ArcEncoding.Encode(g, 28, 0, seq));
    }

    [Fact]
    public void Crop_handles_full_empty_and_ragged_predictions()
    {
        int[] full = new int[ArcEncoding.SeqLen];
        Array.Fill(full, 7);
        ArcGrid f = ArcEncoding.Crop(full);
        Assert.Equal((30, 30), (f.Rows, f.Cols));
        Assert.All(f.ToRows().SelectMany(r => r), v => Assert.Equal(5, v));
        Assert.Equal((0, 0), Dims(ArcEncoding.Crop(new int[ArcEncoding.SeqLen])));
        // Widths 5, 3, 6, then an empty row: the running width is min-so-far, so 5, 3, 3 -> best is 3 x 3 (area 9).
        Assert.Equal((3, 3), Dims(ArcEncoding.Crop(Canvas((0, 5), (1, 3), (2, 6)))));
        // Areas 4 (1 x 4) and 4 (2 x 2) tie: the first one is kept.
        Assert.Equal((1, 4), Dims(ArcEncoding.Crop(Canvas((0, 4), (1, 2)))));
        // Widths 2, 2, 2, 9: a later wider row never widens the crop.
        ArcGrid c = ArcEncoding.Crop(Canvas((0, 2), (1, 2), (2, 2), (3, 9)));
        Assert.Equal((4, 2), Dims(c));
        Assert.Equal(ArcGrid.FromRows([0, 1], [1, 2], [2, 3], [3, 4]), c);
        // Out-of-range tokens (a -100 ignore label, a token 12) end a row like PAD does.
        int[] odd = Canvas((0, 3), (1, 3));
        odd[2] = -100;
        Assert.Equal((2, 2), Dims(ArcEncoding.Crop(odd)));
        odd[2] = 12;
        Assert.Equal((2, 2), Dims(ArcEncoding.Crop(odd)));
    }

    private static (int, int) Dims(ArcGrid g) => (g.Rows, g.Cols);
}
