using System.Runtime.InteropServices;

namespace Hrm.Runtime.Backends.Cuda.Interop;

/// <summary>
/// The logical native library names used by the <c>[LibraryImport]</c> declarations, and the file names
/// <see cref="CudaLibraryResolver"/> probes for each, newest first.
/// </summary>
internal static class CudaLibraryNames
{
    /// <summary>The CUDA driver API (<c>libcuda.so.1</c>, <c>nvcuda.dll</c>).</summary>
    public const string Cuda = "cuda";

    /// <summary>The NVRTC runtime compiler.</summary>
    public const string Nvrtc = "nvrtc";

    /// <summary>cuBLASLt (the matmul API with epilogues and heuristics).</summary>
    public const string CublasLt = "cublasLt";

    /// <summary>Classic cuBLAS (<c>cublasGemmEx</c>).</summary>
    public const string Cublas = "cublas";

    /// <summary>The environment variable naming directories (one, or several separated by
    /// <see cref="Path.PathSeparator"/>) that are probed before the system search path.</summary>
    public const string LibDirVariable = "HRM_CUDA_LIB_DIR";

    /// <summary>
    /// Toolkit directories tried after the system search path. Linux: <c>lib64</c> and the toolkit's target library
    /// directory for this process's architecture (<see cref="TargetDirectories"/>) under <c>$CUDA_HOME</c>,
    /// <c>$CUDA_PATH</c>, <c>/usr/local/cuda</c> and every <c>/usr/local/cuda-X.Y</c>, newest version first.
    /// Windows: see <see cref="WindowsDirectories"/>.
    /// </summary>
    public static IReadOnlyList<string> FallbackDirectories
    {
        get
        {
            IReadOnlyList<string> targets = TargetDirectories(RuntimeInformation.ProcessArchitecture);
            if (OperatingSystem.IsWindows())
            {
                IEnumerable<KeyValuePair<string, string>> environment = Environment.GetEnvironmentVariables()
                    .Cast<System.Collections.DictionaryEntry>()
                    .Select(e => KeyValuePair.Create((string)e.Key, e.Value as string ?? ""));
                return WindowsDirectories(environment,
                    Environment.GetFolderPath(Environment.SpecialFolder.ProgramFiles));
            }
            var roots = new List<string>();
            foreach (string variable in (string[])["CUDA_HOME", "CUDA_PATH"])
            {
                string? root = Environment.GetEnvironmentVariable(variable);
                if (!string.IsNullOrEmpty(root)) roots.Add(root);
            }
            roots.Add("/usr/local/cuda");
            roots.AddRange(VersionedToolkits("/usr/local"));
            return [.. roots.Distinct(StringComparer.Ordinal).SelectMany(r =>
                targets.Select(t => Path.Combine(r, "targets", t, "lib")).Prepend(Path.Combine(r, "lib64")))];
        }
    }

    /// <summary>
    /// The toolkit's <c>targets/NAME</c> directories for <paramref name="architecture"/>: <c>x86_64-linux</c>; on
    /// Arm64 <c>sbsa-linux</c> (servers: Grace Hopper, Grace Blackwell) and <c>aarch64-linux</c> (Jetson); none
    /// elsewhere.
    /// </summary>
    internal static IReadOnlyList<string> TargetDirectories(Architecture architecture) => architecture switch
    {
        Architecture.X64 => ["x86_64-linux"],
        Architecture.Arm64 => ["sbsa-linux", "aarch64-linux"],
        _ => [],
    };

    /// <summary>
    /// The Windows toolkit directories: <c>bin\x64</c> (where CUDA 13 puts its DLLs, which its installer may leave off
    /// PATH) and <c>bin</c> (CUDA 11 and 12) under <c>%CUDA_PATH%</c>, each <c>%CUDA_PATH_Vxx_y%</c> (the installer
    /// sets one per version; newest first) and each <c>NVIDIA GPU Computing Toolkit\CUDA\vX.Y</c> under
    /// <paramref name="programFiles"/> (newest first).
    /// </summary>
    /// <param name="environment">The environment variables (name, value).</param>
    /// <param name="programFiles">The Program Files folder (empty: none).</param>
    internal static IReadOnlyList<string> WindowsDirectories(IEnumerable<KeyValuePair<string, string>> environment,
        string programFiles)
    {
        var roots = new List<string>();
        var versioned = new List<(Version V, string Root)>();
        foreach ((string name, string value) in environment)
        {
            if (string.IsNullOrEmpty(value)) continue;
            if (name.Equals("CUDA_PATH", StringComparison.OrdinalIgnoreCase)) roots.Add(value);
            else if (name.StartsWith("CUDA_PATH_V", StringComparison.OrdinalIgnoreCase) &&
                     Version.TryParse(name["CUDA_PATH_V".Length..].Replace('_', '.'), out Version? v))
            {
                versioned.Add((v, value));
            }
        }
        roots.AddRange(versioned.OrderByDescending(x => x.V).Select(x => x.Root));
        if (!string.IsNullOrEmpty(programFiles))
            roots.AddRange(VersionedToolkits(Path.Combine(programFiles, "NVIDIA GPU Computing Toolkit", "CUDA"), "v"));
        return [.. roots.Select(r => r.TrimEnd('\\', '/')).Distinct(StringComparer.OrdinalIgnoreCase)
            .SelectMany(r => (string[])[Path.Combine(r, "bin", "x64"), Path.Combine(r, "bin")])];
    }

    /// <summary>The <c>PREFIXX.Y</c> directories under <paramref name="parent"/> (<c>cuda-12.8</c>; on Windows
    /// <c>v12.8</c>), newest first (none when unreadable).</summary>
    internal static IEnumerable<string> VersionedToolkits(string parent, string prefix = "cuda-")
    {
        try
        {
            return [.. Directory.EnumerateDirectories(parent, prefix + "*")
                .Select(d => (Dir: d, Ok: Version.TryParse(Path.GetFileName(d)[prefix.Length..], out Version? v), V: v))
                .Where(x => x.Ok)
                .OrderByDescending(x => x.V)
                .Select(x => x.Dir)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>
    /// NVRTC's builtins libraries in <paramref name="directory"/> (<c>libnvrtc-builtins.so*</c>; on Windows
    /// <c>nvrtc-builtins64_*.dll</c>; none when unreadable). NVRTC opens its builtins by bare name, which the loader
    /// does not look for next to an NVRTC loaded by full path; loading them first by full path lets that later lookup
    /// find them already loaded (both loaders reuse a loaded library of that name).
    /// </summary>
    internal static IReadOnlyList<string> NvrtcBuiltins(string directory) =>
        NvrtcBuiltins(directory, OperatingSystem.IsWindows());

    /// <summary><see cref="NvrtcBuiltins(string)"/> with the file names of Windows or of Linux.</summary>
    internal static IReadOnlyList<string> NvrtcBuiltins(string directory, bool windows)
    {
        try
        {
            string pattern = windows ? "nvrtc-builtins64_*.dll" : "libnvrtc-builtins.so*";
            return [.. Directory.EnumerateFiles(directory, pattern).Order(StringComparer.Ordinal)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>True for the four names above: only these are resolved by <see cref="CudaLibraryResolver"/>.</summary>
    public static bool IsKnown(string logicalName) =>
        logicalName is Cuda or Nvrtc or CublasLt or Cublas;

    /// <summary>
    /// The file names tried for <paramref name="logicalName"/> on this OS, newest version first. An unknown name is
    /// its own only candidate.
    /// </summary>
    public static IReadOnlyList<string> Candidates(string logicalName) => OperatingSystem.IsWindows()
        ? logicalName switch
        {
            Cuda => ["nvcuda.dll"],
            Nvrtc => ["nvrtc64_130_0.dll", "nvrtc64_120_0.dll", "nvrtc64_112_0.dll"],
            CublasLt => ["cublasLt64_13.dll", "cublasLt64_12.dll", "cublasLt64_11.dll"],
            Cublas => ["cublas64_13.dll", "cublas64_12.dll", "cublas64_11.dll"],
            _ => [logicalName],
        }
        : logicalName switch
        {
            Cuda => ["libcuda.so.1", "libcuda.so"],
            Nvrtc => ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"],
            CublasLt => ["libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so.11", "libcublasLt.so"],
            Cublas => ["libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so"],
            _ => [logicalName],
        };
}
