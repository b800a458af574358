using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Hrm.Runtime.Backends.Cpu;

/// <summary>
/// Register-blocked GEMM micro-kernels. Each computes one MR×NR tile of C from a packed A micro-panel
/// (MR floats per reduction step, interleaved) and a B micro-panel whose rows (NR contiguous floats) are
/// <c>bs</c> floats apart. The reduction runs strictly in order p = 0..kc-1, one FMA per step and element,
/// so a tile's result does not depend on how the work is split between threads.
/// </summary>
internal static unsafe partial class GemmKernels
{
    /// <summary>
    /// C[14×32] (+)= Σ_p a[p·as + i] · b[p·bs + j] on Vector512, p = 0..kc-1 in order; the accumulators start
    /// from C when <paramref name="load"/>, else from 0. Step p prefetches B's step p + 12 into L1, and (into L2) the
    /// 64-byte line <paramref name="pf"/> + 64·p while p &lt; <paramref name="pfLines"/>: streams the caller's next
    /// operand from memory while the FMAs run (0 lines, the general path: one never-taken branch per step).
    /// <paramref name="aStep"/> (as): 14 for a packed micro-panel; the attention reads a row-major matrix in place
    /// (step p = row p, the 14 values of a row contiguous).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Kernel512(float* a, float* b, nint bs, float* c, nint ldc, int kc, bool load, byte* pf = null,
        int pfLines = 0, nint aStep = 14) => Kernel512<Interleaved>(a, b, bs, c, ldc, kc, load, pf, pfLines, aStep);

    /// <summary><see cref="Kernel512"/> on the 14 rows of a row-major A at <paramref name="a"/>, read in place with
    /// rows <paramref name="stride"/> (512, 1536 or 3072) floats apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Kernel512InPlace(float* a, float* b, float* c, nint ldc, int kc, bool load, int stride)
    {
        if (stride == 512) Kernel512<RowStride512>(a, b, 32, c, ldc, kc, load, null, 0, 1);
        else if (stride == 1536) Kernel512<RowStride1536>(a, b, 32, c, ldc, kc, load, null, 0, 1);
        else Kernel512<RowStride3072>(a, b, 32, c, ldc, kc, load, null, 0, 1);
    }

    /// <summary>
    /// <see cref="Kernel512"/> with row i of step p at a[p·aStep + TA.Offset(i)]: <see cref="Interleaved"/> (packed
    /// micro-panels, or any matrix whose 14 values of a step are contiguous), or a row-major matrix read in place
    /// (<see cref="RowStride512"/>...: aStep 1, rows a constant stride apart, so the 14 row addresses are displacements
    /// of one register, no packing).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Kernel512<TA>(float* a, float* b, nint bs, float* c, nint ldc, int kc, bool load, byte* pf,
        int pfLines, nint aStep) where TA : IAOffsets
    {
        Vector512<float> c0_0, c0_1, c1_0, c1_1, c2_0, c2_1, c3_0, c3_1, c4_0, c4_1, c5_0, c5_1, c6_0, c6_1, c7_0,
            c7_1, c8_0, c8_1, c9_0, c9_1, c10_0, c10_1, c11_0, c11_1, c12_0, c12_1, c13_0, c13_1;
        if (load)
        {
            c0_0 = Vector512.Load(c + 0);
            c0_1 = Vector512.Load(c + 16);
            c1_0 = Vector512.Load(c + 1 * ldc + 0);
            c1_1 = Vector512.Load(c + 1 * ldc + 16);
            c2_0 = Vector512.Load(c + 2 * ldc + 0);
            c2_1 = Vector512.Load(c + 2 * ldc + 16);
            c3_0 = Vector512.Load(c + 3 * ldc + 0);
            c3_1 = Vector512.Load(c + 3 * ldc + 16);
            c4_0 = Vector512.Load(c + 4 * ldc + 0);
            c4_1 = Vector512.Load(c + 4 * ldc + 16);
            c5_0 = Vector512.Load(c + 5 * ldc + 0);
            c5_1 = Vector512.Load(c + 5 * ldc + 16);
            c6_0 = Vector512.Load(c + 6 * ldc + 0);
            c6_1 = Vector512.Load(c + 6 * ldc + 16);
            c7_0 = Vector512.Load(c + 7 * ldc + 0);
            c7_1 = Vector512.Load(c + 7 * ldc + 16);
            c8_0 = Vector512.Load(c + 8 * ldc + 0);
            c8_1 = Vector512.Load(c + 8 * ldc + 16);
            c9_0 = Vector512.Load(c + 9 * ldc + 0);
            c9_1 = Vector512.Load(c + 9 * ldc + 16);
            c10_0 = Vector512.Load(c + 10 * ldc + 0);
            c10_1 = Vector512.Load(c + 10 * ldc + 16);
            c11_0 = Vector512.Load(c + 11 * ldc + 0);
            c11_1 = Vector512.Load(c + 11 * ldc + 16);
            c12_0 = Vector512.Load(c + 12 * ldc + 0);
            c12_1 = Vector512.Load(c + 12 * ldc + 16);
            c13_0 = Vector512.Load(c + 13 * ldc + 0);
            c13_1 = Vector512.Load(c + 13 * ldc + 16);
        }
        else
        {
            c0_0 = Vector512<float>.Zero;
            c0_1 = Vector512<float>.Zero;
            c1_0 = Vector512<float>.Zero;
            c1_1 = Vector512<float>.Zero;
            c2_0 = Vector512<float>.Zero;
            c2_1 = Vector512<float>.Zero;
            c3_0 = Vector512<float>.Zero;
            c3_1 = Vector512<float>.Zero;
            c4_0 = Vector512<float>.Zero;
            c4_1 = Vector512<float>.Zero;
            c5_0 = Vector512<float>.Zero;
            c5_1 = Vector512<float>.Zero;
            c6_0 = Vector512<float>.Zero;
            c6_1 = Vector512<float>.Zero;
            c7_0 = Vector512<float>.Zero;
            c7_1 = Vector512<float>.Zero;
            c8_0 = Vector512<float>.Zero;
            c8_1 = Vector512<float>.Zero;
            c9_0 = Vector512<float>.Zero;
            c9_1 = Vector512<float>.Zero;
            c10_0 = Vector512<float>.Zero;
            c10_1 = Vector512<float>.Zero;
            c11_0 = Vector512<float>.Zero;
            c11_1 = Vector512<float>.Zero;
            c12_0 = Vector512<float>.Zero;
            c12_1 = Vector512<float>.Zero;
            c13_0 = Vector512<float>.Zero;
            c13_1 = Vector512<float>.Zero;
        }
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Vector512.Load(b + 0);
            Vector512<float> b1 = Vector512.Load(b + 16);
            Vector512<float> a0 = Vector512.Create(a[TA.Offset(0)]);
            c0_0 = Vector512.FusedMultiplyAdd(a0, b0, c0_0);
            c0_1 = Vector512.FusedMultiplyAdd(a0, b1, c0_1);
            Vector512<float> a1 = Vector512.Create(a[TA.Offset(1)]);
            c1_0 = Vector512.FusedMultiplyAdd(a1, b0, c1_0);
            c1_1 = Vector512.FusedMultiplyAdd(a1, b1, c1_1);
            Vector512<float> a2 = Vector512.Create(a[TA.Offset(2)]);
            c2_0 = Vector512.FusedMultiplyAdd(a2, b0, c2_0);
            c2_1 = Vector512.FusedMultiplyAdd(a2, b1, c2_1);
            Vector512<float> a3 = Vector512.Create(a[TA.Offset(3)]);
            c3_0 = Vector512.FusedMultiplyAdd(a3, b0, c3_0);
            c3_1 = Vector512.FusedMultiplyAdd(a3, b1, c3_1);
            Vector512<float> a4 = Vector512.Create(a[TA.Offset(4)]);
            c4_0 = Vector512.FusedMultiplyAdd(a4, b0, c4_0);
            c4_1 = Vector512.FusedMultiplyAdd(a4, b1, c4_1);
            Vector512<float> a5 = Vector512.Create(a[TA.Offset(5)]);
            c5_0 = Vector512.FusedMultiplyAdd(a5, b0, c5_0);
            c5_1 = Vector512.FusedMultiplyAdd(a5, b1, c5_1);
            Vector512<float> a6 = Vector512.Create(a[TA.Offset(6)]);
            c6_0 = Vector512.FusedMultiplyAdd(a6, b0, c6_0);
            c6_1 = Vector512.FusedMultiplyAdd(a6, b1, c6_1);
            Vector512<float> a7 = Vector512.Create(a[TA.Offset(7)]);
            c7_0 = Vector512.FusedMultiplyAdd(a7, b0, c7_0);
            c7_1 = Vector512.FusedMultiplyAdd(a7, b1, c7_1);
            Vector512<float> a8 = Vector512.Create(a[TA.Offset(8)]);
            c8_0 = Vector512.FusedMultiplyAdd(a8, b0, c8_0);
            c8_1 = Vector512.FusedMultiplyAdd(a8, b1, c8_1);
            Vector512<float> a9 = Vector512.Create(a[TA.Offset(9)]);
            c9_0 = Vector512.FusedMultiplyAdd(a9, b0, c9_0);
            c9_1 = Vector512.FusedMultiplyAdd(a9, b1, c9_1);
            Vector512<float> a10 = Vector512.Create(a[TA.Offset(10)]);
            c10_0 = Vector512.FusedMultiplyAdd(a10, b0, c10_0);
            c10_1 = Vector512.FusedMultiplyAdd(a10, b1, c10_1);
            Vector512<float> a11 = Vector512.Create(a[TA.Offset(11)]);
            c11_0 = Vector512.FusedMultiplyAdd(a11, b0, c11_0);
            c11_1 = Vector512.FusedMultiplyAdd(a11, b1, c11_1);
            Vector512<float> a12 = Vector512.Create(a[TA.Offset(12)]);
            c12_0 = Vector512.FusedMultiplyAdd(a12, b0, c12_0);
            c12_1 = Vector512.FusedMultiplyAdd(a12, b1, c12_1);
            Vector512<float> a13 = Vector512.Create(a[TA.Offset(13)]);
            c13_0 = Vector512.FusedMultiplyAdd(a13, b0, c13_0);
            c13_1 = Vector512.FusedMultiplyAdd(a13, b1, c13_1);
            // B's two lines 12 steps ahead into L1: B streams from L2 (a panel of 512 steps is 64 KiB, more than L1),
            // and the hardware prefetchers left the kernel waiting on it. `hrm-bench gemm`, A/B runs: forward 1-4%,
            // backward 2-5% faster (6, 12 or 20 steps ahead alike); `profile-train`, three alternating pairs: step
            // 3,273-3,297 → 3,176-3,254 ms. A's line as well: no further change. (Prefetches never fault, so reaching
            // past the end of B is harmless.)
            Sse.Prefetch0(b + 12 * bs);
            Sse.Prefetch0(b + 12 * bs + 16);
            a += aStep;
            b += bs;
            if (p < pfLines)
            {
                Sse.Prefetch1(pf);
                pf += 64;
            }
        }
        Vector512.Store(c0_0, c + 0);
        Vector512.Store(c0_1, c + 16);
        Vector512.Store(c1_0, c + 1 * ldc + 0);
        Vector512.Store(c1_1, c + 1 * ldc + 16);
        Vector512.Store(c2_0, c + 2 * ldc + 0);
        Vector512.Store(c2_1, c + 2 * ldc + 16);
        Vector512.Store(c3_0, c + 3 * ldc + 0);
        Vector512.Store(c3_1, c + 3 * ldc + 16);
        Vector512.Store(c4_0, c + 4 * ldc + 0);
        Vector512.Store(c4_1, c + 4 * ldc + 16);
        Vector512.Store(c5_0, c + 5 * ldc + 0);
        Vector512.Store(c5_1, c + 5 * ldc + 16);
        Vector512.Store(c6_0, c + 6 * ldc + 0);
        Vector512.Store(c6_1, c + 6 * ldc + 16);
        Vector512.Store(c7_0, c + 7 * ldc + 0);
        Vector512.Store(c7_1, c + 7 * ldc + 16);
        Vector512.Store(c8_0, c + 8 * ldc + 0);
        Vector512.Store(c8_1, c + 8 * ldc + 16);
        Vector512.Store(c9_0, c + 9 * ldc + 0);
        Vector512.Store(c9_1, c + 9 * ldc + 16);
        Vector512.Store(c10_0, c + 10 * ldc + 0);
        Vector512.Store(c10_1, c + 10 * ldc + 16);
        Vector512.Store(c11_0, c + 11 * ldc + 0);
        Vector512.Store(c11_1, c + 11 * ldc + 16);
        Vector512.Store(c12_0, c + 12 * ldc + 0);
        Vector512.Store(c12_1, c + 12 * ldc + 16);
        Vector512.Store(c13_0, c + 13 * ldc + 0);
        Vector512.Store(c13_1, c + 13 * ldc + 16);
    }

    /// <summary>
    /// C[6×16] (+)= Σ_p a[p·6 + i] · b[p·bs + j] on Vector256, p = 0..kc-1 in order; the accumulators start
    /// from C when <paramref name="load"/>, else from 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Kernel256(float* a, float* b, nint bs, float* c, nint ldc, int kc, bool load) =>
        Kernel256<Interleaved>(a, b, bs, c, ldc, kc, load, 6);

    /// <summary><see cref="Kernel256"/> on the 6 rows of a row-major A at <paramref name="a"/>, read in place with
    /// rows <paramref name="stride"/> (64, 192, 256 or 512) floats apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Kernel256InPlace(float* a, float* b, float* c, nint ldc, int kc, bool load, int stride)
    {
        if (stride == 64) Kernel256<RowStride64>(a, b, 16, c, ldc, kc, load, 1);
        else if (stride == 192) Kernel256<RowStride192>(a, b, 16, c, ldc, kc, load, 1);
        else if (stride == 256) Kernel256<RowStride256>(a, b, 16, c, ldc, kc, load, 1);
        else Kernel256<RowStride512>(a, b, 16, c, ldc, kc, load, 1);
    }

    /// <summary><see cref="Kernel256"/> with row i of step p at a[p·aStep + TA.Offset(i)], as <see
    /// cref="Kernel512{TA}"/>: packed micro-panels, or a row-major A read in place (aStep 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Kernel256<TA>(float* a, float* b, nint bs, float* c, nint ldc, int kc, bool load, nint aStep)
        where TA : IAOffsets
    {
        Vector256<float> c0_0, c0_1, c1_0, c1_1, c2_0, c2_1, c3_0, c3_1, c4_0, c4_1, c5_0, c5_1;
        if (load)
        {
            c0_0 = Vector256.Load(c + 0);
            c0_1 = Vector256.Load(c + 8);
            c1_0 = Vector256.Load(c + 1 * ldc + 0);
            c1_1 = Vector256.Load(c + 1 * ldc + 8);
            c2_0 = Vector256.Load(c + 2 * ldc + 0);
            c2_1 = Vector256.Load(c + 2 * ldc + 8);
            c3_0 = Vector256.Load(c + 3 * ldc + 0);
            c3_1 = Vector256.Load(c + 3 * ldc + 8);
            c4_0 = Vector256.Load(c + 4 * ldc + 0);
            c4_1 = Vector256.Load(c + 4 * ldc + 8);
            c5_0 = Vector256.Load(c + 5 * ldc + 0);
            c5_1 = Vector256.Load(c + 5 * ldc + 8);
        }
        else
        {
            c0_0 = Vector256<float>.Zero;
            c0_1 = Vector256<float>.Zero;
            c1_0 = Vector256<float>.Zero;
            c1_1 = Vector256<float>.Zero;
            c2_0 = Vector256<float>.Zero;
            c2_1 = Vector256<float>.Zero;
            c3_0 = Vector256<float>.Zero;
            c3_1 = Vector256<float>.Zero;
            c4_0 = Vector256<float>.Zero;
            c4_1 = Vector256<float>.Zero;
            c5_0 = Vector256<float>.Zero;
            c5_1 = Vector256<float>.Zero;
        }
        for (int p = 0; p < kc; p++)
        {
            Vector256<float> b0 = Vector256.Load(b + 0);
            Vector256<float> b1 = Vector256.Load(b + 8);
            Vector256<float> a0 = Vector256.Create(a[TA.Offset(0)]);
            c0_0 = Vector256.FusedMultiplyAdd(a0, b0, c0_0);
            c0_1 = Vector256.FusedMultiplyAdd(a0, b1, c0_1);
            Vector256<float> a1 = Vector256.Create(a[TA.Offset(1)]);
            c1_0 = Vector256.FusedMultiplyAdd(a1, b0, c1_0);
            c1_1 = Vector256.FusedMultiplyAdd(a1, b1, c1_1);
            Vector256<float> a2 = Vector256.Create(a[TA.Offset(2)]);
            c2_0 = Vector256.FusedMultiplyAdd(a2, b0, c2_0);
            c2_1 = Vector256.FusedMultiplyAdd(a2, b1, c2_1);
            Vector256<float> a3 = Vector256.Create(a[TA.Offset(3)]);
            c3_0 = Vector256.FusedMultiplyAdd(a3, b0, c3_0);
            c3_1 = Vector256.FusedMultiplyAdd(a3, b1, c3_1);
            Vector256<float> a4 = Vector256.Create(a[TA.Offset(4)]);
            c4_0 = Vector256.FusedMultiplyAdd(a4, b0, c4_0);
            c4_1 = Vector256.FusedMultiplyAdd(a4, b1, c4_1);
            Vector256<float> a5 = Vector256.Create(a[TA.Offset(5)]);
            c5_0 = Vector256.FusedMultiplyAdd(a5, b0, c5_0);
            c5_1 = Vector256.FusedMultiplyAdd(a5, b1, c5_1);
            a += aStep;
            b += bs;
        }
        Vector256.Store(c0_0, c + 0);
        Vector256.Store(c0_1, c + 8);
        Vector256.Store(c1_0, c + 1 * ldc + 0);
        Vector256.Store(c1_1, c + 1 * ldc + 8);
        Vector256.Store(c2_0, c + 2 * ldc + 0);
        Vector256.Store(c2_1, c + 2 * ldc + 8);
        Vector256.Store(c3_0, c + 3 * ldc + 0);
        Vector256.Store(c3_1, c + 3 * ldc + 8);
        Vector256.Store(c4_0, c + 4 * ldc + 0);
        Vector256.Store(c4_1, c + 4 * ldc + 8);
        Vector256.Store(c5_0, c + 5 * ldc + 0);
        Vector256.Store(c5_1, c + 5 * ldc + 8);
    }

    /// <summary>Where row i (0..13) of a reduction step sits relative to the step's start, fixed per type so that
    /// a kernel instantiation addresses its rows by constants.</summary>
    internal interface IAOffsets
    {
        static abstract nint Offset(int row);
    }

    /// <summary>The 14 values of a step contiguous (packed micro-panels).</summary>
    internal struct Interleaved : IAOffsets
    {
        public static nint Offset(int row) => row;
    }

    /// <summary>Rows 64 floats apart (a row-major matrix of 64 columns: the quickstart's width).</summary>
    internal struct RowStride64 : IAOffsets
    {
        public static nint Offset(int row) => row * 64;
    }

    /// <summary>Rows 192 floats apart (the quickstart's q/k/v width: dout of its projection's backward).</summary>
    internal struct RowStride192 : IAOffsets
    {
        public static nint Offset(int row) => row * 192;
    }

    /// <summary>Rows 256 floats apart (the quickstart's SwiGLU width).</summary>
    internal struct RowStride256 : IAOffsets
    {
        public static nint Offset(int row) => row * 256;
    }

    /// <summary>Rows 512 floats apart (a row-major matrix of 512 columns).</summary>
    internal struct RowStride512 : IAOffsets
    {
        public static nint Offset(int row) => row * 512;
    }

    /// <summary>Rows 1536 floats apart.</summary>
    internal struct RowStride1536 : IAOffsets
    {
        public static nint Offset(int row) => row * 1536;
    }

    /// <summary>Rows 3072 floats apart.</summary>
    internal struct RowStride3072 : IAOffsets
    {
        public static nint Offset(int row) => row * 3072;
    }
}
