using System.Diagnostics.CodeAnalysis;
using Hrm.Runtime.Backends.Cuda.Interop;

namespace Hrm.Runtime.Backends.Cuda;

/// <summary>
/// Compiles kernel sources with NVRTC into CUBIN or PTX, with ptxas resource usage parsed from the log, through
/// an optional disk <see cref="KernelCache"/>. Options are always <c>--gpu-architecture=…</c>,
/// <c>--std=c++17</c> and, for CUBIN, <c>--ptxas-options=-v</c>, plus the caller's extras (<c>-lineinfo</c>,
/// <c>-DNAME=VALUE</c>). Compiles are serialised process-wide (older NVRTC versions are not thread-safe).
/// </summary>
internal sealed class KernelCompiler
{
    private static readonly Lock CompileGate = new();
    private static readonly Lock LogGate = new();
    private static readonly Dictionary<string, string> FirstLogs = []; // program key -> its first non-empty log
    private static long _substitutedLogs;
    private int _nvrtcCompiles;

    private KernelCompiler(KernelCache? cache, string version, IReadOnlyList<int> archs)
    {
        Cache = cache;
        NvrtcVersion = version;
        SupportedArchs = archs;
    }

    /// <summary>The disk cache, or null to always compile.</summary>
    public KernelCache? Cache { get; }

    /// <summary>The loaded NVRTC's version, e.g. <c>11.8</c> (part of every cache key).</summary>
    public string NvrtcVersion { get; }

    /// <summary>The real architectures this NVRTC can emit CUBIN for (e.g. 80, 86, 89, 90).</summary>
    public IReadOnlyList<int> SupportedArchs { get; }

    /// <summary>How many times this compiler actually ran NVRTC (cache hits do not count).</summary>
    public int NvrtcCompileCount => Volatile.Read(ref _nvrtcCompiles);

    /// <summary>Loads NVRTC and queries its version and architectures.</summary>
    /// <exception cref="CudaLibraryNotFoundException">NVRTC is not installed (the message lists what was tried).
    /// </exception>
    public static unsafe KernelCompiler Create(KernelCache? cache)
    {
        CudaLibraryResolver.Load(CudaLibraryNames.Nvrtc);
        int major, minor, count;
        CudaCheck.Nvrtc(Nvrtc.nvrtcVersion(&major, &minor));
        CudaCheck.Nvrtc(Nvrtc.nvrtcGetNumSupportedArchs(&count));
        int[] archs = new int[count];
        fixed (int* p = archs) CudaCheck.Nvrtc(Nvrtc.nvrtcGetSupportedArchs(p));
        return new KernelCompiler(cache, $"{major}.{minor}", archs);
    }

    /// <summary>As <see cref="Create"/>, but returns false with the reason instead of throwing.</summary>
    public static bool TryCreate(KernelCache? cache, [NotNullWhen(true)] out KernelCompiler? compiler,
        out string reason)
    {
        compiler = null;
        try
        {
            compiler = Create(cache);
            reason = "";
            return true;
        }
        catch (Exception e) when (e is CudaLibraryNotFoundException or CudaException or EntryPointNotFoundException)
        {
            reason = e.Message;
            return false;
        }
    }

    /// <summary>The options for <paramref name="target"/> followed by <paramref name="extraOptions"/>.</summary>
    public static IReadOnlyList<string> Options(KernelTarget target, IReadOnlyList<string>? extraOptions = null)
    {
        var options = new List<string> { target.ArchOption, "--std=c++17" };
        if (!target.Ptx) options.Add("--ptxas-options=-v");
        if (extraOptions is not null) options.AddRange(extraOptions);
        return options;
    }

    /// <summary>Compiles the embedded file <paramref name="fileName"/> with every embedded header.</summary>
    public CompiledKernel CompileEmbedded(string fileName, KernelTarget target,
        IReadOnlyList<string>? extraOptions = null) =>
        Compile(fileName, KernelSources.Text(fileName), KernelSources.Headers, target, extraOptions);

    /// <summary>
    /// Compiles <paramref name="source"/>, or returns the cached image when an intact entry for the same
    /// (sources, options, target, NVRTC version) exists.
    /// </summary>
    /// <exception cref="NvrtcCompileException">The source does not compile; the message holds the full log.</exception>
    public CompiledKernel Compile(string sourceName, string source,
        IReadOnlyList<KeyValuePair<string, string>> headers, KernelTarget target,
        IReadOnlyList<string>? extraOptions = null)
    {
        if (!SupportedArchs.Contains(target.Arch))
        {
            throw new ArgumentException($"NVRTC {NvrtcVersion} cannot target {target}; supported: " +
                string.Join(", ", SupportedArchs), nameof(target));
        }
        IReadOnlyList<string> options = Options(target, extraOptions);
        string key = KernelCache.Key(NvrtcVersion, target, options, sourceName, source, headers);
        if (Cache is not null && Cache.TryRead(key, out byte[] cached, out string cachedLog))
            return new CompiledKernel(sourceName, target, options, cached, cachedLog, FromCache: true);
        (byte[] image, string log) = RunNvrtc(sourceName, source, headers, target, options);
        log = RememberLog(key, log);
        _ = Cache?.TryWrite(key, image, log); // best effort: a cache that cannot be written only costs time.
        return new CompiledKernel(sourceName, target, options, image, log, FromCache: false);
    }

    /// <summary>How many compiles in this process logged nothing and were given their program's first log
    /// (<see cref="RememberLog"/>).</summary>
    internal static long SubstitutedLogs => Interlocked.Read(ref _substitutedLogs);

    /// <summary>
    /// Keeps each program's first non-empty log, process-wide (key: <see cref="KernelCache.Key"/>), and returns it for
    /// a later compile of the same program that logs nothing; any other log is returned as it is. NVRTC 13.0 appears
    /// to log nothing, not even ptxas's report, for a program it already compiled in the process: on an H200
    /// (2026-11-30) exactly the test compiles that repeated an earlier compile's source and options came back with
    /// empty logs. The compile is deterministic, so the first log is the later one's too.
    /// </summary>
    internal static string RememberLog(string key, string log)
    {
        lock (LogGate)
        {
            if (!string.IsNullOrWhiteSpace(log))
            {
                FirstLogs.TryAdd(key, log);
                return log;
            }
            if (!FirstLogs.TryGetValue(key, out string? first)) return log;
            _substitutedLogs++;
            return first;
        }
    }

    private (byte[] Image, string Log) RunNvrtc(string sourceName, string source,
        IReadOnlyList<KeyValuePair<string, string>> headers, KernelTarget target, IReadOnlyList<string> options)
    {
        lock (CompileGate)
        {
            Interlocked.Increment(ref _nvrtcCompiles);
            using NvrtcProgram program = NvrtcProgram.Create(source, sourceName, headers);
            NvrtcResult result = program.Compile(options);
            string log = program.Log();
            if (result != NvrtcResult.Success)
                throw new NvrtcCompileException(sourceName, (int)result, CudaErrorText.Nvrtc(result), options, log);
            return (target.Ptx ? program.Ptx() : program.Cubin(), log);
        }
    }
}
