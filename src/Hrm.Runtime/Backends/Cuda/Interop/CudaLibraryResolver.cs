using System.Reflection;
using System.Runtime.InteropServices;

namespace Hrm.Runtime.Backends.Cuda.Interop;

/// <summary>
/// The one <see cref="NativeLibrary.SetDllImportResolver"/> of the Hrm.Runtime assembly. It maps the logical
/// names of <see cref="CudaLibraryNames"/> to the first candidate that loads, trying in order: the directories in
/// <c>HRM_CUDA_LIB_DIR</c>, the system search path, then the toolkit fallback directories. Successful loads are
/// cached; every attempt is recorded so a failure can say exactly what was tried.
/// </summary>
/// <remarks>
/// Nothing here runs at type load of any other class: the resolver is installed by the first
/// <see cref="Load"/> / <see cref="TryLoad(string, out nint, out IReadOnlyList{string})"/>, which every checked
/// entry point calls before its first P/Invoke.
/// </remarks>
internal static class CudaLibraryResolver
{
    private static readonly Lock Gate = new();
    private static readonly Dictionary<string, nint> Loaded = new(StringComparer.Ordinal);
    private static bool _installed;

    /// <summary>Installs the resolver for the Hrm.Runtime assembly (once; thread-safe).</summary>
    public static void EnsureInstalled()
    {
        lock (Gate)
        {
            if (_installed) return;
            NativeLibrary.SetDllImportResolver(typeof(CudaLibraryResolver).Assembly, Resolve);
            _installed = true;
        }
    }

    /// <summary>Loads <paramref name="logicalName"/> or throws <see cref="CudaLibraryNotFoundException"/>.</summary>
    public static nint Load(string logicalName) =>
        TryLoad(logicalName, out nint handle, out IReadOnlyList<string> attempts)
            ? handle
            : throw new CudaLibraryNotFoundException(logicalName, attempts);

    /// <summary>
    /// Loads <paramref name="logicalName"/>, probing <c>HRM_CUDA_LIB_DIR</c> first. Returns false, with every path
    /// tried and why it failed in <paramref name="attempts"/>, when no candidate loads. Never throws.
    /// </summary>
    public static bool TryLoad(string logicalName, out nint handle, out IReadOnlyList<string> attempts) =>
        TryLoad(logicalName, Environment.GetEnvironmentVariable(CudaLibraryNames.LibDirVariable), out handle,
            out attempts);

    /// <summary>As above with explicit first directories (null or empty: none).</summary>
    public static bool TryLoad(string logicalName, string? directory, out nint handle,
        out IReadOnlyList<string> attempts)
    {
        EnsureInstalled();
        lock (Gate)
        {
            if (Loaded.TryGetValue(logicalName, out handle))
            {
                attempts = [];
                return true;
            }
            var tried = new List<string>();
            attempts = tried;
            if (!Probe(logicalName, directory, tried, out handle)) return false;
            Loaded[logicalName] = handle;
            return true;
        }
    }

    /// <summary>
    /// Tries each candidate of <paramref name="logicalName"/> in each of <paramref name="directories"/> (one directory
    /// or several separated by <see cref="Path.PathSeparator"/>), then by bare name (system search path), then in the
    /// fallback directories; records each failure in <paramref name="tried"/>. Does not cache. An NVRTC found in a
    /// directory gets its builtins from the same directory (<see cref="CudaLibraryNames.NvrtcBuiltins(string)"/>).
    /// </summary>
    internal static bool Probe(string logicalName, string? directories, List<string> tried, out nint handle)
    {
        IReadOnlyList<string> names = CudaLibraryNames.Candidates(logicalName);
        string[] first = string.IsNullOrEmpty(directories)
            ? []
            : directories.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (string dir in first)
        {
            if (TryDirectory(logicalName, names, dir, tried, out handle)) return true;
        }
        foreach (string name in names)
            if (TryPath(name, mustExist: false, tried, out handle)) return true;
        foreach (string dir in CudaLibraryNames.FallbackDirectories)
        {
            if (TryDirectory(logicalName, names, dir, tried, out handle)) return true;
        }
        handle = 0;
        return false;
    }

    private static bool TryDirectory(string logicalName, IReadOnlyList<string> names, string dir, List<string> tried,
        out nint handle)
    {
        foreach (string name in names)
        {
            if (!TryPath(Path.Combine(dir, name), mustExist: true, tried, out handle)) continue;
            if (logicalName == CudaLibraryNames.Nvrtc)
            {
                // Best effort: when none loads, NVRTC's own error at the first compile names the file it wanted.
                foreach (string builtins in CudaLibraryNames.NvrtcBuiltins(dir)) _ = NativeLibrary.TryLoad(builtins, out _);
            }
            return true;
        }
        handle = 0;
        return false;
    }

    private static bool TryPath(string path, bool mustExist, List<string> tried, out nint handle)
    {
        handle = 0;
        if (mustExist && !File.Exists(path))
        {
            tried.Add($"{path} (no such file)");
            return false;
        }
        try
        {
            handle = NativeLibrary.Load(path);
            return true;
        }
        catch (DllNotFoundException e)
        {
            tried.Add($"{path} ({LoaderReason(e.Message, path)})");
        }
        catch (BadImageFormatException e)
        {
            tried.Add($"{path} (bad image: {LoaderReason(e.Message, path)})");
        }
        return false;
    }

    /// <summary>
    /// The loader's own words from a .NET load failure: its last line (on Linux, <c>dlerror()</c>, after a
    /// paragraph of generic advice), without a repeated <c>"path: "</c> prefix.
    /// </summary>
    internal static string LoaderReason(string message, string path)
    {
        string last = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .LastOrDefault() ?? "";
        if (last.StartsWith(path + ": ", StringComparison.Ordinal)) last = last[(path.Length + 2)..];
        return last.Length == 0 ? "load failed" : last;
    }

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (!CudaLibraryNames.IsKnown(libraryName)) return 0;
        return TryLoad(libraryName, out nint handle, out _) ? handle : 0;
    }
}
