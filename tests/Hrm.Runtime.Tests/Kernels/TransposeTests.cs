using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Tests.TestUtil;

namespace Hrm.Runtime.Tests.Kernels;

/// <summary>The register transposes (GemmKernels.Transpose16x16 on AVX-512, Transpose8x8 on AVX) against the
/// definition, with source and destination strides wider than the block so that a write past it shows.</summary>
public sealed unsafe class TransposeTests
{
    [Theory]
    [InlineData(8, 11, 13)]
    [InlineData(8, 8, 8)]
    [InlineData(16, 19, 17)]
    [InlineData(16, 16, 16)]
    public void Block_transpose_moves_row_r_to_column_r_and_writes_nothing_else(int size, int ld, int ldd)
    {
        Assert.SkipUnless(size == 8 ? Avx.IsSupported : Vector512.IsHardwareAccelerated,
            size == 8 ? "needs AVX" : "needs AVX-512");
        float[] src = TestData.Floats(71, size * ld), dst = TestData.Floats(72, size * ldd);
        float[] expected = (float[])dst.Clone();
        for (int r = 0; r < size; r++)
        {
            for (int q = 0; q < size; q++) expected[q * ldd + r] = src[r * ld + q];
        }
        fixed (float* s = src, d = dst)
        {
            if (size == 8) GemmKernels.Transpose8x8(s, ld, d, ldd);
            else GemmKernels.Transpose16x16(s, ld, d, ldd);
        }
        Assert.Equal(expected, dst);
    }
}
