using System.Runtime;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Hrm.Runtime.Backends.Cpu;

/// <summary>
/// What the x64 CPU reports through CPUID against what the running code may use. The two differ in a NativeAOT build,
/// which is compiled for a fixed instruction set (the x64 baseline unless the app sets <c>IlcInstructionSet</c>): on a
/// machine with AVX-512 such a build runs the CPU ops at 128 bits without FMA, several times slower (the README's
/// "NativeAOT" section has the numbers). Under the JIT they differ only where a <c>DOTNET_Enable*</c> setting turned an
/// instruction set off. <see cref="CpuBackend.Description"/> says so rather than run slowly in silence.
/// </summary>
internal static class CpuFeatures
{
    /// <summary>The vector instruction sets the CPU reports that this code does not use, in words ("AVX2 + FMA,
    /// AVX-512"), or null when there are none (and on arm64, where the baseline already holds NEON and FMA).</summary>
    public static string? Unused { get; } = FindUnused();

    /// <summary>Whether this process runs NativeAOT code (compiled ahead of time; no JIT). Dynamic code alone does not
    /// tell: an app built with PublishAot turns it off under the JIT too; the JIT's method count does (0 in NativeAOT,
    /// where there is no JIT; here, after the app's first methods, never 0 under one).</summary>
    public static bool IsNativeAot => !RuntimeFeature.IsDynamicCodeSupported && JitInfo.GetCompiledMethodCount() == 0;

    /// <summary>What to add to the device line when <see cref="Unused"/> is not null, else null: which instruction
    /// sets lie idle and how to use them.</summary>
    public static string? Advice => Unused is not { } unused ? null
        : !IsNativeAot ? $"{unused} turned off (a DOTNET_Enable* setting)"
        : $"{unused} unused: this NativeAOT build targets an older x64; publish with IlcInstructionSet=native (this " +
          (unused.StartsWith("AVX2", StringComparison.Ordinal)
              ? "machine's CPU) or x86-64-v3 (any AVX2 machine)"
              : "machine's CPU) or x86-64-v4 (any AVX-512 machine)");

    private static string? FindUnused()
    {
        if (!X86Base.IsSupported) return null;
        (_, _, int ecx1, _) = X86Base.CpuId(1, 0);
        // OSXSAVE (the OS saves vector state) and AVX. Which states the OS enables (XCR0) .NET does not let us read:
        // an OS that saved AVX but not AVX-512 state would make AVX-512 look unused here (not seen on Linux).
        bool osAvx = Bit(ecx1, 27) && Bit(ecx1, 28);
        if (!osAvx) return null;
        (int maxLeaf, _, _, _) = X86Base.CpuId(0, 0);
        int ebx7 = maxLeaf >= 7 ? X86Base.CpuId(7, 0).Ebx : 0;
        (int maxExt, _, _, _) = X86Base.CpuId(unchecked((int)0x80000000), 0);
        int ecxExt1 = (uint)maxExt >= 0x80000001 ? X86Base.CpuId(unchecked((int)0x80000001), 0).Ecx : 0;
        // What .NET 10 turns on together for AVX2 (x86-64-v3): AVX2, BMI1, BMI2 (leaf 7 EBX 5, 3, 8), FMA, MOVBE, F16C
        // (leaf 1 ECX 12, 22, 29), LZCNT (leaf 0x80000001 ECX 5); AVX-512 needs those and F, DQ, CD, BW, VL (leaf 7 EBX
        // 16, 17, 28, 30, 31).
        bool cpuAvx2 = Bit(ebx7, 5) && Bit(ebx7, 3) && Bit(ebx7, 8) && Bit(ecx1, 12) && Bit(ecx1, 22)
            && Bit(ecx1, 29) && Bit(ecxExt1, 5);
        bool cpuAvx512 = cpuAvx2 && Bit(ebx7, 16) && Bit(ebx7, 17) && Bit(ebx7, 28) && Bit(ebx7, 30)
            && Bit(ebx7, 31);
        var unused = new List<string>(2);
        if (cpuAvx2 && !(Avx2.IsSupported && Fma.IsSupported)) unused.Add("AVX2 + FMA");
        if (cpuAvx512 && !Avx512F.IsSupported) unused.Add("AVX-512");
        return unused.Count == 0 ? null : string.Join(", ", unused);
    }

    private static bool Bit(int value, int bit) => (value & (1 << bit)) != 0;
}
