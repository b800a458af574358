using System.Text;

namespace Hrm.Runtime.Formats;

/// <summary>
/// Whole-file reads with a cap on the size: a file far larger than any of its kind (a config of gigabytes, a FIFO
/// that never ends) is an error naming the file, instead of a read that exhausts memory first.
/// </summary>
internal static class BoundedFile
{
    /// <summary>The cap for small JSON files (configs, dataset.json, an ARC task): theirs are a few KB.</summary>
    public const int MaxJsonBytes = 16 << 20;

    /// <summary>The cap for identifiers.json: a million augmented ARC puzzle names are about 30 MB.</summary>
    public const int MaxIdentifiersBytes = 1 << 30;

    /// <summary>The bytes of <paramref name="path"/>.</summary>
    /// <param name="path">The file.</param>
    /// <param name="what">What the file is, for the error ("config file").</param>
    /// <param name="maxBytes">The largest size allowed.</param>
    /// <exception cref="HrmFormatException">The file is larger than <paramref name="maxBytes"/>.</exception>
    public static byte[] ReadAllBytes(string path, string what, int maxBytes)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1,
            FileOptions.SequentialScan);
        if (f.CanSeek && f.Length > maxBytes) throw TooLarge(path, what, f.Length, maxBytes);
        // A seekable file is read into an array of its size; a pipe or device in blocks, up to the cap.
        byte[] data = new byte[f.CanSeek ? (int)f.Length : Math.Min(maxBytes, 1 << 16)]; // [bytes]
        int used = 0;
        while (true)
        {
            if (used == data.Length)
            {
                if (f.ReadByte() is var next && next < 0) return data; // exactly full
                if (used >= maxBytes) throw TooLarge(path, what, -1, maxBytes);
                Array.Resize(ref data, (int)Math.Min((long)data.Length * 2 + 1, maxBytes));
                data[used++] = (byte)next;
                continue;
            }
            int n = f.Read(data, used, data.Length - used);
            if (n == 0) return used == data.Length ? data : data[..used];
            used += n;
        }
    }

    /// <summary>The text of <paramref name="path"/>, decoded as <see cref="File.ReadAllText(string)"/> decodes it
    /// (UTF-8 unless a byte order mark says otherwise).</summary>
    /// <exception cref="HrmFormatException">The file is larger than <paramref name="maxBytes"/>.</exception>
    public static string ReadAllText(string path, string what, int maxBytes)
    {
        byte[] bytes = ReadAllBytes(path, what, maxBytes);
        using var reader = new StreamReader(new MemoryStream(bytes), Encoding.UTF8,
            detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }

    private static HrmFormatException TooLarge(string path, string what, long length, int maxBytes) =>
        new(path, "file", (length >= 0 ? $"{length:N0} bytes" : "larger than the cap") +
            $"; a {what} is at most {maxBytes:N0} bytes");
}
