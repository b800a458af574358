using Hrm.Runtime.Backends.Cuda;
using Hrm.Runtime.Tests.Formats;

namespace Hrm.Runtime.Tests.Cuda;

/// <summary>The kernel disk cache: hits skip NVRTC, damaged entries are rebuilt, keys see every input.</summary>
public sealed class KernelCacheTests
{
    private static CompiledKernel CompileScale(KernelCompiler compiler, IReadOnlyList<string>? extra = null) =>
        compiler.Compile("scale.cu", TestKernels.Scale, [TestKernels.MiniHeader], KernelTarget.Cubin(80), extra);

    [Fact]
    public void Second_compile_is_served_from_the_cache_without_nvrtc()
    {
        using var dir = new TempDir();
        KernelCompiler compiler = TestKernels.HostCompilerOrSkip(new KernelCache(dir.Path));
        CompiledKernel first = CompileScale(compiler);
        CompiledKernel second = CompileScale(compiler);
        Assert.False(first.FromCache);
        Assert.True(second.FromCache);
        Assert.Equal(1, compiler.NvrtcCompileCount);
        Assert.Equal(first.Image, second.Image);
        Assert.Equal(first.Log, second.Log);
        Assert.Equal(first.Resources, second.Resources);
        Assert.Single(dir.Entries());
        Assert.EndsWith(".hrmk", dir.Entries()[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("flip")]
    [InlineData("truncate")]
    [InlineData("empty")]
    public void Damaged_entry_is_ignored_and_rebuilt(string damage)
    {
        using var dir = new TempDir();
        KernelCompiler compiler = TestKernels.HostCompilerOrSkip(new KernelCache(dir.Path));
        CompiledKernel first = CompileScale(compiler);
        string path = Path.Combine(dir.Path, dir.Entries()[0]);
        byte[] original = File.ReadAllBytes(path);
        byte[] bytes = (byte[])original.Clone();
        switch (damage)
        {
            case "garbage": File.WriteAllBytes(path, TempDir.Pattern(bytes.Length)); break;
            case "flip": bytes[bytes.Length / 2] ^= 0x40; File.WriteAllBytes(path, bytes); break;
            case "truncate": File.WriteAllBytes(path, bytes[..(bytes.Length - 7)]); break;
            default: File.WriteAllBytes(path, []); break;
        }
        CompiledKernel rebuilt = CompileScale(compiler);
        Assert.False(rebuilt.FromCache);
        Assert.Equal(2, compiler.NvrtcCompileCount);
        Assert.Equal(first.Image, rebuilt.Image);
        Assert.True(CompileScale(compiler).FromCache);
        Assert.Equal(original, File.ReadAllBytes(path));
    }

    [Fact]
    public void Different_options_compile_again()
    {
        using var dir = new TempDir();
        KernelCompiler compiler = TestKernels.HostCompilerOrSkip(new KernelCache(dir.Path));
        CompileScale(compiler);
        Assert.False(CompileScale(compiler, ["-lineinfo"]).FromCache);
        Assert.Equal(2, dir.Entries().Length);
    }

    [Fact]
    public void Key_depends_on_every_input()
    {
        KeyValuePair<string, string>[] headers = [KeyValuePair.Create("a.cuh", "x")];
        string Key(string version = "11.8", int arch = 80, string opt = "-lineinfo", string name = "k.cu",
            string src = "s", KeyValuePair<string, string>[]? h = null) =>
            KernelCache.Key(version, KernelTarget.Cubin(arch), [opt], name, src, h ?? headers);
        string baseline = Key();
        Assert.Equal(baseline, Key());
        Assert.Equal(64, baseline.Length);
        Assert.NotEqual(baseline, Key(version: "12.4"));
        Assert.NotEqual(baseline, Key(arch: 90));
        Assert.NotEqual(baseline, Key(opt: "-DX=1"));
        Assert.NotEqual(baseline, Key(name: "j.cu"));
        Assert.NotEqual(baseline, Key(src: "t"));
        Assert.NotEqual(baseline, Key(h: [KeyValuePair.Create("a.cuh", "y")]));
        Assert.NotEqual(baseline, Key(h: [KeyValuePair.Create("b.cuh", "x")]));
        Assert.NotEqual(Key(name: "ab", src: "c"), Key(name: "a", src: "bc"));
    }

    [Fact]
    public void Missing_or_unwritable_cache_never_fails_a_read()
    {
        using var dir = new TempDir();
        var cache = new KernelCache(Path.Combine(dir.Path, "not", "yet"));
        Assert.False(cache.TryRead(new string('0', 64), out byte[] image, out string log));
        Assert.Empty(image);
        Assert.Equal("", log);
        Assert.True(cache.TryWrite("k", [1, 2, 3], "log"));
        Assert.True(cache.TryRead("k", out image, out log));
        Assert.Equal([1, 2, 3], image);
        Assert.Equal("log", log);
    }
}
