using System.Security.Cryptography;

namespace Hrm.Runtime.Formats;

/// <summary>
/// Writes a file atomically: the content goes to a temporary file <c>.hrm-&lt;random&gt;.tmp</c> in the same
/// directory (a short name, so that a long file name still has room), is flushed to disk, and is renamed over the
/// path by <see cref="Commit"/>. Disposing without committing deletes the temporary file, so a failed write never
/// leaves a partial file behind. A symbolic link is followed (its target is replaced, the link kept), and a device
/// (a path under /dev/, such as /dev/null or /dev/stdout) is written in place: renaming over it would replace the
/// device with a plain file.
/// </summary>
internal sealed class AtomicFileWriter : IDisposable
{
    private readonly string _path;
    private readonly string? _tempPath; // null: a device, written in place
    private bool _committed;

    /// <summary>Creates the temporary file next to <paramref name="path"/>. A path that is a directory, or whose
    /// directory does not exist, fails here, naming the path (not the temporary name), before anything is written.
    /// </summary>
    public AtomicFileWriter(string path)
    {
        _path = System.IO.Path.GetFullPath(path);
        if (new FileInfo(_path).LinkTarget != null && File.ResolveLinkTarget(_path, true) is { } target)
            _path = target.FullName;
        if (Directory.Exists(_path)) throw new IOException($"{path}: is a directory; expected a file to write");
        string? dir = System.IO.Path.GetDirectoryName(_path);
        if (dir != null && !Directory.Exists(dir))
            throw new DirectoryNotFoundException($"{path}: cannot write it, the directory {dir} does not exist");
        if (_path.StartsWith("/dev/", StringComparison.Ordinal) && File.Exists(_path))
        {
            _tempPath = null;
            Stream = new FileStream(_path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1 << 16);
            return;
        }
        _tempPath = System.IO.Path.Combine(dir ?? ".", ".hrm-" + RandomNumberGenerator.GetHexString(16, true) + ".tmp");
        Stream = new FileStream(_tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
    }

    /// <summary>The temporary file's stream; write the whole content to it before <see cref="Commit"/>.</summary>
    public FileStream Stream { get; }

    /// <summary>Flushes the content to disk and renames the temporary file over the target path.</summary>
    public void Commit()
    {
        Stream.Flush(flushToDisk: _tempPath != null);
        Stream.Dispose();
        if (_tempPath != null) File.Move(_tempPath, _path, overwrite: true);
        _committed = true;
    }

    /// <summary>Closes the stream and, unless committed, deletes the temporary file.</summary>
    public void Dispose()
    {
        Stream.Dispose();
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
