using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Tests.TestUtil;

namespace Hrm.Runtime.Tests.Simd;

/// <summary>
/// The CPU backend's SIMD code has a path per vector width (512, 256 and 128 bits, chosen at run time), and a test run
/// exercises only the widest the machine has: on this project's AVX-512 machines, never the 256-bit path most laptops
/// take (AVX2 + FMA, no AVX-512) nor the 128-bit one (x64 without AVX2, and what arm64's NEON gives). These tests run
/// the op and model test classes again in a child process with the .NET JIT's switches turned down
/// (<c>DOTNET_EnableAVX512=0</c>; <c>DOTNET_PreferredVectorBitWidth=128</c>, 128-bit vectors with FMA as on arm64;
/// <c>DOTNET_EnableAVX2=0</c>, 128-bit vectors without FMA), and the child first checks that the width really is the
/// one asked for (a renamed switch would otherwise test nothing). x64 only.
/// </summary>
public sealed class NarrowSimdTests(ITestOutputHelper output)
{
    /// <summary>Set in the child process: the width it must run at ("256", "128fma" or "128").</summary>
    public const string Variable = "HRM_SIMD_WIDTH";

    /// <summary>Set in the child process: where the width check writes what it saw.</summary>
    private const string ReportVariable = "HRM_SIMD_REPORT";

    /// <summary>Set in the child process: the instruction sets the parent's JIT may use ("AVX2 + FMA", "AVX-512",
    /// comma-separated), which the child's CPUID probe must find unused where its width is narrower.</summary>
    private const string ParentVariable = "HRM_SIMD_PARENT";

    private const int RunTimeoutMs = 20 * 60 * 1000;

    /// <summary>The model variants of the 128-bit runs: the real-width one (the slowest variant) is left to the
    /// native and 256-bit runs; its shapes' ops are checked at 128 bits by the Kernels namespace, as under qemu.
    /// </summary>
    private const string NarrowVariants = "tiny,learned";

    /// <summary>The namespaces run again: every op against its scalar double reference, the model (forward, 1-step
    /// gradient against finite differences, ACT, checkpoints), and this class's width check. About 45 s at 256 bits
    /// and 65 s at 128 on the 2-core CI machine (a Zen 5); 100-120 s each on a Zen 3 (session 32, beside the rest of
    /// the suite). The 128-bit runs leave out the model's real-width variant (<see cref="NarrowVariants"/>).</summary>
    private static readonly string[] Namespaces =
        ["Hrm.Runtime.Tests.Kernels", "Hrm.Runtime.Tests.Model", "Hrm.Runtime.Tests.Simd"];

    [Trait("Category", "Simd")]
    [Fact]
    public void The_cpu_op_tests_pass_with_avx2_and_no_avx512()
    {
        Assert.SkipWhen(Environment.GetEnvironmentVariable(Variable) != null, "this process is a narrow-SIMD run");
        SkipUnlessX64();
        Assert.SkipUnless(Avx2.IsSupported && Fma.IsSupported,
            "this CPU has no AVX2 + FMA: the 256-bit path cannot run");
        Assert.SkipUnless(Avx512F.IsSupported,
            "this CPU has no AVX-512: this process itself runs the op and model tests on the 256-bit path");
        RunNarrow("256", "DOTNET_EnableAVX512");
    }

    /// <summary>arm64's case (NEON: 128-bit vectors, fused multiply-add), where the 128-bit paths compute what the
    /// wider ones do.</summary>
    [Trait("Category", "Simd")]
    [Fact]
    public void The_cpu_op_tests_pass_with_128_bit_vectors_and_fma()
    {
        Assert.SkipWhen(Environment.GetEnvironmentVariable(Variable) != null, "this process is a narrow-SIMD run");
        SkipUnlessX64();
        Assert.SkipUnless(Fma.IsSupported, "this CPU has no FMA: the fused 128-bit path cannot run");
        RunNarrow("128fma", "DOTNET_PreferredVectorBitWidth", "128", NarrowVariants);
    }

    /// <summary>x64 without AVX2 (nor FMA): the 128-bit paths multiply, then add.</summary>
    [Trait("Category", "Simd")]
    [Fact]
    public void The_cpu_op_tests_pass_with_128_bit_vectors_only() =>
        RunNarrow("128", "DOTNET_EnableAVX2", variants: NarrowVariants);

    /// <summary>In the child process: the vector width is the one the parent asked for.</summary>
    [Trait("Category", "Simd")]
    [Fact]
    public void The_vector_width_is_the_one_asked_for()
    {
        string? width = Environment.GetEnvironmentVariable(Variable);
        Assert.SkipWhen(width is null, "runs in the child processes of the other tests of this class");
        string seen = $"Vector512 {Vector512.IsHardwareAccelerated}, Vector256 {Vector256.IsHardwareAccelerated}, " +
            $"FMA {Fma.IsSupported}, Vector128 {Vector128.IsHardwareAccelerated}";
        string? report = Environment.GetEnvironmentVariable(ReportVariable);
        if (report != null) File.WriteAllText(report, seen);
        Assert.False(Vector512.IsHardwareAccelerated, seen);
        Assert.True(Vector128.IsHardwareAccelerated, seen);
        if (width == "256") Assert.True(Vector256.IsHardwareAccelerated && Fma.IsSupported, seen);
        else Assert.False(Vector256.IsHardwareAccelerated, seen);
        if (width == "128fma") Assert.True(Fma.IsSupported && SimdMath.Fused128 && SimdMath.Narrow128, seen);
        if (width == "128") Assert.True(!Fma.IsSupported && !SimdMath.Fused128 && SimdMath.Narrow128, seen);
        Assert.Equal(width == "256" ? GemmPath.Vector256 : GemmPath.Vector128, Gemm.Best); // the GEMM the child tests
        string words = width switch
        {
            "256" => "256-bit vectors: AVX2 + FMA",
            "128fma" => "128-bit vectors + FMA",
            _ => "128-bit vectors: SSE",
        };
        Assert.Equal(words, SimdMath.Description); // what `hrm` prints after "device: cpu"
        // What the JIT switches turned off, found by CPUID (CpuFeatures), against what the parent's JIT has: the
        // 128-bit-with-FMA run only prefers narrow vectors and turns nothing off.
        string[] parent = (Environment.GetEnvironmentVariable(ParentVariable) ?? "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries);
        string[] off = width switch
        {
            "256" => [.. parent.Where(p => p == "AVX-512")],
            "128" => parent,
            _ => [],
        };
        Assert.Equal(off.Length == 0 ? null : string.Join(", ", off), CpuFeatures.Unused);
        Assert.Equal(off.Length == 0 ? null : $"{string.Join(", ", off)} turned off (a DOTNET_Enable* setting)",
            CpuFeatures.Advice);
    }

    /// <summary>Where the CPU ops run at the widest vectors the JIT offers, no instruction set is left unused (a
    /// whole test run started with a <c>DOTNET_Enable*</c> switch turned down fails here, as it should: it tests less
    /// than the machine runs).</summary>
    [Trait("Category", "Simd")]
    [Fact]
    public void Nothing_is_unused_at_the_jits_own_width()
    {
        Assert.SkipWhen(Environment.GetEnvironmentVariable(Variable) != null, "this process is a narrow-SIMD run");
        Assert.Null(CpuFeatures.Unused);
        Assert.Null(CpuFeatures.Advice);
        Assert.False(CpuFeatures.IsNativeAot);
    }

    private static void SkipUnlessX64() => Assert.SkipUnless(RuntimeInformation.ProcessArchitecture == Architecture.X64,
        "the JIT switches that narrow the vectors are x64's (arm64 runs the 128-bit path natively)");

    private void RunNarrow(string width, string knob, string value = "0", string? variants = null)
    {
        Assert.SkipWhen(Environment.GetEnvironmentVariable(Variable) != null, "this process is a narrow-SIMD run");
        SkipUnlessX64();
        using var dir = new Formats.TempDir();
        string report = Path.Combine(dir.Path, "width.txt");
        (string file, List<string> args) = ChildProcess.TestExecutable();
        args.AddRange([.. Namespaces.SelectMany(n => (string[])["-namespace", n]), "-noColor"]);
        string parent = string.Join(',', ((string?[])[Avx2.IsSupported && Fma.IsSupported ? "AVX2 + FMA" : null,
            Avx512F.IsSupported ? "AVX-512" : null]).OfType<string>());
        var env = new Dictionary<string, string>
        {
            [knob] = value, [Variable] = width, [ReportVariable] = report, [ParentVariable] = parent,
        };
        if (variants != null) env[Model.CpuModelTests.VariantsVariable] = variants;
        var sw = Stopwatch.StartNew();
        (int rc, string log) = ChildProcess.Run(file, args, env, RunTimeoutMs);
        output.WriteLine($"{knob}={value}: {sw.Elapsed.TotalSeconds:F0} s");
        var counts = ChildProcess.Counts(log);
        Assert.True(counts.HasValue,
            $"no summary line in the child run's output (exit {rc}):\n{ChildProcess.Tail(log, 60)}");
        (int total, int errors, int failed, int skipped) = counts.Value;
        output.WriteLine($"total {total}, errors {errors}, failed {failed}, skipped {skipped}");
        Assert.True(File.Exists(report), "the child did not run the width check");
        output.WriteLine("child: " + File.ReadAllText(report));
        Assert.True(rc == 0 && errors == 0 && failed == 0,
            $"the op tests failed at {width}-bit vectors (exit {rc}):\n{ChildProcess.Failures(log)}");
        Assert.True(total - skipped >= 200, $"only {total - skipped} of {total} tests ran at {width}-bit vectors");
    }
}
