using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using System.Text.RegularExpressions;
using Hrm.Runtime.Tests.Simd;
using Hrm.Runtime.Tests.Solver;
using Hrm.Runtime.Tests.TestUtil;

namespace Hrm.Runtime.Tests.Embedding;

/// <summary>
/// The embedding sample (<c>samples/SudokuApp</c>) published with NativeAOT, as an app that ships one native executable
/// without .NET would: it must build without trimming or AOT warnings and solve exactly what the same app solves under
/// the JIT at the same vector width (answers, validity, segments and confidences to the last digit, line for line).
/// Two builds: the sample's default on x64 (x86-64-v3: AVX2 + FMA; compared with the JIT held to AVX2 by
/// <c>DOTNET_EnableAVX512=0</c>) and an x86-64-v2 build (128-bit vectors without FMA; compared with
/// <c>DOTNET_EnableAVX2=0</c>), whose device line must say which of the CPU's instruction sets it leaves unused; the JIT
/// runs the IL build the publishes made. The native build also drives the CUDA backend (bindings, NVRTC, the kernels
/// embedded in the assembly) on the GPU emulator of tests/gpu-emu as the JIT build does. 30 to 60 s on the 2-core CI
/// machine (two AOT compiles, shared by the tests); it needs gcc or clang to link, and skips without one.
/// </summary>
public sealed partial class NativeAotTests(ITestOutputHelper output, NativeAotTests.Builds builds)
    : IClassFixture<NativeAotTests.Builds>
{
    private const int PublishTimeoutMs = 6 * 60 * 1000, RunTimeoutMs = 3 * 60 * 1000;

    /// <summary>4x4 puzzles typed into the app (one line each): blanks as '.' and '0', a full grid, and one that is
    /// not a puzzle (the app prints why and goes on).</summary>
    private const string Input = "1.34.4122.434.21\n..34341.2143..21\n1234000021434321\n1.3.3.1.2.4.4.2.\n12x4\n" +
        "1234341221434321\n....3412....4321\n";

    [Trait("Category", "Aot")]
    [Fact]
    public void The_sample_app_published_with_native_aot_solves_as_under_the_jit()
    {
        Builds b = builds.Get(output);
        (string jitDevice, string jitAvx2) = RunApp(b, b.Dotnet, [b.JitDll, .. b.Args],
            new() { ["DOTNET_EnableAVX512"] = "0" });
        (string v3Device, string v3Out) = RunApp(b, b.V3, b.Args, null);
        Assert.Contains("256-bit vectors: AVX2 + FMA", v3Device, StringComparison.Ordinal);
        Assert.Contains("256-bit vectors: AVX2 + FMA", jitDevice, StringComparison.Ordinal);
        Assert.Equal(jitAvx2, v3Out);

        (jitDevice, string jit128) = RunApp(b, b.Dotnet, [b.JitDll, .. b.Args],
            new() { ["DOTNET_EnableAVX2"] = "0" });
        (string v2Device, string v2Out) = RunApp(b, b.V2, b.Args, null);
        Assert.Contains("128-bit vectors: SSE", v2Device, StringComparison.Ordinal);
        Assert.Contains("128-bit vectors: SSE", jitDevice, StringComparison.Ordinal);
        Assert.Contains("AVX2 + FMA", v2Device, StringComparison.Ordinal); // this CPU has them (checked in Get)
        Assert.Contains("unused: this NativeAOT build targets an older x64; publish with IlcInstructionSet=native",
            v2Device, StringComparison.Ordinal);
        Assert.Contains("turned off (a DOTNET_Enable* setting)", jitDevice, StringComparison.Ordinal);
        Assert.Equal(jit128, v2Out);
        Assert.Matches(@"(?m)^(valid|NOT valid: .+)$", v2Out);
        Assert.Contains("not a puzzle: ", v2Out, StringComparison.Ordinal);
    }

    /// <summary>The native build on the emulated GPU: the CUDA bindings resolve, NVRTC compiles the kernels from the
    /// assembly's resources, and the answers are the JIT build's on the same emulator, to the last digit.</summary>
    [Trait("Category", "Aot")]
    [Trait("Category", "GpuEmu")]
    [Fact]
    public void The_native_aot_sample_drives_the_emulated_gpu_as_the_jit_build_does()
    {
        string root = GpuEmu.EmulatedGpuTests.RootOrSkip(needsNvrtc: true);
        Builds b = builds.Get(output);
        string lib = GpuEmu.EmulatedGpuTests.Build(root, output);
        var emulator = new Dictionary<string, string>
        {
            [Runtime.Backends.Cuda.Interop.CudaLibraryNames.LibDirVariable] = lib,
            ["HRM_KERNEL_CACHE"] = Path.Combine(lib, "kernel-cache"),
        };
        (string jitDevice, string jitOut) = RunApp(b, b.Dotnet, [b.JitDll, .. b.Args], emulator);
        (string aotDevice, string aotOut) = RunApp(b, b.V3, b.Args, emulator);
        Assert.StartsWith("device: cuda (HRM CPU emulator", jitDevice, StringComparison.Ordinal);
        Assert.StartsWith("device: cuda (HRM CPU emulator", aotDevice, StringComparison.Ordinal);
        Assert.Equal(jitOut, aotOut);
    }

    /// <summary>The published builds, made once for the class (the first test to need them) in a temporary folder.
    /// </summary>
    public sealed class Builds : IDisposable
    {
        private readonly Formats.TempDir _dir = new();
        private readonly Lock _gate = new();
        private bool _done;
        private Exception? _failure;

        public string Dotnet { get; private set; } = "";

        /// <summary>The sample's default NativeAOT build (x86-64-v3 on x64), its x86-64-v2 build, and the IL build
        /// both were compiled from (self-contained: CoreCLR from the runtime pack), run under the JIT.</summary>
        public string V3 { get; private set; } = "";

        public string V2 { get; private set; } = "";

        public string JitDll { get; private set; } = "";

        /// <summary>The app's arguments (a tiny random 4x4 checkpoint, --exact) and its stdin.</summary>
        public string[] Args { get; private set; } = [];

        public string Input { get; private set; } = "";

        /// <summary>Publishes on the first call (or skips where it cannot); later calls get the same builds, or the
        /// same failure.</summary>
        public Builds Get(ITestOutputHelper output)
        {
            Assert.SkipWhen(Environment.GetEnvironmentVariable(NarrowSimdTests.Variable) != null,
                "this process is a narrow-SIMD run");
            Assert.SkipWhen(GpuEmu.EmulatedGpuTests.Emulated, "this process is the emulated-GPU run");
            Assert.SkipUnless(OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64,
                "the NativeAOT check is set up for Linux x64");
            Assert.SkipUnless(Avx2.IsSupported && Fma.IsSupported,
                "this CPU has no AVX2 + FMA: the sample's default NativeAOT build (x86-64-v3) cannot run here");
            Assert.SkipWhen(ChildProcess.FindOnPath("clang") is null && ChildProcess.FindOnPath("gcc") is null,
                "NativeAOT links with clang or gcc, and neither is on PATH (Debian: apt-get install gcc)");
            string? dotnet = ChildProcess.Dotnet();
            Assert.SkipWhen(dotnet is null, "the .NET SDK (dotnet) is not on PATH: it publishes the sample");
            string? root = ChildProcess.RepoRoot();
            Assert.SkipWhen(root is null, "the repository (samples/SudokuApp) is not above the test binaries");
            lock (_gate)
            {
                if (!_done)
                {
                    _done = true;
                    try
                    {
                        Publish(dotnet!, root!, output);
                    }
                    catch (Exception e)
                    {
                        _failure = e;
                    }
                }
                if (_failure != null) ExceptionDispatchInfo.Throw(_failure);
                return this;
            }
        }

        private void Publish(string dotnet, string root, ITestOutputHelper output)
        {
            Dotnet = dotnet;
            string project = Path.Combine(root, "samples", "SudokuApp");
            // The sample's default, published as the README says but without -r (the SDK's own RID: its x64 default
            // must hold then too), and an x86-64-v2 build.
            V3 = Path.Combine(PublishOne(dotnet, project, _dir.Path, "aot-default", ["-p:PublishAot=true"], output),
                "SudokuApp");
            V2 = Path.Combine(PublishOne(dotnet, project, _dir.Path, "aot-v2",
                ["-r", "linux-x64", "-p:PublishAot=true", "-p:IlcInstructionSet=x86-64-v2"], output), "SudokuApp");
            string? jit = Directory.GetFiles(Path.Combine(_dir.Path, "artifacts", "bin"),
                "SudokuApp.runtimeconfig.json", SearchOption.AllDirectories).Select(Path.GetDirectoryName).FirstOrDefault();
            Assert.True(jit != null && File.Exists(Path.Combine(jit, "SudokuApp.dll")), "no IL build of the sample found");
            JitDll = Path.Combine(jit, "SudokuApp.dll");
            var checkpoint = new TinyCheckpoint(seed: 11);
            string model = Path.Combine(_dir.Path, "model.safetensors");
            File.Copy(checkpoint.Path, model);
            checkpoint.Dispose();
            Args = [model, "--exact"];
            Input = Path.Combine(_dir.Path, "input.txt");
            File.WriteAllText(Input, NativeAotTests.Input);
        }

        public void Dispose() => _dir.Dispose();
    }

    /// <summary>dotnet publish of the sample into dir/name, failing on any warning. Its build goes to dir/artifacts
    /// (the solution's bin/ and obj/, which this process may run from, stay untouched), shared by the publishes: the
    /// second compiles no C# again.</summary>
    private static string PublishOne(string dotnet, string project, string dir, string name, string[] extra,
        ITestOutputHelper output)
    {
        string outDir = Path.Combine(dir, name);
        var sw = Stopwatch.StartNew();
        (int rc, string log) = ChildProcess.Run(dotnet,
        [
            "publish", project, "-c", "Release", "--nologo", "-v", "minimal", "--disable-build-servers",
            "--artifacts-path", Path.Combine(dir, "artifacts"), "-o", outDir,
            "-p:NuGetAudit=false", // no vulnerability look-ups: offline with a warm cache, a publish still works
            .. extra,
        ], null, PublishTimeoutMs);
        Assert.SkipWhen(rc != 0 && ChildProcess.IsRestoreFailure(log),
            $"the packages for a linux-x64 publish could not be restored (no NuGet feed?):\n{ChildProcess.Tail(log, 20)}");
        Assert.True(rc == 0, $"dotnet publish ({name}) failed (exit {rc}):\n{ChildProcess.Tail(log, 60)}");
        string[] warnings = ChildProcess.Warnings(log);
        Assert.True(warnings.Length == 0, $"dotnet publish ({name}) warned:\n{string.Join('\n', warnings)}");
        string exe = Path.Combine(outDir, "SudokuApp");
        long size = File.Exists(exe) ? new FileInfo(exe).Length : 0;
        output.WriteLine($"{name}: published in {sw.Elapsed.TotalSeconds:F0} s, executable {size / 1e6:F1} MB");
        return outDir;
    }

    /// <summary>Runs the app with the builds' input on stdin: its device line, and the rest of its output with the
    /// times taken removed.</summary>
    private (string Device, string Output) RunApp(Builds b, string file, string[] args,
        Dictionary<string, string>? env)
    {
        (int rc, string log) = ChildProcess.Run("/bin/sh", ["-c", "exec \"$0\" \"$@\" < \"$HRM_AOT_INPUT\"", file,
            .. args], new(env ?? []) { ["HRM_AOT_INPUT"] = b.Input }, RunTimeoutMs);
        Assert.True(rc == 0, $"{file} exited with {rc}:\n{ChildProcess.Tail(log, 40)}");
        string[] lines = log.Replace("\r", "", StringComparison.Ordinal).Split('\n');
        string device = lines.FirstOrDefault(l => l.StartsWith("device: ", StringComparison.Ordinal)) ?? "";
        output.WriteLine(device.Length > 160 ? device[..160] + "..." : device);
        string rest = string.Join('\n', lines.Where(l => !l.StartsWith("device: ", StringComparison.Ordinal))
            .Select(l => Elapsed().Replace(l, "")));
        Assert.Contains("segments, confidence", rest, StringComparison.Ordinal);
        return (device, rest);
    }

    [GeneratedRegex(@", [0-9.]+ ms$")]
    private static partial Regex Elapsed();
}
