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

    /// <summary>Creates the temporary file next to <paramref name="path"/>.</summary>
    public AtomicFileWriter(string path)
    {
        _path = System.IO.Path.GetFullPath(path);
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
