using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Hrm.Runtime.Formats;

namespace Hrm.Runtime.Backends.Cuda;

/// <summary>
/// A directory of compiled kernel images, one file per key (<c>&lt;sha256&gt;.hrmk</c>). A file is
/// <c>"HRMKERN1"</c>, the image and log lengths (int32 LE), the image, the UTF-8 log, then the SHA-256 of all
/// the preceding bytes. Files are written through a temporary file and a rename; a file that is unreadable,
/// truncated or fails its checksum is treated as absent (and overwritten by the next compile).
/// </summary>
internal sealed class KernelCache
{
    /// <summary>The environment variable that overrides <see cref="DefaultDirectory"/>.</summary>
    public const string DirectoryVariable = "HRM_KERNEL_CACHE";

    private const int MaxFileBytes = 256 << 20;
    private static readonly byte[] Magic = "HRMKERN1"u8.ToArray();

    /// <summary>A cache in <paramref name="directory"/> (created on first write).</summary>
    public KernelCache(string directory) => Directory = Path.GetFullPath(directory);

    /// <summary>The cache directory.</summary>
    public string Directory { get; }

    /// <summary><c>HRM_KERNEL_CACHE</c> when set, else <c>~/.cache/hrm/kernels</c>.</summary>
    public static string DefaultDirectory()
    {
        string? fromEnv = Environment.GetEnvironmentVariable(DirectoryVariable);
        if (!string.IsNullOrWhiteSpace(fromEnv)) return fromEnv;
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(home, ".cache", "hrm", "kernels");
    }

    /// <summary>The cache file for <paramref name="key"/>.</summary>
    public string PathFor(string key) => Path.Combine(Directory, key + ".hrmk");

    /// <summary>
    /// The cache key: SHA-256 (hex) over a format tag, the NVRTC version, the target, every option, the source
    /// name and text, and every header's name and text, each length-prefixed so no two inputs collide.
    /// </summary>
    public static string Key(string nvrtcVersion, KernelTarget target, IReadOnlyList<string> options,
        string sourceName, string source, IReadOnlyList<KeyValuePair<string, string>> headers)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string s)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(s);
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(length, bytes.Length);
            hash.AppendData(length);
            hash.AppendData(bytes);
        }
        Add("hrm-kernel-cache-v1");
        Add(nvrtcVersion);
        Add(target.ToString());
        Add(options.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (string o in options) Add(o);
        Add(sourceName);
        Add(source);
        foreach (KeyValuePair<string, string> h in headers.OrderBy(h => h.Key, StringComparer.Ordinal))
        {
            Add(h.Key);
            Add(h.Value);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Reads the entry for <paramref name="key"/>; false when it is missing or not intact.</summary>
    public bool TryRead(string key, out byte[] image, out string log)
    {
        image = [];
        log = "";
        byte[] file;
        try
        {
            var info = new FileInfo(PathFor(key));
            if (!info.Exists || info.Length > MaxFileBytes) return false;
            file = File.ReadAllBytes(info.FullName);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
        return TryDecode(file, out image, out log);
    }

    /// <summary>Writes the entry atomically. Best effort: false (and no partial file) on I/O errors.</summary>
    public bool TryWrite(string key, byte[] image, string log)
    {
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            using var writer = new AtomicFileWriter(PathFor(key));
            writer.Stream.Write(Encode(image, log));
            writer.Commit();
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static byte[] Encode(byte[] image, string log)
    {
        byte[] logBytes = Encoding.UTF8.GetBytes(log);
        int body = Magic.Length + 8 + image.Length + logBytes.Length;
        byte[] file = new byte[body + SHA256.HashSizeInBytes];
        Magic.CopyTo(file, 0);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(Magic.Length), image.Length);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(Magic.Length + 4), logBytes.Length);
        image.CopyTo(file, Magic.Length + 8);
        logBytes.CopyTo(file, Magic.Length + 8 + image.Length);
        SHA256.HashData(file.AsSpan(0, body), file.AsSpan(body));
        return file;
    }

    private static bool TryDecode(byte[] file, out byte[] image, out string log)
    {
        image = [];
        log = "";
        int header = Magic.Length + 8;
        if (file.Length < header + SHA256.HashSizeInBytes || !file.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            return false;
        long imageLength = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(Magic.Length));
        long logLength = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(Magic.Length + 4));
        if (imageLength <= 0 || logLength < 0) return false;
        long body = header + imageLength + logLength;
        if (body + SHA256.HashSizeInBytes != file.Length) return false;
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(file.AsSpan(0, (int)body), digest);
        if (!digest.SequenceEqual(file.AsSpan((int)body))) return false;
        image = file.AsSpan(header, (int)imageLength).ToArray();
        log = Encoding.UTF8.GetString(file, header + (int)imageLength, (int)logLength);
        return true;
    }
}
