using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Hrm.Runtime.Backends.Cuda.Interop;
using Hrm.Runtime.Tests.TestUtil;

namespace Hrm.Runtime.Tests.GpuEmu;

/// <summary>
/// The GPU test classes (namespace <c>Hrm.Runtime.Tests.Cuda</c>) run against the CPU emulator of tests/gpu-emu: a
/// fake CUDA driver and cuBLAS whose kernels are native/kernels compiled for the CPU with an emulation of the
/// hardware (warps, shared memory, tensor-core fragments). The CUDA backend's host code, the kernels and the CUDA
/// graphs then run for real on a machine without a GPU, against the CPU backend, with the real NVRTC compiling every
/// kernel as usual. This test builds the emulator with g++ (cached by the hash of its sources) and runs this test
/// executable again in a child process with <c>HRM_CUDA_LIB_DIR</c> pointing at it (the model class in a child of its
/// own, <see cref="EmulatedGpuModelTests"/>). Skipped without g++ or NVRTC.
/// </summary>
public sealed partial class EmulatedGpuTests(ITestOutputHelper output)
{
    /// <summary>Set in the child process: the emulated run itself.</summary>
    public const string Variable = "HRM_GPU_EMU";

    private const int BuildTimeoutMs = 10 * 60 * 1000, RunTimeoutMs = 20 * 60 * 1000;

    /// <summary>True in the process that runs the GPU tests on the emulator.</summary>
    public static bool Emulated => Environment.GetEnvironmentVariable(Variable) == "1";

    [Trait("Category", "GpuEmu")]
    [Fact]
    public void The_gpu_test_classes_pass_on_the_cpu_emulator()
    {
        // All but the model class, which EmulatedGpuModelTests runs in a child of its own at the same time.
        string root = RootOrSkip(needsNvrtc: true);
        string lib = Build(root);
        (int rc, string log) = RunChild(lib, ["-namespace", "Hrm.Runtime.Tests.Cuda", "-class-", ModelClass],
            reverse: false, output);
        // Nearly every GPU test must really run: only the ones that need a real GPU say so and skip.
        AssertPassed(rc, log, minRun: 100, output);
    }

    /// <summary>The GPU test class that takes most of the emulator's time (two thirds of it in CI).</summary>
    internal const string ModelClass = "Hrm.Runtime.Tests.Cuda.CudaBackendModelTests";

    [Trait("Category", "GpuEmu")]
    [Fact]
    public void The_kernel_test_classes_also_pass_with_each_block_s_threads_in_reverse_order()
    {
        // Another schedule (EMU_REVERSE=1: the last warp runs first) shows races that one order hides.
        string root = RootOrSkip(needsNvrtc: true);
        string lib = Build(root);
        string[] classes = ["CudaBackendAttentionTests", "CudaBackendDenseTests", "CudaBackendElementwiseTests",
            "CudaBackendActTests", "CudaBackendOptimizerTests", "CudaBackendStablemaxCeTests", "CudaBf16MatmulTests"];
        (int rc, string log) = RunChild(lib, [.. classes.SelectMany(c => (string[])["-class", "Hrm.Runtime.Tests.Cuda." + c])],
            reverse: true, output);
        AssertPassed(rc, log, minRun: 40, output);
        // The blocks in reverse too: the fused module kernel's stages, whose blocks meet at grid barriers.
        (rc, log) = RunChild(lib, ["-method", "Hrm.Runtime.Tests.Cuda.CudaFusedModuleTests.Inference_segments_match_the_ops"],
            reverse: true, output);
        AssertPassed(rc, log, minRun: 3, output);
    }

    [Trait("Category", "GpuEmu")]
    [Fact]
    public void Gpus_other_than_one_h200_an_sm_75_refused_an_sm_86_used_and_a_second_gpu_picked()
    {
        // sm_75 (a T4, the RTX 20 series): refused with the reason by the probe, "cuda" and a backend on a caller's
        // device, before any kernel is compiled; "auto" runs on the CPU and says why.
        string root = RootOrSkip(needsNvrtc: true);
        string lib = Build(root);
        const string Refusal =
            "CudaArchitectureTests.A_gpu_older_than_sm_80_is_refused_before_compiling_and_auto_runs_on_the_cpu";
        const string Factory = "Hrm.Runtime.Tests.Cuda.CudaBackendFactoryTests";
        string[] classes = ["-class", "Hrm.Runtime.Tests.Cuda.CudaArchitectureTests", "-class", Factory];
        (int rc, string log) = RunChild(lib, classes, reverse: false, output, Devices("EMU_SM", "75"));
        AssertPassed(rc, log, minRun: 23, output); // all but the second-GPU case: the device is there, and too old
        Assert.DoesNotContain(Refusal + " [SKIP]", log, StringComparison.Ordinal);
        // sm_86 (the RTX 30 series, A10, A40): the kernels compiled for it, 99 KiB of shared memory a block (the
        // one-block attention backward of T <= 128 takes 73 KiB of it), the recorded bf16 q/k/v against the CPU.
        (rc, log) = RunChild(lib, [.. classes, "-class", "Hrm.Runtime.Tests.Cuda.CudaBf16RecordedQkvTests"],
            reverse: false, output, Devices("EMU_SM", "86"));
        AssertPassed(rc, log, minRun: 30, output);
        Assert.Contains(Refusal + " [SKIP]", log, StringComparison.Ordinal); // new enough
        // Two GPUs: --device cuda:1 opens the second and says so.
        (rc, log) = RunChild(lib, ["-class", Factory], reverse: false, output, Devices("EMU_DEVICES", "2"));
        AssertPassed(rc, log, minRun: 12, output);
        Assert.DoesNotContain("Cuda_1_opens_the_second_gpu_and_the_notice_names_it [SKIP]", log,
            StringComparison.Ordinal);
    }

    private static Dictionary<string, string> Devices(string name, string value) => new() { [name] = value };

    /// <summary>The hrm command line built next to these tests (same configuration), or skips.</summary>
    private static string HrmOrSkip(string root)
    {
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name; // bin/<configuration>/net10.0
        string hrm = Path.Combine(root, "src", "Hrm.Train", "bin", configuration, "net10.0", "hrm");
        Assert.SkipUnless(File.Exists(hrm), $"the hrm command line is not built at {hrm}");
        return hrm;
    }

    [Trait("Category", "GpuEmu")]
    [Fact]
    public void Hrm_info_lists_every_gpu_with_the_device_value_that_picks_it()
    {
        string root = RootOrSkip(needsNvrtc: true);
        string hrm = HrmOrSkip(root);
        string lib = Build(root);
        string Info(int gpus, string sm)
        {
            var env = new Dictionary<string, string>
            {
                [CudaLibraryNames.LibDirVariable] = lib, ["EMU_DEVICES"] = $"{gpus}", ["EMU_SM"] = sm,
            };
            (int rc, string log) = ChildProcess.Run(hrm, ["info", "--preset", "tiny"], env, RunTimeoutMs);
            Assert.True(rc == 0, $"hrm info failed (exit {rc}):\n{ChildProcess.Tail(log, 20)}");
            string cuda = log[log.IndexOf("cuda: ", StringComparison.Ordinal)..].TrimEnd();
            output.WriteLine(cuda);
            return cuda;
        }
        const string Gpu = "HRM CPU emulator (tests/gpu-emu) (sm_90, 132 SMs, 16.0 GiB, driver 13.0), NVRTC ";
        string one = Info(1, "90");
        Assert.StartsWith("cuda: " + Gpu, one, StringComparison.Ordinal);
        Assert.DoesNotContain("GPU 1", one, StringComparison.Ordinal);
        string[] three = Info(3, "90").Split('\n');
        Assert.Equal(4, three.Length); // GPU 0, its capability, GPUs 1 and 2
        Assert.StartsWith("  GPU 1 (--device cuda:1): " + Gpu, three[2], StringComparison.Ordinal);
        Assert.StartsWith("  GPU 2 (--device cuda:2): " + Gpu, three[3], StringComparison.Ordinal);
        string old = Info(2, "75"); // too old: each GPU says why
        Assert.Contains("  GPU 1 (--device cuda:1): unavailable: HRM CPU emulator (tests/gpu-emu) (sm_75, ", old,
            StringComparison.Ordinal);
    }

    /// <summary>The child's summary says it passed, with at least <paramref name="minRun"/> tests run (not skipped).
    /// </summary>
    internal static void AssertPassed(int rc, string log, int minRun, ITestOutputHelper output)
    {
        var counts = ChildProcess.Counts(log);
        Assert.True(counts.HasValue,
            $"no summary line in the emulated run's output (exit {rc}):\n{ChildProcess.Tail(log, 60)}");
        (int total, int errors, int failed, int skipped) = counts.Value;
        output.WriteLine($"emulated GPU tests: total {total}, errors {errors}, failed {failed}, skipped {skipped}");
        foreach (string line in log.Split('\n').Where(l => l.Contains("[SKIP]", StringComparison.Ordinal)))
            output.WriteLine(line.Trim());
        Assert.True(rc == 0 && errors == 0 && failed == 0,
            $"the emulated GPU tests failed (exit {rc}):\n{ChildProcess.Failures(log, "gpu-emu")}");
        Assert.True(total - skipped >= minRun, $"only {total - skipped} of {total} GPU tests ran on the emulator");
    }

    [Trait("Category", "GpuEmu")]
    [Fact]
    public void The_kernel_emulator_passes_its_self_test()
    {
        string root = RootOrSkip(needsNvrtc: false);
        string lib = Build(root), exe = Path.Combine(lib, "selftest");
        if (!File.Exists(exe))
        {
            string src = Path.Combine(lib, "src"), tmp = exe + ".tmp" + Environment.ProcessId;
            var args = new List<string> { "-std=c++17", "-O2", "-ffp-contract=off", "-I" + src,
                "-I" + Path.Combine(root, "tests", "gpu-emu"), Path.Combine(root, "tests", "gpu-emu", "selftest.cpp"),
                Path.Combine(src, "emu_core.o") };
            args.AddRange(Directory.GetFiles(src, "bind_*.o").Order(StringComparer.Ordinal));
            args.AddRange(["-o", tmp]);
            (int crc, string clog) = ChildProcess.Run("g++", args, null, BuildTimeoutMs);
            Assert.True(crc == 0, $"building selftest.cpp failed (exit {crc}):\n{ChildProcess.Tail(clog, 60)}");
            File.Move(tmp, exe, overwrite: true);
        }
        (int rc, string log) = ChildProcess.Run(exe, [], null, RunTimeoutMs);
        output.WriteLine(ChildProcess.Tail(log, 40));
        Assert.True(rc == 0, $"the kernel emulator's self-test failed (exit {rc}):\n{ChildProcess.Tail(log, 80)}");
    }

    [Trait("Category", "GpuEmu")]
    [Fact]
    public void Training_with_hrm_on_the_emulated_gpu_follows_the_cpu()
    {
        string root = RootOrSkip(needsNvrtc: true);
        string hrm = HrmOrSkip(root);
        string lib = Build(root);
        using var dir = new Formats.TempDir();
        string P(string name) => Path.Combine(dir.Path, name);
        var emulator = new Dictionary<string, string>
        {
            [CudaLibraryNames.LibDirVariable] = lib,
            ["HRM_KERNEL_CACHE"] = Path.Combine(lib, "kernel-cache"),
        };
        (int rc, string log) = ChildProcess.Run(hrm, ["data", "sudoku", "--generate", "16", "--test", "4", "--size", "4", "--seed",
            "1", "--out", P("data")], null, RunTimeoutMs);
        Assert.True(rc == 0, log);
        string[] common = ["train", "--preset", "sudoku-tiny", "--data", P("data"), "--set", "epochs=2", "--set",
            "eval_interval=2", "--set", "global_batch_size=4", "--set", "log_interval=1", "--threads", "1"];
        string[] Train(string name, Dictionary<string, string>? env, params string[] more)
        {
            (int code, string text) = ChildProcess.Run(hrm, [.. common, .. more, "--run-dir", P(name)], env, RunTimeoutMs);
            Assert.True(code == 0, $"hrm train ({name}) failed (exit {code}):\n{ChildProcess.Tail(text, 40)}");
            string device = text.Split('\n').FirstOrDefault(l => l.Contains("device: ", StringComparison.Ordinal)) ?? "";
            output.WriteLine($"{name}: {device.Trim()}");
            if (env != null) Assert.Contains("device: cuda (HRM CPU emulator", device, StringComparison.Ordinal);
            return [.. File.ReadLines(P(name + "/metrics.jsonl")).Select(l => LmLoss().Match(l))
                .Where(m => m.Success).Select(m => m.Groups[1].Value)];
        }
        string[] cpu = Train("cpu", null, "--device", "cpu");
        string[] gpu = Train("cuda", emulator, "--device", "cuda", "--fp32-matmul");
        string[] bf16 = Train("cuda-bf16", emulator, "--device", "cuda"); // bf16 GEMMs: hrm train's default on a GPU
        // Micro-batches of 2 rows: the carry of all 4 moves through the device-side bank (copies, no reads back).
        string[] micro = Train("cuda-micro", emulator, "--device", "cuda", "--fp32-matmul", "--micro-batch", "2");
        Assert.True(cpu.Length >= 4, $"only {cpu.Length} logged losses");
        Assert.Equal(cpu.Length, gpu.Length);
        Assert.Equal(cpu.Length, bf16.Length);
        Assert.Equal(cpu.Length, micro.Length);
        double worst = 0, worstBf16 = 0, worstMicro = 0;
        for (int i = 0; i < cpu.Length; i++)
        {
            double c = double.Parse(cpu[i], System.Globalization.CultureInfo.InvariantCulture);
            double g = double.Parse(gpu[i], System.Globalization.CultureInfo.InvariantCulture);
            double b = double.Parse(bf16[i], System.Globalization.CultureInfo.InvariantCulture);
            double m = double.Parse(micro[i], System.Globalization.CultureInfo.InvariantCulture);
            output.WriteLine($"step {i + 1}: lm_loss cpu {c:G9} cuda {g:G9} cuda bf16 GEMMs {b:G9} cuda micro-batches {m:G9}");
            worst = Math.Max(worst, Math.Abs(g - c) / Math.Abs(c));
            worstBf16 = Math.Max(worstBf16, Math.Abs(b - c) / Math.Abs(c));
            worstMicro = Math.Max(worstMicro, Math.Abs(m - c) / Math.Abs(c));
        }
        output.WriteLine($"worst relative difference: fp32 {worst:E2}, bf16 GEMMs {worstBf16:E2}, micro-batches {worstMicro:E2}");
        // scripts/gpu-check.sh's parity stages use these tolerances on a real GPU.
        Assert.True(worst <= 1e-3, $"lm_loss on the emulated GPU is {worst:E2} off the CPU's (> 1e-3)");
        Assert.True(worstMicro <= 1e-3, $"lm_loss in micro-batches on the emulated GPU is {worstMicro:E2} off the CPU's (> 1e-3)");

        // Head size 64 (2 heads of 64): the bf16 tensor-core attention and, with bf16 GEMMs, the bf16 no-grad q/k/v,
        // which head size 16 above never reaches; as gpu-check's second parity pair does on a GPU.
        string[] hs64 = ["--set", "hidden_size=128", "--set", "num_heads=2"];
        string[] cpu64 = Train("cpu-hs64", null, [.. hs64, "--device", "cpu"]);
        string[] gpu64 = Train("cuda-hs64", emulator, [.. hs64, "--device", "cuda"]);
        Assert.Equal(cpu64.Length, gpu64.Length);
        double worst64 = 0;
        for (int i = 0; i < cpu64.Length; i++)
        {
            double c = double.Parse(cpu64[i], System.Globalization.CultureInfo.InvariantCulture);
            double g = double.Parse(gpu64[i], System.Globalization.CultureInfo.InvariantCulture);
            worst64 = Math.Max(worst64, Math.Abs(g - c) / Math.Abs(c));
        }
        output.WriteLine($"head size 64, bf16 attention and GEMMs: worst relative lm_loss difference {worst64:E2}");
        Assert.True(worst64 <= 2e-2, $"lm_loss at head size 64 on the emulated GPU is {worst64:E2} off the CPU's (> 2e-2)");
        Assert.True(worstBf16 <= 2e-2, $"lm_loss with bf16 GEMMs is {worstBf16:E2} off the CPU's (> 2e-2)");

        // The trained checkpoint evaluated on both devices, as the reference evaluates (all segments, one CUDA graph
        // on the GPU) and with adaptive halting (the solver: continuous batching, compacted rows).
        string checkpoint = Directory.GetFiles(P("cpu/checkpoints"), "model.safetensors", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal).Last();
        foreach (string[] halting in (string[][])[[], ["--halting", "adaptive"]])
        {
            string[] eval = ["eval", "--checkpoint", checkpoint, "--data", P("data"), "--threads", "1", .. halting];
            string Metrics(string device, Dictionary<string, string>? env, string notice, params string[] more)
            {
                (int code, string text) = ChildProcess.Run(hrm, [.. eval, "--device", device, .. more], env, RunTimeoutMs);
                Assert.True(code == 0, $"hrm eval --device {device} failed (exit {code}):\n{ChildProcess.Tail(text, 40)}");
                Assert.Contains(notice, text, StringComparison.Ordinal); // which GEMMs ran
                return string.Join('\n', text.Split('\n').Select(l => l.Trim()) // the metrics, not the device or speed
                    .Where(l => l.StartsWith("eval/", StringComparison.Ordinal) || l.StartsWith("mean segments", StringComparison.Ordinal)));
            }
            // fp32 GEMMs: the same metrics to the printed digits; bf16 GEMMs (the GPU default): the same metrics listed.
            string onCpu = Metrics("cpu", null, "device: cpu");
            string onGpu = Metrics("cuda", emulator, "linear layers fp32", "--fp32-matmul");
            string onGpuBf16 = Metrics("cuda", emulator, "linear layers bf16 (cuBLASLt)");
            output.WriteLine($"hrm eval {string.Join(' ', halting)}:\n{onGpu}\nwith bf16 GEMMs:\n{onGpuBf16}");
            Assert.Contains("eval/accuracy", onCpu, StringComparison.Ordinal);
            Assert.Equal(onCpu, onGpu);
            static string[] Names(string m) => [.. m.Split('\n').Select(l => l.Split(' ')[0])];
            Assert.Equal(Names(onCpu), Names(onGpuBf16));
        }
    }

    /// <summary>The repository root, or skips the test where the emulator cannot be built or run.</summary>
    internal static string RootOrSkip(bool needsNvrtc)
    {
        Assert.SkipWhen(Emulated, "this process is the emulated run");
        Assert.SkipUnless(OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64,
            "the emulator is built for Linux x64");
        Assert.SkipWhen(ChildProcess.FindOnPath("g++") is null, "g++ is not on PATH (the emulator is C++ built at test time)");
        if (needsNvrtc)
        {
            Assert.SkipUnless(CudaLibraryResolver.TryLoad(CudaLibraryNames.Nvrtc, out _, out IReadOnlyList<string> tried),
                $"NVRTC is not installed (the emulated run compiles every kernel with it): {string.Join("; ", tried)}");
        }
        string? root = ChildProcess.RepoRoot() is { } r && File.Exists(Path.Combine(r, "tests", "gpu-emu", "build.sh"))
            ? r : null;
        Assert.SkipWhen(root is null, "the repository (tests/gpu-emu, native/kernels) is not above the test binaries");
        return root!;
    }

    /// <summary>Builds the emulator into a cache folder named by the hash of its sources (once per change).</summary>
    private string Build(string root) => Build(root, output);

    /// <summary>The emulator's libraries for other test classes (<see cref="RootOrSkip"/> first): built into a cache
    /// folder named by the hash of its sources, once per change.</summary>
    internal static string Build(string root, ITestOutputHelper output)
    {
        lock (BuildGate) return BuildOnce(root, output); // one staging folder per process: one build at a time
    }

    private static readonly Lock BuildGate = new();

    private static string BuildOnce(string root, ITestOutputHelper output)
    {
        string emu = Path.Combine(root, "tests", "gpu-emu"), kernels = Path.Combine(root, "native", "kernels");
        var hash = new StringBuilder();
        using (var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        {
            foreach (string f in Directory.GetFiles(emu).Concat(Directory.GetFiles(kernels)).Order(StringComparer.Ordinal))
            {
                sha.AppendData(Encoding.UTF8.GetBytes(Path.GetFileName(f)));
                sha.AppendData(File.ReadAllBytes(f));
            }
            foreach ((string name, string text) in TestKernelFiles)
            {
                sha.AppendData(Encoding.UTF8.GetBytes(name));
                sha.AppendData(Encoding.UTF8.GetBytes(text));
            }
            hash.Append(Convert.ToHexStringLower(sha.GetHashAndReset())[..16]);
        }
        string dir = Path.Combine(Path.GetTempPath(), "hrm-gpu-emu", hash.ToString());
        if (File.Exists(Path.Combine(dir, "libcublasLt.so.13"))) return dir;
        string staging = dir + ".tmp" + Environment.ProcessId, extra = staging + "-test-kernels";
        foreach (string d in (string[])[staging, extra])
            if (Directory.Exists(d)) Directory.Delete(d, recursive: true);
        Directory.CreateDirectory(extra);
        foreach ((string name, string text) in TestKernelFiles) File.WriteAllText(Path.Combine(extra, name), text);
        var sw = Stopwatch.StartNew();
        (int rc, string log) = ChildProcess.Run("bash", [Path.Combine(emu, "build.sh"), staging, extra], null, BuildTimeoutMs);
        Directory.Delete(extra, recursive: true);
        if (rc != 0 && Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Assert.True(rc == 0, $"tests/gpu-emu/build.sh failed (exit {rc}):\n{ChildProcess.Tail(log, 80)}");
        output.WriteLine($"built the emulator in {sw.Elapsed.TotalSeconds:F0} s");
        try
        {
            Directory.Move(staging, dir);
        }
        catch (IOException) when (File.Exists(Path.Combine(dir, "libcublasLt.so.13")))
        {
            Directory.Delete(staging, recursive: true); // another run built it meanwhile
        }
        return dir;
    }

    /// <summary>The GPU tests' own kernels that they launch (<see cref="Cuda.TestKernels"/>), built in as well.</summary>
    private static readonly (string Name, string Text)[] TestKernelFiles =
    [
        (Cuda.TestKernels.MiniHeader.Key, Cuda.TestKernels.MiniHeader.Value),
        ("scale.cu", Cuda.TestKernels.Scale),
        ("add_one.cu", Cuda.TestKernels.AddOne),
    ];

    /// <summary>This test executable again, on the GPU test classes <paramref name="filter"/> selects, with the emulator
    /// as the CUDA libraries (<paramref name="reverse"/>: each block's threads started in reverse order; <paramref
    /// name="devices"/>: EMU_SM and EMU_DEVICES, the emulated GPUs' architecture and number, as tests/gpu-emu
    /// describes; none: one H200-like sm_90).</summary>
    internal static (int Rc, string Log) RunChild(string lib, string[] filter, bool reverse, ITestOutputHelper output,
        IReadOnlyDictionary<string, string>? devices = null)
    {
        (string file, List<string> args) = ChildProcess.TestExecutable();
        args.AddRange([.. filter, "-noColor"]);
        var env = new Dictionary<string, string>
        {
            [Variable] = "1",
            [CudaLibraryNames.LibDirVariable] = lib,
            ["HRM_KERNEL_CACHE"] = Path.Combine(lib, "kernel-cache"),
            ["EMU_REVERSE"] = reverse ? "1" : "0",
        };
        foreach ((string name, string value) in devices ?? new Dictionary<string, string>()) env[name] = value;
        var sw = Stopwatch.StartNew();
        (int rc, string log) = ChildProcess.Run(file, args, env, RunTimeoutMs);
        output.WriteLine($"emulated run: {sw.Elapsed.TotalSeconds:F0} s");
        return (rc, log);
    }


    [GeneratedRegex("\"train/lm_loss\":([-0-9.eE+]+)")]
    private static partial Regex LmLoss();
}
