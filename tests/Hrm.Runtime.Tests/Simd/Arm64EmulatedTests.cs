using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Text.RegularExpressions;
using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Tests.Model;
using Hrm.Runtime.Tests.TestUtil;

namespace Hrm.Runtime.Tests.Simd;

/// <summary>
/// The CPU backend on arm64 (Apple Silicon, Graviton: NEON's 128-bit vectors, where every Vector256 and Vector512 is
/// emulated), checked on this x64 machine: the test project is published self-contained for linux-arm64 and the op
/// tests and a model test run under qemu's user-mode emulator (<c>qemu-aarch64-static</c>, a Neoverse-N1 CPU: ARMv8.2
/// with NEON and fused multiply-add, no SVE). .ci/run installs qemu and the arm64 C libraries from Debian; elsewhere
/// the test skips and says what to install. qemu runs the JIT's code about 10x slower than native, so a subset runs
/// (the publish about 25 s, the run about 1.5 minutes on an idle core): the op classes (of the GEMM's, two tests), and
/// the whole model on the CPU backend against the Reference backend (two segments' logits, the 1-step gradients) for
/// the small configurations.
/// </summary>
public sealed partial class Arm64EmulatedTests(ITestOutputHelper output)
{
    /// <summary>The arm64 run's methods (xunit -method filters, OR'ed).</summary>
    private static readonly string[] Methods =
    [
        "*.Kernels.SimdMathTests.*", "*.Kernels.AttentionTests.*", "*.Kernels.AdamATan2Tests.*",
        "*.Kernels.RmsNormTests.*", "*.Kernels.SwiGluTests.*", "*.Kernels.RopeTests.*", "*.Kernels.ElementwiseTests.*",
        "*.Kernels.ActOpsTests.*", "*.Kernels.EmbeddingTests.*", "*.Kernels.HeadsTests.*", "*.Kernels.SignSgdTests.*",
        "*.Kernels.StablemaxCeTests.*", "*.Kernels.MatmulTests.Forward_MatchesReference",
        "*.Kernels.MatmulTests.FewRowsForward_IsBitwiseTheGeneralPath_RowByRow",
        "*.Model.CpuModelTests.Two_evaluation_segments_match_the_reference_within_1e_4",
        "*.Model.CpuModelTests.One_step_gradients_match_the_reference",
        "*.Simd.Arm64EmulatedTests.The_cpu_is_arm64_with_neon",
        "*.Cuda.CudaLibraryResolverTests.The_toolkit_s_target_directory_follows_the_process_architecture",
    ];

    /// <summary>Set in the arm64 run: where its width check writes what it saw (proof that it ran).</summary>
    private const string ReportVariable = "HRM_ARM64_REPORT";

    private const string Qemu = "qemu-aarch64-static";

    private const int PublishTimeoutMs = 5 * 60 * 1000, RunTimeoutMs = 10 * 60 * 1000;

    [Trait("Category", "Simd")]
    [Fact]
    public void The_cpu_op_tests_pass_on_arm64_under_qemu()
    {
        Assert.SkipWhen(Environment.GetEnvironmentVariable(NarrowSimdTests.Variable) != null,
            "this process is a narrow-SIMD run");
        Assert.SkipWhen(RuntimeInformation.ProcessArchitecture == Architecture.Arm64, "this machine is arm64: the op "
            + "tests ran natively");
        Assert.SkipUnless(OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64,
            "qemu's user-mode emulation of arm64 is set up for Linux x64 hosts");
        string? qemu = ChildProcess.FindOnPath(Qemu);
        const string install = "Debian: dpkg --add-architecture arm64; apt-get update; apt-get install qemu-user-static "
            + "libc6:arm64 libstdc++6:arm64 libgcc-s1:arm64 zlib1g:arm64 libssl3:arm64; .ci/run does it";
        Assert.SkipWhen(qemu is null, $"{Qemu} is not on PATH ({install})");
        Assert.SkipUnless(File.Exists("/lib/ld-linux-aarch64.so.1") &&
            File.Exists("/usr/lib/aarch64-linux-gnu/libstdc++.so.6"), $"the arm64 C libraries are missing ({install})");
        string? dotnet = ChildProcess.Dotnet();
        Assert.SkipWhen(dotnet is null, "the .NET SDK (dotnet) is not on PATH: it publishes the arm64 build");
        string? root = ChildProcess.RepoRoot();
        Assert.SkipWhen(root is null, "the repository (tests/Hrm.Runtime.Tests) is not above the test binaries");

        using var dir = new Formats.TempDir();
        string publish = Path.Combine(dir.Path, "publish");
        var sw = Stopwatch.StartNew();
        // --artifacts-path keeps the arm64 restore and build out of the projects' own bin/ and obj/ (which this
        // process runs from); no build servers left running (and a timeout's kill ends the whole build).
        (int rc, string log) = ChildProcess.Run(dotnet!,
        [
            "publish", Path.Combine(root!, "tests", "Hrm.Runtime.Tests"), "-c", "Release", "-r", "linux-arm64",
            "--self-contained", "true", "--nologo", "-v", "quiet", "--disable-build-servers",
            "--artifacts-path", Path.Combine(dir.Path, "artifacts"), "-o", publish,
        ], null, PublishTimeoutMs);
        // The arm64 runtime and apphost packs come from the NuGet feed: no feed, no arm64 build.
        Assert.SkipWhen(rc != 0 && ChildProcess.IsRestoreFailure(log),
            $"the linux-arm64 runtime packs could not be restored (no NuGet feed?):\n{ChildProcess.Tail(log, 20)}");
        Assert.True(rc == 0, $"dotnet publish for linux-arm64 failed (exit {rc}):\n{ChildProcess.Tail(log, 60)}");
        output.WriteLine($"published for linux-arm64 in {sw.Elapsed.TotalSeconds:F0} s");

        sw.Restart();
        string report = Path.Combine(dir.Path, "arm64-check.txt");
        var env = new Dictionary<string, string>
        {
            ["QEMU_CPU"] = "neoverse-n1",
            [ReportVariable] = report,
            [CpuModelTests.VariantsVariable] = "tiny,learned", // real-width: minutes under qemu
            // .NET maps JIT code twice (writable and executable views); qemu's translation cache misses writes made
            // through the other view, so stale code ran (illegal instructions, corrupt metadata) until this was off.
            ["DOTNET_EnableWriteXorExecute"] = "0",
        };
        string[] filters = [.. Methods.SelectMany(m => (string[])["-method", m])];
        (rc, log) = ChildProcess.Run(qemu!, [Path.Combine(publish, "Hrm.Runtime.Tests"), .. filters, "-noColor"], env,
            RunTimeoutMs);
        output.WriteLine($"ran under qemu in {sw.Elapsed.TotalSeconds:F0} s");
        var counts = ChildProcess.Counts(log);
        Assert.True(counts.HasValue,
            $"no summary line in the arm64 run's output (exit {rc}):\n{ChildProcess.Tail(log, 60)}");
        (int total, int errors, int failed, int skipped) = counts.Value;
        output.WriteLine($"total {total}, errors {errors}, failed {failed}, skipped {skipped}");
        Assert.True(rc == 0 && errors == 0 && failed == 0,
            $"the op tests failed on arm64 (exit {rc}):\n{ChildProcess.Failures(log)}");
        Assert.True(total - skipped >= 145, $"only {total - skipped} of {total} tests ran on arm64");
        Assert.True(File.Exists(report), "the arm64 run did not run its width check");
        output.WriteLine("arm64: " + File.ReadAllText(report));
    }

    /// <summary>In the arm64 run: the machine really is arm64 with 128-bit NEON and no wider vectors, the CPU ops'
    /// 128-bit paths with fused multiply-add.</summary>
    [Trait("Category", "Simd")]
    [Fact]
    public void The_cpu_is_arm64_with_neon()
    {
        Assert.SkipUnless(RuntimeInformation.ProcessArchitecture == Architecture.Arm64, "runs on arm64 (the qemu run)");
        string seen = $"AdvSimd {AdvSimd.IsSupported}, Vector128 {Vector128.IsHardwareAccelerated}, Vector256 " +
            $"{Vector256.IsHardwareAccelerated}, GEMM {Gemm.Best}, {SimdMath.Description}";
        if (Environment.GetEnvironmentVariable(ReportVariable) is { } report) File.WriteAllText(report, seen);
        Assert.True(AdvSimd.IsSupported, "no NEON");
        Assert.True(SimdMath.Narrow128 && SimdMath.Fused128,
            "the CPU ops do not take their fused 128-bit paths");
        Assert.Equal(GemmPath.Vector128, Gemm.Best);
        Assert.Equal("128-bit vectors: NEON", SimdMath.Description);
    }
}
