namespace Hrm.Runtime.Backends.Cpu;

/// <summary>Instruction set of the GEMM (tests force the fallbacks through the internal entry points).</summary>
internal enum GemmPath
{
    /// <summary>Plain scalar loops.</summary>
    Scalar,

    /// <summary>6×16 micro-kernel on Vector128 (FMA where the machine has it): arm64, x64 without AVX2.</summary>
    Vector128,

    /// <summary>6×16 micro-kernel on Vector256 with FMA.</summary>
    Vector256,

    /// <summary>14×32 micro-kernel on Vector512.</summary>
    Vector512,
}
