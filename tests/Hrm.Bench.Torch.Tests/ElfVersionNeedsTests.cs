using System.Runtime.InteropServices;
using Hrm.Bench.Torch.Build;

namespace Hrm.Bench.Torch.Tests;

/// <summary>The build step that lets TorchSharp's glue load with Debian 12's libstdc++ (GLIBCXX_3.4.30).</summary>
public class ElfVersionNeedsTests
{
    private static string Glue()
    {
        bool linuxX64 = RuntimeInformation.IsOSPlatform(OSPlatform.Linux) &&
                        RuntimeInformation.ProcessArchitecture == Architecture.X64;
        Assert.SkipUnless(linuxX64, "libLibTorchSharp.so is only referenced for linux-x64");
        // Not a skip: the build must have copied the glue next to TorchSharp.dll.
        return TorchNative.GluePath()
            ?? throw new InvalidOperationException("libLibTorchSharp.so is missing from the test output");
    }

    [Fact]
    public void Glue_in_the_build_output_requires_GLIBCXX_3_4_32_only_weakly()
    {
        List<ElfVersionNeed> needs = ElfVersionNeeds.Read(Glue());
        ElfVersionNeed need = Assert.Single(needs, n => n.Version == TorchNative.WeakenedVersion);
        Assert.Equal("libstdc++.so.6", need.File);
        Assert.True(need.IsWeak, $"{need} is not weak: the HrmMarkLibTorchSharpVersionWeak build target did not run");
        Assert.All(needs.Where(n => n.Version != TorchNative.WeakenedVersion), n => Assert.False(n.IsWeak, n.ToString()));
    }

    [Fact]
    public void MarkWeak_sets_only_that_flag_and_is_idempotent()
    {
        byte[] patched = File.ReadAllBytes(Glue());
        ElfVersionNeed need = ElfVersionNeeds.Read(patched, "glue").Single(n => n.Version == TorchNative.WeakenedVersion);
        byte[] original = (byte[])patched.Clone();
        original[need.FlagsOffset] &= unchecked((byte)~ElfVersionNeed.Weak); // the file as shipped in the package
        string path = Path.Combine(Path.GetTempPath(), $"hrm-elf-{Guid.NewGuid():N}.so");
        try
        {
            File.WriteAllBytes(path, original);
            Assert.False(ElfVersionNeeds.Read(path).Single(n => n.Version == TorchNative.WeakenedVersion).IsWeak);
            Assert.Equal(1, ElfVersionNeeds.MarkWeak(path, TorchNative.WeakenedVersion));
            Assert.Equal(patched, File.ReadAllBytes(path));
            Assert.Equal(0, ElfVersionNeeds.MarkWeak(path, TorchNative.WeakenedVersion));
            Assert.Equal(0, ElfVersionNeeds.MarkWeak(path, "GLIBCXX_99.0"));
            Assert.Equal(patched, File.ReadAllBytes(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Read_rejects_files_that_are_not_ELF64_little_endian()
    {
        Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.Read(new byte[100], "zeros"));
        byte[] truncated = File.ReadAllBytes(Glue())[..4096];
        Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.Read(truncated, "truncated"));
    }
}
