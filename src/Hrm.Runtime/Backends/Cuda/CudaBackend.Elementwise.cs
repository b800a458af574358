using Hrm.Runtime.Backends.Cuda.Interop;
using Hrm.Runtime.Memory;

namespace Hrm.Runtime.Backends.Cuda;

/// <summary>Elementwise ops and the embedding (elementwise.cu, embedding.cu).</summary>
public sealed unsafe partial class CudaBackend
{
    /// <inheritdoc/>
    public void Fill(Buf dst, float value)
    {
        Enter();
        Floats(dst);
        if (dst.Length == 0) return;
        uint bits = BitConverter.SingleToUInt32Bits(value);
        CudaCheck.Driver(CuDriver.cuMemsetD32Async(Ptr(dst), bits, (nuint)dst.Length, _stream.Raw));
        Done();
    }

    /// <summary>Zeroes a bf16 view (a GEMM's bf16 output when K = 0).</summary>
    private void FillBf16Zero(Buf dst)
    {
        CudaCheck.Driver(CuDriver.cuMemsetD16Async(Ptr(dst), 0, (nuint)dst.Length, _stream.Raw));
        Done();
    }

    /// <inheritdoc/>
    public void Copy(Buf dst, Buf src)
    {
        Enter();
        Need(src, dst.Length, nameof(src));
        Floats(dst);
        long n = dst.Length, bytes = n * sizeof(float);
        if (n == 0 || dst.Address == src.Address) return;
        long d = dst.Address, s = src.Address;
        if (d < s + bytes && s < d + bytes)
        {
            // Overlapping views (the CPU copies them as memmove does): go through scratch.
            ulong tmp = _tmp.Ensure(n, _stream);
            CudaCheck.Driver(CuDriver.cuMemcpyDtoDAsync_v2(tmp, Ptr(src), (nuint)bytes, _stream.Raw));
            CudaCheck.Driver(CuDriver.cuMemcpyDtoDAsync_v2(Ptr(dst), tmp, (nuint)bytes, _stream.Raw));
        }
        else
        {
            CudaCheck.Driver(CuDriver.cuMemcpyDtoDAsync_v2(Ptr(dst), Ptr(src), (nuint)bytes, _stream.Raw));
        }
        Done();
    }

    /// <inheritdoc/>
    /// <remarks>dst may hold bf16 (the no-grad forwards' residual stream, <see cref="Bf16StreamForward"/>): then it gets
    /// bf16(a + b), the values an fp32 dst's bf16 copy would hold.</remarks>
    public void Add(Buf dst, Buf a, Buf b)
    {
        Enter();
        NeedBf16Ok(dst, dst.Length, nameof(dst));
        Need(a, dst.Length, nameof(a));
        Need(b, dst.Length, nameof(b));
        long n = dst.Length;
        if (n == 0) return;
        bool half = IsBf16(dst);
        if (half) _shadow = default;
        ulong pd = half ? 0 : Ptr(dst), ph = half ? Ptr(dst) : ShadowOf(dst), pa = Ptr(a), pb = Ptr(b);
        void** args = stackalloc void*[] { &pd, &ph, &pa, &pb, &n };
        if ((pd | pa | pb) % 16 == 0 && ph % 8 == 0)
            Launch(_k.AddVec, "ppppl", G1((n + 3) / 4), 256, 0, args); // 4 per thread, bitwise add_kernel1
        else
            Launch(_k.Add, "ppppl", G1(n), 256, 0, args);
        if (!half) Shadowed(dst, ph);
        Done();
    }

    /// <inheritdoc/>
    public void ResetCarry(Buf z, Buf init, Buf halted, int batch, int t, int c)
    {
        Enter();
        NonNegative(batch);
        NonNegative(t);
        NonNegative(c);
        Need(z, (long)batch * t * c, nameof(z));
        Need(init, c, nameof(init));
        NeedInts(halted, batch, nameof(halted));
        if ((long)batch * t == 0 || c == 0) return;
        ulong pz = Ptr(z), pi = Ptr(init), ph = Ptr(halted);
        void** args = stackalloc void*[] { &pz, &pi, &ph, &batch, &t, &c };
        Launch(_k.ResetCarry, "pppiii", checked((uint)(batch * t)), 256, 0, args);
        Done();
    }

    /// <inheritdoc/>
    public void GatherRows(Buf dst, Buf table, Buf ids, int n, int w)
    {
        Enter();
        NonNegative(n);
        NonNegative(w);
        IntBuf(ids);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(n, ids.Length);
        bool half = IsBf16(table);
        if (half) NeedBf16Ok(table, table.Length, nameof(table));
        else Floats(table);
        if (half != IsBf16(dst))
            throw new ArgumentException($"dst and table: both fp32 or both bf16 (dst {dst.ElemSize}-byte, table " +
                $"{table.ElemSize}-byte elements)", nameof(dst));
        NeedBf16Ok(dst, (long)n * w, nameof(dst));
        int rows = w == 0 ? 0 : checked((int)(table.Length / w));
        CheckIntRange(ids, n, rows, "puzzle identifier", nameof(ids));
        if (n == 0 || w == 0) return;
        ulong pd = Ptr(dst), pt = Ptr(table), pi = Ptr(ids);
        void** args = stackalloc void*[] { &pd, &pt, &pi, &n, &w, &rows };
        Launch(half ? _k.GatherRowsBf16 : _k.GatherRows, "pppiii", (uint)n, 256, 0, args);
        Done();
    }

    /// <inheritdoc/>
    public void EmbeddingForward(Buf x, Buf tokens, Buf puzzleRows, Buf tokTable, Buf posTable,
        int batch, int l, int p, int pd, int c, int v, float scale)
    {
        Enter();
        CheckEmbedding(x, tokens, puzzleRows, tokTable, posTable, batch, l, p, pd, c, v, "x", "puzzleRows",
            "tokTable", "posTable");
        long rows = (long)batch * (l + p);
        if (rows == 0 || c == 0) return;
        ulong px = Ptr(x), pt = Ptr(tokens), pp = Ptr(puzzleRows), ptt = Ptr(tokTable), ppos = Ptr(posTable);
        void** args = stackalloc void*[] { &px, &pt, &pp, &ptt, &ppos, &batch, &l, &p, &pd, &c, &v, &scale };
        Launch(_k.EmbeddingForward, "pppppiiiiiif", checked((uint)rows), 256, 0, args);
        Done();
    }

    /// <inheritdoc/>
    public void EmbeddingBackward(Buf dTokTable, Buf dPuzzleRows, Buf dPosTable, Buf dx, Buf tokens,
        int batch, int l, int p, int pd, int c, int v, float scale)
    {
        Enter();
        CheckEmbedding(dx, tokens, dPuzzleRows, dTokTable, dPosTable, batch, l, p, pd, c, v, "dx", "dPuzzleRows",
            "dTokTable", "dPosTable");
        int t = l + p, learned = dPosTable.IsEmpty ? 0 : 1;
        ulong pdx = Ptr(dx), ptok = Ptr(tokens);
        if (batch > 0 && pd > 0)
        {
            ulong pdp = Ptr(dPuzzleRows);
            void** a = stackalloc void*[] { &pdp, &pdx, &batch, &t, &p, &pd, &c, &scale, &learned };
            Launch(_k.EmbeddingBackwardPuzzle, "ppiiiiifi", (uint)batch, 256, 0, a);
        }
        if (learned == 1 && (long)t * c > 0)
        {
            ulong ppos = Ptr(dPosTable);
            void** a = stackalloc void*[] { &ppos, &pdx, &batch, &t, &c, &scale };
            Launch(_k.EmbeddingBackwardPos, "ppiiif", Cdiv((long)t * c, 256), 256, 0, a);
        }
        long positions = (long)batch * l;
        if (positions > 0 && c > 0 && v > 0) TokenTableBackward(dTokTable, pdx, ptok, batch, l, p, c, v, scale, learned);
        Done();
    }

    /// <summary>dTokTable (V,C) += by token: per-chunk partials (chunks,V,C), then a chunk-ordered reduction.</summary>
    private void TokenTableBackward(Buf dTokTable, ulong pdx, ulong ptok, int batch, int l, int p, int c, int v,
        float scale, int learned)
    {
        int chunks = (int)Math.Min(128, (long)batch * l);
        int smem = checked(v * 128 * sizeof(float));
        if (smem > _tokPartialSmem)
        {
            if (smem > _device.MaxSharedMemoryPerBlockOptIn)
            {
                throw new ArgumentException($"embedding backward: V = {v} needs {smem} bytes of shared memory; " +
                    $"the device allows {_device.MaxSharedMemoryPerBlockOptIn}");
            }
            _k.EmbeddingBackwardTokPartial.Function.SetMaxDynamicSharedMemory(smem);
            _tokPartialSmem = smem;
        }
        ulong partial = _partial.Ensure((long)chunks * v * c, _stream), pdt = Ptr(dTokTable);
        void** a = stackalloc void*[] { &partial, &pdx, &ptok, &batch, &l, &p, &c, &v, &scale, &learned };
        Launch(_k.EmbeddingBackwardTokPartial, "pppiiiiifi", new Dim3(Cdiv(c, 128), (uint)chunks), 128, (uint)smem, a);
        void** r = stackalloc void*[] { &pdt, &partial, &chunks, &v, &c };
        Launch(_k.EmbeddingBackwardTokReduce, "ppiii", Cdiv((long)v * c, 256), 256, 0, r);
    }

    private void CheckEmbedding(Buf x, Buf tokens, Buf puzzle, Buf table, Buf pos, int batch, int l, int p, int pd,
        int c, int v, string xName, string puzzleName, string tableName, string posName)
    {
        NonNegative(batch);
        NonNegative(l);
        NonNegative(p);
        NonNegative(pd);
        NonNegative(c);
        NonNegative(v);
        int t = l + p;
        Need(x, (long)batch * t * c, xName);
        NeedInts(tokens, (long)batch * l, nameof(tokens));
        Need(puzzle, (long)batch * pd, puzzleName);
        Need(table, (long)v * c, tableName);
        if (!pos.IsEmpty) Need(pos, (long)t * c, posName);
        CheckIntRange(tokens, (long)batch * l, v, "token", nameof(tokens));
    }
}
