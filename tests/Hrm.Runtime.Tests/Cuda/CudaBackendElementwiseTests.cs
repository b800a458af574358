using Hrm.Runtime.Memory;
using Hrm.Runtime.Tests.TestUtil;

namespace Hrm.Runtime.Tests.Cuda;

/// <summary>CudaBackend vs CpuBackend: memory, elementwise ops, gather, reset, embedding (GPU only).</summary>
[Collection("Cuda")]
public sealed class CudaBackendElementwiseTests(CudaFixture cuda, ITestOutputHelper output)
{
    private BackendPair Pair(bool bf16 = false) => new(cuda.BackendOrSkip(bf16), output);

    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData(1)]
    [InlineData(1_000_003)]
    public void Fill_copy_add_are_bitwise_equal(int n)
    {
        using BackendPair p = Pair();
        Twin a = p.Floats(1, n), b = p.Floats(2, n), d = p.Zeros(n);
        p.Cpu.Add(d.C, a.C, b.C);
        p.Gpu.Add(d.G, a.G, b.G);
        p.Same(d, "add");
        p.Cpu.Add(a.C, a.C, b.C); // dst aliases a
        p.Gpu.Add(a.G, a.G, b.G);
        p.Same(a, "add in place");
        p.Cpu.Copy(d.C, b.C);
        p.Gpu.Copy(d.G, b.G);
        p.Same(d, "copy");
        p.Cpu.Fill(d.C, -2.5f);
        p.Gpu.Fill(d.G, -2.5f);
        p.Same(d, "fill");
    }

    [Trait("Category", "Gpu")]
    [Fact]
    public void Allocations_are_zeroed_and_round_trip_exactly()
    {
        using BackendPair p = Pair();
        Buf f = p.Gpu.Allocate(1000, "f"), i = p.Gpu.AllocateInts(77, "i");
        try
        {
            var back = new float[1000];
            p.Gpu.Download(f, back);
            Assert.All(back, x => Assert.Equal(0f, x));
            float[] src = TestData.Floats(3, 1000);
            p.Gpu.Upload(src, f);
            p.Gpu.Download(f, back);
            Assert.Equal(src, back);
            int[] ints = TestData.Ints(4, 77, -5, 1000), got = new int[77];
            p.Gpu.UploadInts(ints, i);
            p.Gpu.DownloadInts(i, got);
            Assert.Equal(ints, got);
            Assert.Throws<ArgumentException>(() => p.Gpu.Upload(src.AsSpan(0, 999), f));
        }
        finally
        {
            p.Gpu.Free(f);
            p.Gpu.Free(i);
        }
        Assert.Throws<ArgumentException>(() => p.Gpu.Free(f));
    }

    [Trait("Category", "Gpu")]
    [Fact]
    public void Overlapping_copy_behaves_as_memmove()
    {
        using BackendPair p = Pair();
        Twin a = p.Floats(5, 1000);
        p.Cpu.Copy(a.C.Slice(10, 500), a.C.Slice(0, 500));
        p.Gpu.Copy(a.G.Slice(10, 500), a.G.Slice(0, 500));
        p.Same(a, "overlapping copy");
    }

    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData(2, 82, 512)]
    [InlineData(5, 3, 33)]
    public void Reset_carry_and_gather_rows_are_bitwise_equal(int batch, int t, int c)
    {
        using BackendPair p = Pair();
        Twin z = p.Floats(6, (long)batch * t * c), init = p.Floats(7, c);
        Twin halted = p.Ints([.. Enumerable.Range(0, batch).Select(b => b % 2)]);
        p.Cpu.ResetCarry(z.C, init.C, halted.C, batch, t, c);
        p.Gpu.ResetCarry(z.G, init.G, halted.G, batch, t, c);
        p.Same(z, "reset carry");
        const int rows = 9;
        Twin table = p.Floats(8, rows * c);
        int[] ids = TestData.Ints(9, batch + 3, 0, rows);
        Twin idBuf = p.Ints(ids), dst = p.Zeros((long)batch * c);
        p.Cpu.GatherRows(dst.C, table.C, idBuf.C, batch, c);
        p.Gpu.GatherRows(dst.G, table.G, idBuf.G, batch, c);
        p.Same(dst, "gather rows");
        ids[0] = rows;
        Twin bad = p.Ints(ids);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => p.Gpu.GatherRows(dst.G, table.G, bad.G, batch, c));
        Assert.Contains($"puzzle identifier {rows} at row 0", e.Message, StringComparison.Ordinal);
    }

    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData(2, 81, 1, 512, 512, 11, false)] // Sudoku
    [InlineData(3, 5, 2, 24, 16, 7, true)]      // learned positions, puzzle row shorter than the prefix
    [InlineData(1, 1, 0, 0, 33, 3, false)]      // no prefix, odd width
    [InlineData(4, 130, 1, 64, 200, 120, true)] // V > 96: the partial pass needs more than 48 KiB of smem
    public void Embedding_forward_and_backward_match_the_cpu(int batch, int l, int p0, int pd, int c, int v,
        bool learned)
    {
        using BackendPair p = Pair();
        int t = l + p0;
        int[] tokens = TestData.Ints(10, batch * l, 0, v);
        Twin tok = p.Ints(tokens), puzzle = p.Floats(11, (long)batch * pd), table = p.Floats(12, (long)v * c);
        Twin pos = learned ? p.Floats(13, (long)t * c) : new Twin(Buf.Empty, Buf.Empty);
        Twin x = p.Zeros((long)batch * t * c);
        const float scale = 22.627417f;
        p.Cpu.EmbeddingForward(x.C, tok.C, puzzle.C, table.C, pos.C, batch, l, p0, pd, c, v, scale);
        p.Gpu.EmbeddingForward(x.G, tok.G, puzzle.G, table.G, pos.G, batch, l, p0, pd, c, v, scale);
        p.Same(x, "embedding forward");
        Twin dx = p.Floats(14, (long)batch * t * c), dTok = p.Floats(15, (long)v * c), dPuzzle = p.Zeros((long)batch * pd);
        Twin dPos = learned ? p.Floats(16, (long)t * c) : new Twin(Buf.Empty, Buf.Empty);
        p.Cpu.EmbeddingBackward(dTok.C, dPuzzle.C, dPos.C, dx.C, tok.C, batch, l, p0, pd, c, v, scale);
        p.Gpu.EmbeddingBackward(dTok.G, dPuzzle.G, dPos.G, dx.G, tok.G, batch, l, p0, pd, c, v, scale);
        p.Close(dTok, 1e-6, "dTokTable (+=)");
        p.Same(dPuzzle, "dPuzzleRows");
        if (learned) p.Close(dPos, 1e-6, "dPosTable (+=)");
        tokens[^1] = v;
        Twin bad = p.Ints(tokens);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            p.Gpu.EmbeddingForward(x.G, bad.G, puzzle.G, table.G, pos.G, batch, l, p0, pd, c, v, scale));
        Assert.Contains($"token {v} at flat index {tokens.Length - 1}", e.Message, StringComparison.Ordinal);
    }
}
