namespace Hrm.Train.Training;

/// <summary>
/// The lock a trainer holds on its run directory (<see cref="FileName"/>, opened exclusively: an advisory
/// <c>flock</c> on Linux, released by the system when the process ends, however it ends), so that a second
/// <c>hrm train</c> into the same directory, or a second <c>--resume</c> of it, fails at once instead of both
/// writing checkpoints and metrics into it. The file stays (empty) once a run has started; a run refused before it
/// wrote anything removes the file if it made it, and the folders it made. .NET takes no lock where
/// <c>DOTNET_SYSTEM_IO_DISABLEFILELOCKING</c> is set, or where the file system refuses <c>flock</c>.
/// </summary>
internal sealed class RunLock : IDisposable
{
    /// <summary>The lock file's name in the run directory.</summary>
    public const string FileName = ".hrm-train.lock";

    // The HResult of a file another open holds: on Windows ERROR_SHARING_VIOLATION, elsewhere flock's EWOULDBLOCK
    // (11 on Linux, 35 on macOS) as .NET passes it on.
    private static readonly int Locked = OperatingSystem.IsWindows() ? unchecked((int)0x80070020)
        : OperatingSystem.IsMacOS() ? 35 : 11;

    private readonly FileStream? _file; // null: no directory to lock (a resume of a missing one fails on its own)
    private readonly string _path;
    private readonly bool _madeFile;
    private readonly List<string> _made; // the folders Acquire made, the run directory first

    private RunLock(FileStream? file, string path, bool madeFile, List<string> made)
    {
        _file = file;
        _path = path;
        _madeFile = madeFile;
        _made = made;
    }

    /// <summary>Locks <paramref name="runDir"/>; with <paramref name="create"/>, a missing one is made first (and
    /// the folders above it that are missing), else it is left unlocked.</summary>
    /// <param name="runDir">The run directory.</param>
    /// <param name="create">Whether to make a missing directory (a new run) or leave it (a resume).</param>
    /// <param name="holder">Who holds the lock, for the message another process gets ("hrm train").</param>
    /// <exception cref="IOException">Another process holds the lock.</exception>
    public static RunLock Acquire(string runDir, bool create, string holder = "hrm train")
    {
        if (File.Exists(runDir)) throw new IOException($"{runDir}: is a file; a run directory is expected there");
        string path = Path.Combine(runDir, FileName);
        var made = new List<string>();
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(runDir));
        for (string? d = full; create && d != null && !Path.Exists(d); d = Path.GetDirectoryName(d)) made.Add(d);
        if (!create && !Directory.Exists(runDir)) return new RunLock(null, path, false, made);
        Directory.CreateDirectory(runDir);
        bool madeFile = !File.Exists(path);
        try
        {
            var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            return new RunLock(file, path, madeFile, made);
        }
        catch (IOException e) when (e.HResult == Locked)
        {
            throw new IOException($"{runDir}: another {holder} is running in it (it holds {path}); wait for it to " +
                "end, or give another directory", e);
        }
    }

    /// <summary>Releases the lock of a run refused before it wrote anything: the lock file goes if this made it
    /// (deleted while still held, so no other process can take it in between), and so do the folders this made,
    /// where empty.</summary>
    public void Abandon()
    {
        try
        {
            if (_file != null && _madeFile) File.Delete(_path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // left: an empty lock file blocks nothing
        }
        finally
        {
            _file?.Dispose();
        }
        try
        {
            foreach (string dir in _made)
            {
                if (Directory.EnumerateFileSystemEntries(dir).Any()) return;
                Directory.Delete(dir);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // left as it is: an empty folder blocks nothing
        }
    }

    public void Dispose() => _file?.Dispose();
}
