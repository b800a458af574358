using System.Security.Cryptography;

namespace Hrm.Runtime.Formats;

/// <summary>
/// Writes a file atomically: the content goes to <c>path + ".tmp-&lt;random&gt;"</c> in the same directory, is
/// flushed to disk, and is renamed over <c>path</c> by <see cref="Commit"/>. Disposing without committing
/// deletes the temporary file, so a failed write never leaves a partial file behind.
/// </summary>
internal sealed class AtomicFileWriter : IDisposable
{
    private readonly string _path;
    private readonly string _tempPath;
    private bool _committed;

    /// <summary>Creates the temporary file next to <paramref name="path"/>. A path that is a directory, or whose
    /// directory does not exist, fails here, naming the path (not the temporary name), before anything is written.
    /// </summary>
    public AtomicFileWriter(string path)
    {
        _path = System.IO.Path.GetFullPath(path);
        if (Directory.Exists(_path)) throw new IOException($"{path}: is a directory; expected a file to write");
        string? dir = System.IO.Path.GetDirectoryName(_path);
        if (dir != null && !Directory.Exists(dir))
            throw new DirectoryNotFoundException($"{path}: cannot write it, the directory {dir} does not exist");
        _tempPath = _path + ".tmp-" + RandomNumberGenerator.GetHexString(16, lowercase: true);
        Stream = new FileStream(_tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
    }

    /// <summary>The temporary file's stream; write the whole content to it before <see cref="Commit"/>.</summary>
    public FileStream Stream { get; }

    /// <summary>Flushes the content to disk and renames the temporary file over the target path.</summary>
    public void Commit()
    {
        Stream.Flush(flushToDisk: true);
        Stream.Dispose();
        File.Move(_tempPath, _path, overwrite: true);
        _committed = true;
    }

    /// <summary>Closes the stream and, unless committed, deletes the temporary file.</summary>
    public void Dispose()
    {
        Stream.Dispose();
        if (_committed) return;
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
