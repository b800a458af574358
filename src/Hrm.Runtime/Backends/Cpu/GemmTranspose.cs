using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Hrm.Runtime.Backends.Cpu;

// The register transposes: 16×16 (Vector512: A micro-panels, the attention's key tiles) and 8×8 (Vector256: the
// attention's key tiles).
internal static unsafe partial class GemmKernels
{
    /// <summary>
    /// Transposes a 16×16 block: row r of the source (16 floats at <c>src + r·ld</c>) becomes column r of the
    /// destination (float r of the 16 at <c>dst + q·ldd</c>, q = 0..15).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Transpose16x16(float* src, nint ld, float* dst, nint ldd)
    {
        Vector512<float> r0 = Vector512.Load(src);
        Vector512<float> r1 = Vector512.Load(src + 1 * ld);
        Vector512<float> r2 = Vector512.Load(src + 2 * ld);
        Vector512<float> r3 = Vector512.Load(src + 3 * ld);
        Vector512<float> r4 = Vector512.Load(src + 4 * ld);
        Vector512<float> r5 = Vector512.Load(src + 5 * ld);
        Vector512<float> r6 = Vector512.Load(src + 6 * ld);
        Vector512<float> r7 = Vector512.Load(src + 7 * ld);
        Vector512<float> r8 = Vector512.Load(src + 8 * ld);
        Vector512<float> r9 = Vector512.Load(src + 9 * ld);
        Vector512<float> r10 = Vector512.Load(src + 10 * ld);
        Vector512<float> r11 = Vector512.Load(src + 11 * ld);
        Vector512<float> r12 = Vector512.Load(src + 12 * ld);
        Vector512<float> r13 = Vector512.Load(src + 13 * ld);
        Vector512<float> r14 = Vector512.Load(src + 14 * ld);
        Vector512<float> r15 = Vector512.Load(src + 15 * ld);
        Vector512<float> t0 = Avx512F.UnpackLow(r0, r1);
        Vector512<float> t1 = Avx512F.UnpackHigh(r0, r1);
        Vector512<float> t2 = Avx512F.UnpackLow(r2, r3);
        Vector512<float> t3 = Avx512F.UnpackHigh(r2, r3);
        Vector512<float> t4 = Avx512F.UnpackLow(r4, r5);
        Vector512<float> t5 = Avx512F.UnpackHigh(r4, r5);
        Vector512<float> t6 = Avx512F.UnpackLow(r6, r7);
        Vector512<float> t7 = Avx512F.UnpackHigh(r6, r7);
        Vector512<float> t8 = Avx512F.UnpackLow(r8, r9);
        Vector512<float> t9 = Avx512F.UnpackHigh(r8, r9);
        Vector512<float> t10 = Avx512F.UnpackLow(r10, r11);
        Vector512<float> t11 = Avx512F.UnpackHigh(r10, r11);
        Vector512<float> t12 = Avx512F.UnpackLow(r12, r13);
        Vector512<float> t13 = Avx512F.UnpackHigh(r12, r13);
        Vector512<float> t14 = Avx512F.UnpackLow(r14, r15);
        Vector512<float> t15 = Avx512F.UnpackHigh(r14, r15);
        r0 = Avx512F.UnpackLow(t0.AsDouble(), t2.AsDouble()).AsSingle();
        r1 = Avx512F.UnpackHigh(t0.AsDouble(), t2.AsDouble()).AsSingle();
        r2 = Avx512F.UnpackLow(t1.AsDouble(), t3.AsDouble()).AsSingle();
        r3 = Avx512F.UnpackHigh(t1.AsDouble(), t3.AsDouble()).AsSingle();
        r4 = Avx512F.UnpackLow(t4.AsDouble(), t6.AsDouble()).AsSingle();
        r5 = Avx512F.UnpackHigh(t4.AsDouble(), t6.AsDouble()).AsSingle();
        r6 = Avx512F.UnpackLow(t5.AsDouble(), t7.AsDouble()).AsSingle();
        r7 = Avx512F.UnpackHigh(t5.AsDouble(), t7.AsDouble()).AsSingle();
        r8 = Avx512F.UnpackLow(t8.AsDouble(), t10.AsDouble()).AsSingle();
        r9 = Avx512F.UnpackHigh(t8.AsDouble(), t10.AsDouble()).AsSingle();
        r10 = Avx512F.UnpackLow(t9.AsDouble(), t11.AsDouble()).AsSingle();
        r11 = Avx512F.UnpackHigh(t9.AsDouble(), t11.AsDouble()).AsSingle();
        r12 = Avx512F.UnpackLow(t12.AsDouble(), t14.AsDouble()).AsSingle();
        r13 = Avx512F.UnpackHigh(t12.AsDouble(), t14.AsDouble()).AsSingle();
        r14 = Avx512F.UnpackLow(t13.AsDouble(), t15.AsDouble()).AsSingle();
        r15 = Avx512F.UnpackHigh(t13.AsDouble(), t15.AsDouble()).AsSingle();
        t0 = Avx512F.Shuffle4x128(r0, r4, 0x88);
        t1 = Avx512F.Shuffle4x128(r1, r5, 0x88);
        t2 = Avx512F.Shuffle4x128(r2, r6, 0x88);
        t3 = Avx512F.Shuffle4x128(r3, r7, 0x88);
        t4 = Avx512F.Shuffle4x128(r0, r4, 0xDD);
        t5 = Avx512F.Shuffle4x128(r1, r5, 0xDD);
        t6 = Avx512F.Shuffle4x128(r2, r6, 0xDD);
        t7 = Avx512F.Shuffle4x128(r3, r7, 0xDD);
        t8 = Avx512F.Shuffle4x128(r8, r12, 0x88);
        t9 = Avx512F.Shuffle4x128(r9, r13, 0x88);
        t10 = Avx512F.Shuffle4x128(r10, r14, 0x88);
        t11 = Avx512F.Shuffle4x128(r11, r15, 0x88);
        t12 = Avx512F.Shuffle4x128(r8, r12, 0xDD);
        t13 = Avx512F.Shuffle4x128(r9, r13, 0xDD);
        t14 = Avx512F.Shuffle4x128(r10, r14, 0xDD);
        t15 = Avx512F.Shuffle4x128(r11, r15, 0xDD);
        r0 = Avx512F.Shuffle4x128(t0, t8, 0x88);
        r1 = Avx512F.Shuffle4x128(t1, t9, 0x88);
        r2 = Avx512F.Shuffle4x128(t2, t10, 0x88);
        r3 = Avx512F.Shuffle4x128(t3, t11, 0x88);
        r4 = Avx512F.Shuffle4x128(t4, t12, 0x88);
        r5 = Avx512F.Shuffle4x128(t5, t13, 0x88);
        r6 = Avx512F.Shuffle4x128(t6, t14, 0x88);
        r7 = Avx512F.Shuffle4x128(t7, t15, 0x88);
        r8 = Avx512F.Shuffle4x128(t0, t8, 0xDD);
        r9 = Avx512F.Shuffle4x128(t1, t9, 0xDD);
        r10 = Avx512F.Shuffle4x128(t2, t10, 0xDD);
        r11 = Avx512F.Shuffle4x128(t3, t11, 0xDD);
        r12 = Avx512F.Shuffle4x128(t4, t12, 0xDD);
        r13 = Avx512F.Shuffle4x128(t5, t13, 0xDD);
        r14 = Avx512F.Shuffle4x128(t6, t14, 0xDD);
        r15 = Avx512F.Shuffle4x128(t7, t15, 0xDD);
        r0.Store(dst);
        r1.Store(dst + 1 * ldd);
        r2.Store(dst + 2 * ldd);
        r3.Store(dst + 3 * ldd);
        r4.Store(dst + 4 * ldd);
        r5.Store(dst + 5 * ldd);
        r6.Store(dst + 6 * ldd);
        r7.Store(dst + 7 * ldd);
        r8.Store(dst + 8 * ldd);
        r9.Store(dst + 9 * ldd);
        r10.Store(dst + 10 * ldd);
        r11.Store(dst + 11 * ldd);
        r12.Store(dst + 12 * ldd);
        r13.Store(dst + 13 * ldd);
        r14.Store(dst + 14 * ldd);
        r15.Store(dst + 15 * ldd);
    }

    /// <summary>
    /// Transposes an 8×8 block on Vector256: row r of the source (8 floats at <c>src + r·ld</c>) becomes column r of
    /// the destination (float r of the 8 at <c>dst + q·ldd</c>, q = 0..7). The caller checks Avx.IsSupported.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Transpose8x8(float* src, nint ld, float* dst, nint ldd)
    {
        // Pairs of rows interleaved, then pairs of pairs (64-bit halves of each 128-bit lane), then the lanes.
        Vector256<float> t0 = Avx.UnpackLow(Vector256.Load(src), Vector256.Load(src + ld));
        Vector256<float> t1 = Avx.UnpackHigh(Vector256.Load(src), Vector256.Load(src + ld));
        Vector256<float> t2 = Avx.UnpackLow(Vector256.Load(src + 2 * ld), Vector256.Load(src + 3 * ld));
        Vector256<float> t3 = Avx.UnpackHigh(Vector256.Load(src + 2 * ld), Vector256.Load(src + 3 * ld));
        Vector256<float> t4 = Avx.UnpackLow(Vector256.Load(src + 4 * ld), Vector256.Load(src + 5 * ld));
        Vector256<float> t5 = Avx.UnpackHigh(Vector256.Load(src + 4 * ld), Vector256.Load(src + 5 * ld));
        Vector256<float> t6 = Avx.UnpackLow(Vector256.Load(src + 6 * ld), Vector256.Load(src + 7 * ld));
        Vector256<float> t7 = Avx.UnpackHigh(Vector256.Load(src + 6 * ld), Vector256.Load(src + 7 * ld));
        Vector256<float> s0 = Avx.Shuffle(t0, t2, 0x44), s1 = Avx.Shuffle(t0, t2, 0xEE); // columns 0, 4 / 1, 5
        Vector256<float> s2 = Avx.Shuffle(t1, t3, 0x44), s3 = Avx.Shuffle(t1, t3, 0xEE); // columns 2, 6 / 3, 7
        Vector256<float> s4 = Avx.Shuffle(t4, t6, 0x44), s5 = Avx.Shuffle(t4, t6, 0xEE);
        Vector256<float> s6 = Avx.Shuffle(t5, t7, 0x44), s7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Permute2x128(s0, s4, 0x20).Store(dst);
        Avx.Permute2x128(s1, s5, 0x20).Store(dst + ldd);
        Avx.Permute2x128(s2, s6, 0x20).Store(dst + 2 * ldd);
        Avx.Permute2x128(s3, s7, 0x20).Store(dst + 3 * ldd);
        Avx.Permute2x128(s0, s4, 0x31).Store(dst + 4 * ldd);
        Avx.Permute2x128(s1, s5, 0x31).Store(dst + 5 * ldd);
        Avx.Permute2x128(s2, s6, 0x31).Store(dst + 6 * ldd);
        Avx.Permute2x128(s3, s7, 0x31).Store(dst + 7 * ldd);
    }
}
