using Hrm.Runtime.Arc;
using Hrm.Runtime.Numerics;

namespace Hrm.Runtime.Tests.Arc;

public sealed class DihedralTests
{
    private static readonly int[][] Grid = [[1, 2, 3], [4, 5, 6]];

    // numpy: rot90(k=1..3), fliplr, flipud, .T, fliplr(rot90) of [[1,2,3],[4,5,6]].
    public static TheoryData<int, int[][]> Numpy => new()
    {
        { 0, [[1, 2, 3], [4, 5, 6]] },
        { 1, [[3, 6], [2, 5], [1, 4]] },
        { 2, [[6, 5, 4], [3, 2, 1]] },
        { 3, [[4, 1], [5, 2], [6, 3]] },
        { 4, [[3, 2, 1], [6, 5, 4]] },
        { 5, [[4, 5, 6], [1, 2, 3]] },
        { 6, [[1, 4], [2, 5], [3, 6]] },
        { 7, [[6, 3], [5, 2], [4, 1]] },
    };

    [Theory]
    [MemberData(nameof(Numpy))]
    public void Each_transform_matches_numpy(int tid, int[][] expected)
    {
        ArcGrid result = ArcGrid.FromRows(Grid).Transform(tid, ArcColorMap.Identity);
        Assert.Equal(ArcGrid.FromRows(expected), result);
    }

    [Fact]
    public void Every_transform_and_colour_map_composed_with_its_inverse_is_the_identity()
    {
        var rng = new HrmRandom(11);
        for (int trial = 0; trial < 200; trial++)
        {
            int rows = rng.NextInt(1, 31), cols = rng.NextInt(1, 31);
            byte[] cells = new byte[rows * cols];
            for (int i = 0; i < cells.Length; i++) cells[i] = (byte)rng.NextInt(0, 10);
            var grid = new ArcGrid(rows, cols, cells);
            ArcColorMap map = ArcColorMap.Random(rng);
            Assert.Equal(0, map.Map[0]);
            Assert.Equal(grid, grid.Transform(0, map).Transform(0, map.Inverse()));
            for (int tid = 0; tid < Dihedral.Count; tid++)
            {
                ArcGrid t = grid.Transform(tid, ArcColorMap.Identity);
                Assert.Equal(Dihedral.Shape(tid, rows, cols), (t.Rows, t.Cols));
                Assert.Equal(grid, t.Transform(Dihedral.Inverse(tid), ArcColorMap.Identity));
                Assert.Equal(grid, grid.Transform(tid, map).Untransform(tid, map));
                var view = new ArcView(tid, map);
                Assert.Equal(grid, view.Undo(view.Apply(grid)));
            }
        }
    }

    [Fact]
    public void Colour_maps_fix_black_and_round_trip_through_their_names()
    {
        var rng = new HrmRandom(3);
        for (int i = 0; i < 50; i++)
        {
            ArcColorMap map = ArcColorMap.Random(rng);
            string digits = map.ToString();
            Assert.Equal(digits, ArcColorMap.TryParse(digits)!.ToString());
            Assert.Equal(10, digits.Distinct().Count());
            var view = new ArcView(rng.NextInt(0, 8), map);
            (string task, ArcView parsed) = ArcView.Parse(view.Name("abc123"))!.Value;
            Assert.Equal("abc123", task);
            Assert.Equal((view.Tid, digits), (parsed.Tid, parsed.Map.ToString()));
        }
        Assert.Null(ArcColorMap.TryParse("1023456789"));   // 0 must stay 0
        Assert.Null(ArcColorMap.TryParse("0023456789"));
        Assert.Null(ArcView.Parse("abc_t8_0123456789"));
        Assert.Null(ArcView.Parse("abc_x"));
        Assert.Same(ArcView.Original, ArcView.Parse("abc")!.Value.View);
    }
}
