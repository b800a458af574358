using Microsoft.Win32.SafeHandles;

namespace Hrm.Runtime.Formats;

/// <summary>Positional reads that turn a premature end of file into a <see cref="HrmFormatException"/>.</summary>
internal static class FileReads
{
    /// <summary>A directory where a file is expected is named as such (opening it would say "Access denied").</summary>
    public static void RefuseDirectory(string path, string expected)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path)) throw new HrmFormatException(path, "file", $"is a directory; expected {expected}");
    }

    /// <summary>Fills <paramref name="buffer"/> from <paramref name="offset"/> or throws naming the field.</summary>
    public static void ReadExactly(SafeFileHandle handle, Span<byte> buffer, long offset, string path, string field)
    {
        int done = 0;
        while (done < buffer.Length)
        {
            int n = RandomAccess.Read(handle, buffer[done..], offset + done);
            if (n == 0)
            {
                throw new HrmFormatException(path, field,
                    $"file ends at byte {offset + done}; expected {buffer.Length} bytes starting at byte {offset} " +
                    "(file truncated or modified while open?)");
            }
            done += n;
        }
    }
}
