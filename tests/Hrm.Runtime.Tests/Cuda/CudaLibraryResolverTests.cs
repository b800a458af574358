using System.Runtime.InteropServices;
using Hrm.Runtime.Backends.Cuda;
using Hrm.Runtime.Backends.Cuda.Interop;
using Hrm.Runtime.Tests.Formats;

namespace Hrm.Runtime.Tests.Cuda;

/// <summary>Native library probing: candidate names, the order tried, and failures that list every attempt.</summary>
public sealed class CudaLibraryResolverTests(ITestOutputHelper output)
{
    private const string Bogus = "hrm-no-such-library";
    private static readonly string[] LibDirs =
        ["/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/local/cuda/lib64"];

    [Fact]
    public void Failure_lists_every_path_tried_with_the_directory_first()
    {
        using var dir = new TempDir();
        Assert.False(CudaLibraryResolver.TryLoad(Bogus, dir.Path, out nint handle, out IReadOnlyList<string> tried));
        Assert.Equal(0, handle);
        output.WriteLine(string.Join("\n", tried));
        Assert.StartsWith($"{Path.Combine(dir.Path, Bogus)} (no such file)", tried[0], StringComparison.Ordinal);
        Assert.Contains(tried, t => t.StartsWith($"{Bogus} (", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_throws_typed_exception_naming_each_attempt()
    {
        var e = Assert.Throws<CudaLibraryNotFoundException>(() => CudaLibraryResolver.Load(Bogus));
        output.WriteLine(e.Message);
        Assert.Equal(Bogus, e.LibraryName);
        Assert.NotEmpty(e.Attempts);
        foreach (string attempt in e.Attempts) Assert.Contains(attempt, e.Message, StringComparison.Ordinal);
        Assert.Contains(CudaLibraryNames.LibDirVariable, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Loader_reason_keeps_the_dlerror_line_only()
    {
        const string message = "Unable to load shared library 'libcuda.so.1' or one of its dependencies. In order "
            + "to help diagnose loading problems, consider using a tool like strace. If you're using glibc, consider "
            + "setting the LD_DEBUG environment variable: \nlibcuda.so.1: cannot open shared object file: No such file "
            + "or directory";
        Assert.Equal("cannot open shared object file: No such file or directory",
            CudaLibraryResolver.LoaderReason(message, "libcuda.so.1"));
        Assert.Equal("odd", CudaLibraryResolver.LoaderReason("odd\n", "x"));
        Assert.Equal("load failed", CudaLibraryResolver.LoaderReason("", "x"));
    }

    [Fact]
    public void Known_libraries_probe_newest_versions_first()
    {
        IReadOnlyList<string> nvrtc = CudaLibraryNames.Candidates(CudaLibraryNames.Nvrtc);
        if (OperatingSystem.IsWindows())
        {
            Assert.Equal(["nvcuda.dll"], CudaLibraryNames.Candidates(CudaLibraryNames.Cuda));
            Assert.StartsWith("nvrtc64_", nvrtc[0], StringComparison.Ordinal);
            return;
        }
        Assert.Equal(["libcuda.so.1", "libcuda.so"], CudaLibraryNames.Candidates(CudaLibraryNames.Cuda));
        Assert.Equal(["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"], nvrtc);
        Assert.Equal("libcublasLt.so.13", CudaLibraryNames.Candidates(CudaLibraryNames.CublasLt)[0]);
        Assert.Equal("libcublas.so.12", CudaLibraryNames.Candidates(CudaLibraryNames.Cublas)[1]);
        Assert.Equal([Bogus], CudaLibraryNames.Candidates(Bogus));
    }

    [Fact]
    public void Directory_is_probed_before_the_system_path()
    {
        bool loaded = CudaLibraryResolver.TryLoad(CudaLibraryNames.Nvrtc, out nint system, out IReadOnlyList<string> t);
        Assert.SkipUnless(loaded, $"NVRTC is not installed: {string.Join("; ", t)}");
        Assert.SkipUnless(OperatingSystem.IsLinux(), "the directory probe test links a Linux .so");
        string? real = LibDirs
            .Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d, "libnvrtc.so.1*"))
            .FirstOrDefault(f => !f.Contains("builtins", StringComparison.Ordinal));
        Assert.SkipWhen(real is null, "no libnvrtc.so.1* file found to link to");
        using var empty = new TempDir();
        using var dir = new TempDir();
        string first = Path.Combine(dir.Path, CudaLibraryNames.Candidates(CudaLibraryNames.Nvrtc)[0]);
        File.CreateSymbolicLink(first, real!);
        var tried = new List<string>();
        // A list of directories, as HRM_CUDA_LIB_DIR may hold: the empty one is tried first, then the one with NVRTC.
        string list = empty.Path + Path.PathSeparator + dir.Path;
        Assert.True(CudaLibraryResolver.Probe(CudaLibraryNames.Nvrtc, list, tried, out nint handle));
        Assert.Equal(CudaLibraryNames.Candidates(CudaLibraryNames.Nvrtc).Select(n => $"{Path.Combine(empty.Path, n)} (no such file)"),
            tried);
        Assert.NotEqual(0, handle);
        output.WriteLine($"{first} -> {real}; system handle {system:x}, probed handle {handle:x}");
    }

    [Fact]
    public void Versioned_toolkits_are_tried_newest_first_and_builtins_are_found_next_to_nvrtc()
    {
        using var dir = new TempDir();
        foreach (string d in (string[])["cuda-12.8", "cuda-9.2", "cuda-13.0", "cuda-x", "cudnn"])
            Directory.CreateDirectory(Path.Combine(dir.Path, d));
        Assert.Equal(["cuda-13.0", "cuda-12.8", "cuda-9.2"],
            CudaLibraryNames.VersionedToolkits(dir.Path).Select(Path.GetFileName));
        Assert.Empty(CudaLibraryNames.VersionedToolkits(Path.Combine(dir.Path, "missing")));
        foreach (string f in (string[])["libnvrtc.so.13", "libnvrtc-builtins.so.13.0", "libnvrtc-builtins.so"])
            File.WriteAllBytes(Path.Combine(dir.Path, f), []);
        IReadOnlyList<string> builtins = CudaLibraryNames.NvrtcBuiltins(dir.Path);
        Assert.SkipWhen(OperatingSystem.IsWindows(), "the Linux file names");
        Assert.Equal(["libnvrtc-builtins.so", "libnvrtc-builtins.so.13.0"], builtins.Select(Path.GetFileName));
        Assert.Empty(CudaLibraryNames.NvrtcBuiltins(Path.Combine(dir.Path, "missing")));
        Assert.Contains("/usr/local/cuda/lib64", CudaLibraryNames.FallbackDirectories);
    }

    [Fact]
    public void Windows_toolkits_are_found_through_cuda_path_its_versioned_variables_and_program_files()
    {
        using var dir = new TempDir();
        string toolkits = Path.Combine(dir.Path, "NVIDIA GPU Computing Toolkit", "CUDA");
        foreach (string d in (string[])["v11.8", "v13.0", "v12.9", "v12.6", "v13.1", "vnext"])
            Directory.CreateDirectory(Path.Combine(toolkits, d));
        string V(string version) => Path.Combine(toolkits, "v" + version);
        KeyValuePair<string, string>[] environment =
        [
            new("CUDA_PATH_V11_8", V("11.8")), new("PATH", "x"),
            new("CUDA_PATH", V("12.6") + Path.DirectorySeparatorChar),
            new("CUDA_PATH_V13_0", V("13.0")), new("CUDA_PATH_VX", "ignored"), new("CUDA_PATH_V12_9", ""),
        ];
        string[] Dirs(string root) => [Path.Combine(root, "bin", "x64"), Path.Combine(root, "bin")];
        // CUDA_PATH first (the version the user chose), then the versioned variables, newest first, then the other
        // toolkits in Program Files, newest first.
        Assert.Equal(
            [.. Dirs(V("12.6")), .. Dirs(V("13.0")), .. Dirs(V("11.8")), .. Dirs(V("13.1")), .. Dirs(V("12.9"))],
            CudaLibraryNames.WindowsDirectories(environment, dir.Path));
        Assert.Empty(CudaLibraryNames.WindowsDirectories([], ""));
        Assert.Equal(Dirs(V("13.0")), CudaLibraryNames.WindowsDirectories([new("cuda_path", V("13.0"))], ""));

        foreach (string f in (string[])["nvrtc64_130_0.dll", "nvrtc-builtins64_130.dll", "libnvrtc-builtins.so.13"])
            File.WriteAllBytes(Path.Combine(dir.Path, f), []);
        Assert.Equal(["nvrtc-builtins64_130.dll"],
            CudaLibraryNames.NvrtcBuiltins(dir.Path, windows: true).Select(Path.GetFileName));
        Assert.Equal(["libnvrtc-builtins.so.13"],
            CudaLibraryNames.NvrtcBuiltins(dir.Path, windows: false).Select(Path.GetFileName));
    }

    [Fact]
    public void The_toolkit_s_target_directory_follows_the_process_architecture()
    {
        Assert.Equal(["x86_64-linux"], CudaLibraryNames.TargetDirectories(Architecture.X64));
        Assert.Equal(["sbsa-linux", "aarch64-linux"], CudaLibraryNames.TargetDirectories(Architecture.Arm64));
        Assert.Empty(CudaLibraryNames.TargetDirectories(Architecture.X86));
        Assert.SkipWhen(OperatingSystem.IsWindows(), "Windows has no toolkit fallback directories");
        List<string> dirs = [.. CudaLibraryNames.FallbackDirectories];
        int lib64 = dirs.IndexOf("/usr/local/cuda/lib64");
        Assert.True(lib64 >= 0, string.Join("\n", dirs));
        foreach (string target in CudaLibraryNames.TargetDirectories(RuntimeInformation.ProcessArchitecture))
            Assert.True(dirs.IndexOf($"/usr/local/cuda/targets/{target}/lib") > lib64, string.Join("\n", dirs));
        string other = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "x86_64-linux" : "sbsa-linux";
        Assert.DoesNotContain($"/usr/local/cuda/targets/{other}/lib", dirs);
    }
}
