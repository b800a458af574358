using Hrm.Runtime.Formats;

namespace Hrm.Runtime.Tests.Formats;

/// <summary>Where an atomic write puts its bytes: the target of a link, a long name, a failed write.</summary>
public sealed class AtomicFileWriterTests
{
    private static void Write(string path, string text)
    {
        using var w = new AtomicFileWriter(path);
        w.Stream.Write(System.Text.Encoding.UTF8.GetBytes(text));
        w.Commit();
    }

    /// <summary>A link is followed: its target gets the new bytes and the link stays a link (renaming over the link
    /// used to replace it with a plain file and leave the target stale).</summary>
    [Fact]
    public void A_symbolic_link_is_written_through_and_kept()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("real.txt"), "old");
        Directory.CreateDirectory(dir.File("sub"));
        try
        {
            File.CreateSymbolicLink(dir.File("link.txt"), dir.File("real.txt"));
            File.CreateSymbolicLink(dir.File("sub/rel.txt"), "../link.txt"); // relative, and a chain of two
            File.CreateSymbolicLink(dir.File("dangling.txt"), "new.txt");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Assert.Skip($"symbolic links cannot be made here: {e.Message}");
        }
        Write(dir.File("link.txt"), "new");
        Assert.Equal("new", File.ReadAllText(dir.File("real.txt")));
        Assert.NotNull(new FileInfo(dir.File("link.txt")).LinkTarget);
        Write(dir.File("sub/rel.txt"), "newer");
        Assert.Equal("newer", File.ReadAllText(dir.File("real.txt")));
        Write(dir.File("dangling.txt"), "made"); // a dangling link's target is made
        Assert.Equal("made", File.ReadAllText(dir.File("new.txt")));
        Assert.Equal(["dangling.txt", "link.txt", "new.txt", "real.txt", "sub"], dir.Entries());
        Assert.Equal(["rel.txt"], Directory.GetFileSystemEntries(dir.File("sub")).Select(Path.GetFileName));
    }

    /// <summary>The temporary name is short and fixed in length, so a file name near the 255-byte limit can be
    /// written (the target's name plus a suffix went over it); nothing is left behind.</summary>
    [Fact]
    public void A_long_file_name_can_be_written()
    {
        using var dir = new TempDir();
        string name = new string('a', 250) + ".st";
        Write(dir.File(name), "x");
        Assert.Equal("x", File.ReadAllText(dir.File(name)));
        Assert.Equal([name], dir.Entries());
    }

    [Fact]
    public void A_write_that_is_not_committed_leaves_nothing_and_bad_paths_are_named()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("keep.txt"), "old");
        using (var w = new AtomicFileWriter(dir.File("keep.txt")))
            w.Stream.WriteByte(1);
        Assert.Equal("old", File.ReadAllText(dir.File("keep.txt")));
        Assert.Equal(["keep.txt"], dir.Entries());
        Directory.CreateDirectory(dir.File("sub"));
        Assert.Contains("sub: is a directory", Assert.Throws<IOException>(() => Write(dir.File("sub"), "x")).Message,
            StringComparison.Ordinal);
        var e = Assert.Throws<DirectoryNotFoundException>(() => Write(dir.File("none/x.txt"), "x"));
        Assert.Contains($"cannot write it, the directory {dir.File("none")} does not exist", e.Message,
            StringComparison.Ordinal);
    }
}
