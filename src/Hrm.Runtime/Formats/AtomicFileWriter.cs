using System.Security.Cryptography;

namespace Hrm.Runtime.Formats;

/// <summary>
/// Writes a file atomically: the content goes to a temporary file <c>.hrm-&lt;random&gt;.tmp</c> in the target's
/// directory (a short name, so that a long file name still has room), is flushed to disk, and is renamed over the
/// target by <see cref="Commit"/>. Disposing without committing deletes the temporary file, so a failed write never
/// leaves a partial file behind. A symbolic link is followed (its target is replaced, the link kept). Devices are
/// written in place, since renaming over one would replace it with a plain file (and a failed write may leave part of
/// the content there): standard output and error (<c>/dev/stdout</c>, <c>/proc/self/fd/1</c>, ...) through this
/// process's own streams, so that a pipe or a redirected file gets the bytes in order, and any other existing path
/// under <c>/dev/</c> or <c>/proc/self/fd/</c> (not <c>/dev/shm/</c>, whose files are ordinary) appended to.
/// </summary>
internal sealed class AtomicFileWriter : IDisposable
{
    private readonly string _path;
    private readonly string? _tempPath; // null: a device, written in place
    private readonly bool _standard;    // this process's standard output or error: flushed, never closed
    private bool _committed;

    /// <summary>Creates the temporary file in the directory of <paramref name="path"/> (of its target, for a link).
    /// A path that is a directory, or whose directory does not exist, fails here, naming the path (not the temporary
    /// name), before anything is written.</summary>
    public AtomicFileWriter(string path)
    {
        _path = System.IO.Path.GetFullPath(path);
        if (OpenDevice(_path) is { } device)
        {
            (Stream, _standard) = device;
            return;
        }
        if (new FileInfo(_path).LinkTarget != null && File.ResolveLinkTarget(_path, true) is { } target)
            _path = target.FullName;
        if (Directory.Exists(_path)) throw new IOException($"{path}: is a directory; expected a file to write");
        string? dir = System.IO.Path.GetDirectoryName(_path);
        if (dir != null && !Directory.Exists(dir))
            throw new DirectoryNotFoundException($"{path}: cannot write it, the directory {dir} does not exist");
        _tempPath = System.IO.Path.Combine(dir ?? ".", ".hrm-" + RandomNumberGenerator.GetHexString(16, true) + ".tmp");
        try
        {
            Stream = new FileStream(_tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{path}: cannot write its temporary file in {dir} ({e.Message})", e);
        }
    }

    /// <summary>A device to write in place, as given (the kernel follows its links), or null for a file.</summary>
    private static (Stream, bool)? OpenDevice(string full)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD()) return null;
        if (full is "/dev/stdout" or "/dev/fd/1" or "/proc/self/fd/1") return (Console.OpenStandardOutput(), true);
        if (full is "/dev/stderr" or "/dev/fd/2" or "/proc/self/fd/2") return (Console.OpenStandardError(), true);
        bool device = (full.StartsWith("/dev/", StringComparison.Ordinal) &&
                       !full.StartsWith("/dev/shm/", StringComparison.Ordinal) &&
                       !full.StartsWith("/dev/mqueue/", StringComparison.Ordinal)) ||
                      full.StartsWith("/proc/self/fd/", StringComparison.Ordinal);
        return device && File.Exists(full)
            ? (new FileStream(full, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, 1 << 16), false)
            : null;
    }

    /// <summary>The temporary file's stream (or the device's); write the whole content to it before
    /// <see cref="Commit"/>.</summary>
    public Stream Stream { get; }

    /// <summary>Flushes the content to disk and renames the temporary file over the target path.</summary>
    public void Commit()
    {
        if (Stream is FileStream f) f.Flush(flushToDisk: _tempPath != null);
        else Stream.Flush();
        if (!_standard) Stream.Dispose();
        if (_tempPath != null) File.Move(_tempPath, _path, overwrite: true);
        _committed = true;
    }

    /// <summary>Closes the stream and, unless committed, deletes the temporary file.</summary>
    public void Dispose()
    {
        if (_standard) Stream.Flush();
        else Stream.Dispose();
        if (_committed || _tempPath == null) return;
        try
        {
            File.Delete(_tempPath);
        }
        catch (IOException)
        {
            // Best effort: the original exception is the one worth reporting.
        }
        catch (UnauthorizedAccessException)
        {
            // Best effort, as above.
        }
    }
}
