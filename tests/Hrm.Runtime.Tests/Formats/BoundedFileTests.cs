using System.Text;
using Hrm.Runtime.Config;
using Hrm.Runtime.Formats;

namespace Hrm.Runtime.Tests.Formats;

/// <summary><see cref="BoundedFile"/>: whole-file reads that refuse a file past a cap, naming it.</summary>
public sealed class BoundedFileTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(1000)]
    [InlineData(70_000)]
    public void Files_up_to_the_cap_read_whole(int length)
    {
        using var dir = new TempDir();
        byte[] bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        string path = dir.Write("f.bin", bytes);
        Assert.Equal(bytes, BoundedFile.ReadAllBytes(path, "test file", 70_000));
        if (length > 0)
        {
            var e = Assert.Throws<HrmFormatException>(() => BoundedFile.ReadAllBytes(path, "test file", length - 1));
            Assert.Equal($"{path}: file: {length:N0} bytes; a test file is at most {length - 1:N0} bytes", e.Message);
        }
    }

    [Fact]
    public void Text_is_decoded_as_File_ReadAllText_decodes_it()
    {
        using var dir = new TempDir();
        string text = "{\"a\": \"é€\"}\r\n";
        foreach (Encoding enc in (Encoding[])[new UTF8Encoding(false), new UTF8Encoding(true), Encoding.Unicode])
        {
            string path = dir.Write("t.json", [.. enc.GetPreamble(), .. enc.GetBytes(text)]);
            Assert.Equal(File.ReadAllText(path), BoundedFile.ReadAllText(path, "test file", 1000));
            Assert.Equal(text, BoundedFile.ReadAllText(path, "test file", 1000));
        }
    }

    [Fact]
    public async Task A_pipe_is_read_in_blocks_up_to_the_cap()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "opens a pipe through /proc/self/fd (Linux)");
        byte[] bytes = new byte[200_000];
        new Random(3).NextBytes(bytes);
        foreach ((int cap, bool whole) in ((int, bool)[])[(300_000, true), (200_000, true), (150_000, false)])
        {
            using var pipe = new System.IO.Pipes.AnonymousPipeServerStream(System.IO.Pipes.PipeDirection.Out);
            string path = $"/proc/self/fd/{pipe.GetClientHandleAsString()}";
            Task writer = Task.Run(() =>
            {
                try
                {
                    pipe.Write(bytes);
                }
                catch (IOException)
                {
                    // the reader stopped at its cap and closed its end
                }
                finally
                {
                    pipe.Dispose();
                }
            }, TestContext.Current.CancellationToken);
            if (whole)
            {
                Assert.Equal(bytes, BoundedFile.ReadAllBytes(path, "test file", cap));
            }
            else
            {
                var e = Assert.Throws<HrmFormatException>(() => BoundedFile.ReadAllBytes(path, "test file", cap));
                Assert.EndsWith("file: larger than the cap; a test file is at most 150,000 bytes", e.Message,
                    StringComparison.Ordinal);
            }
            pipe.DisposeLocalCopyOfClientHandle();
            await writer.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public void A_file_without_a_length_is_read_up_to_the_cap()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "reads /proc (Linux)");
        // /proc files say 0 bytes and have content: read in growing blocks.
        string status = BoundedFile.ReadAllText("/proc/self/status", "test file", 1 << 20);
        Assert.StartsWith("Name:", status, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllText("/proc/self/cmdline"),
            BoundedFile.ReadAllText("/proc/self/cmdline", "x", 1 << 20));
        var e = Assert.Throws<HrmFormatException>(() => BoundedFile.ReadAllBytes("/proc/self/status", "test file", 10));
        Assert.Equal("/proc/self/status: file: larger than the cap; a test file is at most 10 bytes", e.Message);
    }

    [Fact]
    public void A_config_file_past_16_MiB_is_a_config_error()
    {
        using var dir = new TempDir();
        string path = dir.File("c.json");
        using (var f = File.Create(path)) f.SetLength(BoundedFile.MaxJsonBytes + 1L);
        var e = Assert.Throws<HrmConfigException>(() => HrmConfigFile.Load(path));
        Assert.Equal($"{path}: file: 16,777,217 bytes; a config file is at most 16,777,216 bytes", e.Message);
    }
}
