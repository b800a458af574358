using System.Reflection;
using System.Text;

namespace Hrm.Runtime.Backends.Cuda;

/// <summary>
/// The CUDA sources of <c>native/kernels</c>, embedded in Hrm.Runtime as resources named
/// <c>kernels/&lt;file&gt;</c> (see the csproj): every <c>.cu</c> compiles on its own with NVRTC, with every
/// <c>.cuh</c> passed as an in-memory header so <c>#include "common.cuh"</c> resolves.
/// </summary>
internal static class KernelSources
{
    /// <summary>The resource name prefix.</summary>
    public const string Prefix = "kernels/";

    private static readonly Lazy<IReadOnlyList<string>> AllNames = new(() =>
        [.. typeof(KernelSources).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal))
            .Select(n => n[Prefix.Length..])
            .Order(StringComparer.Ordinal)]);

    /// <summary>Every embedded kernel file name (<c>.cu</c> and <c>.cuh</c>), sorted.</summary>
    public static IReadOnlyList<string> All => AllNames.Value;

    /// <summary>The compilable files (<c>*.cu</c>), sorted.</summary>
    public static IReadOnlyList<string> CudaFiles =>
        [.. All.Where(n => n.EndsWith(".cu", StringComparison.Ordinal))];

    /// <summary>The headers (<c>*.cuh</c>) as (include name, text) pairs, sorted by name.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Headers =>
        [.. All.Where(n => n.EndsWith(".cuh", StringComparison.Ordinal)).Select(n => KeyValuePair.Create(n, Text(n)))];

    /// <summary>The UTF-8 text of the embedded file <paramref name="fileName"/> (e.g. <c>rms_norm.cu</c>).</summary>
    /// <exception cref="ArgumentException">No such file is embedded; the message lists those that are.</exception>
    public static string Text(string fileName)
    {
        Assembly asm = typeof(KernelSources).Assembly;
        using Stream? stream = asm.GetManifestResourceStream(Prefix + fileName);
        if (stream is null)
        {
            throw new ArgumentException(
                $"no kernel source '{fileName}' is embedded; embedded: [{string.Join(", ", All)}]", nameof(fileName));
        }
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
