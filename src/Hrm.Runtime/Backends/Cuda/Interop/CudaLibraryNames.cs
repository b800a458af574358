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
    /// Toolkit directories tried after the system search path (Linux): <c>lib64</c> and the toolkit's target library
    /// directory for this process's architecture (<see cref="TargetDirectories"/>) under <c>$CUDA_HOME</c>,
    /// <c>$CUDA_PATH</c>, <c>/usr/local/cuda</c> and every <c>/usr/local/cuda-X.Y</c>, newest version first.
    /// </summary>
    public static IReadOnlyList<string> FallbackDirectories
    {
        get
        {
            IReadOnlyList<string> targets = TargetDirectories(RuntimeInformation.ProcessArchitecture);
            if (OperatingSystem.IsWindows()) return [];
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

    /// <summary>The <c>cuda-X.Y</c> directories under <paramref name="parent"/>, newest first (none when unreadable).</summary>
    internal static IEnumerable<string> VersionedToolkits(string parent)
    {
        try
        {
            return [.. Directory.EnumerateDirectories(parent, "cuda-*")
                .Select(d => (Dir: d, Ok: Version.TryParse(Path.GetFileName(d)["cuda-".Length..], out Version? v), V: v))
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
    /// NVRTC's builtins libraries in <paramref name="directory"/> (<c>libnvrtc-builtins.so.*</c>, none on Windows or
    /// when unreadable). NVRTC opens its builtins by bare name, which the loader does not look for next to an NVRTC
    /// loaded by full path; loading them first by full path lets that later lookup find them already loaded.
    /// </summary>
    internal static IReadOnlyList<string> NvrtcBuiltins(string directory)
    {
        if (OperatingSystem.IsWindows()) return [];
        try
        {
            return [.. Directory.EnumerateFiles(directory, "libnvrtc-builtins.so*").Order(StringComparer.Ordinal)];
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
