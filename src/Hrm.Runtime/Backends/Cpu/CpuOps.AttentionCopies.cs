using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Hrm.Runtime.Backends.Cpu;

// The CPU attention's tile copies (key tiles transposed, value tiles contiguous) and the prefetches of the rows the
// next tile reads (CpuOps.Attention.cs).
public static unsafe partial class CpuOps
{
    /// <summary>
    /// dst (HS, ld) = the first kn rows (of HS floats, stride apart) transposed; columns kn..ld are zero.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransposeTile(float* dst, int ld, float* rows, long stride, int kn, int hs)
    {
        int j0 = 0;
        if (Avx512F.IsSupported && hs % 16 == 0)
        {
            // Whole 16-key blocks as 16x16 register transposes (the scalar loop cost a sixth of a batch-1 forward).
            for (; j0 + 16 <= kn; j0 += 16)
            {
                for (int e = 0; e < hs; e += 16)
                    GemmKernels.Transpose16x16(rows + j0 * stride + e, (nint)stride, dst + e * ld + j0, ld);
            }
        }
        if (Avx.IsSupported && hs % 8 == 0)
        {
            // The rest (all of it without AVX-512) as 8x8 transposes: the scalar loop was 2.7% of an AVX2 quickstart.
            for (; j0 + 8 <= kn; j0 += 8)
            {
                for (int e = 0; e < hs; e += 8)
                    GemmKernels.Transpose8x8(rows + j0 * stride + e, (nint)stride, dst + e * ld + j0, ld);
            }
        }
        for (int j = j0; j < kn; j++)
        {
            float* r = rows + j * stride;
            for (int e = 0; e < hs; e++) dst[e * ld + j] = r[e];
        }
        if (kn < ld)
        {
            for (int e = 0; e < hs; e++) new Span<float>(dst + e * ld + kn, ld - kn).Clear();
        }
    }

    /// <summary>Prefetches (into L2) <paramref name="n"/> rows of HS floats, <paramref name="stride"/> apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchRow(float* row, int n, long stride, int hs)
    {
        if (!Sse.IsSupported) return;
        for (int r = 0; r < n; r++, row += stride)
        {
            byte* a = (byte*)row;
            for (int off = 0; off < hs * sizeof(float); off += 64) Sse.Prefetch1(a + off);
            Sse.Prefetch1(a + hs * sizeof(float) - 1); // a row that straddles one more line
        }
    }

    /// <summary>
    /// Rows of one head of qkv to prefetch, issued a few at a time: keys and values [k0, k0 + kn), then queries
    /// [q0, q0 + qn). <see cref="Total"/> rows in all.
    /// </summary>
    private struct RowPrefetch(float* q, long c, long stride, int hs, int k0, int kn, int q0, int qn)
    {
        private int _done;

        public readonly int Total => q == null ? 0 : 2 * kn + qn;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Issue(int n)
        {
            int end = Math.Min(Total, _done + n);
            for (; _done < end; _done++)
            {
                int x = _done;
                float* row = x < kn ? q + c + (k0 + x) * stride
                    : x < 2 * kn ? q + 2 * c + (k0 + x - kn) * stride
                    : q + (q0 + x - 2 * kn) * stride;
                PrefetchRow(row, 1, stride, hs);
            }
        }
    }

    /// <summary>dst (kn, HS) = the first kn rows (of HS floats, stride apart), contiguous.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CopyTile(float* dst, float* rows, long stride, int kn, int hs)
    {
        if (Vector512.IsHardwareAccelerated && hs % 16 == 0)
        {
            // Vector copies: Buffer.MemoryCopy's call per 256-byte row cost more than the copy.
            for (int j = 0; j < kn; j++)
            {
                float* r = rows + j * stride, d = dst + j * hs;
                for (int e = 0; e < hs; e += 16) Vector512.Load(r + e).Store(d + e);
            }
            return;
        }
        nuint bytes = (nuint)hs * sizeof(float);
        for (int j = 0; j < kn; j++) Buffer.MemoryCopy(rows + j * stride, dst + j * hs, bytes, bytes);
    }
}
