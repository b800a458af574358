using System.Buffers.Binary;
using System.Text;

namespace Hrm.Runtime.Tests.Formats;

/// <summary>A fresh temporary directory per test, deleted on dispose, plus helpers to craft files.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Info = Directory.CreateTempSubdirectory("hrm-formats-");

    public DirectoryInfo Info { get; }

    public string Path => Info.FullName;

    /// <summary>A path inside the directory.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Writes <paramref name="bytes"/> to a new file in the directory and returns its path.</summary>
    public string Write(string name, byte[] bytes)
    {
        string path = File(name);
        System.IO.File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>The names of every entry in the directory, sorted.</summary>
    public string[] Entries() =>
        [.. Directory.EnumerateFileSystemEntries(Path).Select(p => System.IO.Path.GetFileName(p))
            .Order(StringComparer.Ordinal)];

    public void Dispose() => Info.Delete(recursive: true);

    /// <summary>A safetensors blob: u64 LE header size (default: the JSON's length), JSON, data.</summary>
    public static byte[] SafeTensorsBlob(string json, byte[] data, ulong? headerSize = null)
    {
        byte[] header = Encoding.UTF8.GetBytes(json);
        byte[] blob = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(blob, headerSize ?? (ulong)header.Length);
        header.CopyTo(blob, 8);
        data.CopyTo(blob, 8 + header.Length);
        return blob;
    }

    /// <summary>Bytes 1, 2, 3, ... (never all zero).</summary>
    public static byte[] Pattern(int length)
    {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) b[i] = (byte)(i + 1);
        return b;
    }
}
