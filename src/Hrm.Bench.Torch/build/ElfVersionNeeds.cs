// Compiled twice: into Hrm.Bench.Torch (HRM_TWIN_LIBRARY defined: the reader/patcher only, for the tests and
// the load-failure message), and by MSBuild's RoslynCodeTaskFactory as the build task MarkElfVersionWeak
// (see Hrm.Bench.Torch.targets), which targets netstandard2.0: no records, no newer BCL overloads.
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
#if !HRM_TWIN_LIBRARY
using Microsoft.Build.Framework;
#endif

namespace Hrm.Bench.Torch.Build;

/// <summary>One version requirement (Vernaux) of an ELF shared object: the library, the version, its flags.</summary>
internal readonly struct ElfVersionNeed
{
    /// <summary>VER_FLG_WEAK: the dynamic loader tolerates the version being absent.</summary>
    public const ushort Weak = 0x2;

    public ElfVersionNeed(string file, string version, ushort flags, long flagsOffset)
    {
        File = file;
        Version = version;
        Flags = flags;
        FlagsOffset = flagsOffset;
    }

    /// <summary>The library that must provide the version (vn_file), e.g. libstdc++.so.6.</summary>
    public string File { get; }

    /// <summary>The version name (vna_name), e.g. GLIBCXX_3.4.32.</summary>
    public string Version { get; }

    /// <summary>vna_flags.</summary>
    public ushort Flags { get; }

    /// <summary>File offset of vna_flags.</summary>
    public long FlagsOffset { get; }

    public bool IsWeak => (Flags & Weak) != 0;

    public override string ToString() => $"{File} {Version}{(IsWeak ? " (weak)" : "")}";
}

/// <summary>
/// Reads and edits the version-needs table (<c>.gnu.version_r</c>, SHT_GNU_verneed) of a 64-bit little-endian
/// ELF file. Every offset and count is checked against the file size before it is used.
/// </summary>
internal static class ElfVersionNeeds
{
    private const uint ShtGnuVerneed = 0x6ffffffe;

    /// <summary>Every Vernaux entry of <paramref name="image"/> (an ELF64 LE file's bytes).</summary>
    public static List<ElfVersionNeed> Read(byte[] image, string what)
    {
        void Check(bool ok, string message)
        {
            if (!ok) throw new InvalidDataException($"{what}: {message}");
        }
        Check(image.Length >= 64 && image[0] == 0x7f && image[1] == (byte)'E' && image[2] == (byte)'L' && image[3] == (byte)'F',
            "not an ELF file");
        Check(image[4] == 2 && image[5] == 1, "not a 64-bit little-endian ELF file");
        long shoff = (long)U64(image, 0x28);
        int shentsize = U16(image, 0x3A), shnum = U16(image, 0x3C);
        Check(shentsize >= 64 && shoff > 0 && shoff + (long)shentsize * shnum <= image.Length,
            $"section header table ({shnum} x {shentsize} bytes at {shoff}) lies outside the file ({image.Length} bytes)");
        var result = new List<ElfVersionNeed>();
        for (int s = 0; s < shnum; s++)
        {
            long sh = shoff + (long)s * shentsize;
            if (U32(image, sh + 4) != ShtGnuVerneed) continue;
            long off = (long)U64(image, sh + 0x18), size = (long)U64(image, sh + 0x20);
            int link = (int)U32(image, sh + 0x28), count = (int)U32(image, sh + 0x2C);
            Check(off >= 0 && off + size <= image.Length, "version-needs section lies outside the file");
            Check(link < shnum, $"version-needs section links to string table {link} of {shnum} sections");
            long str = (long)U64(image, shoff + (long)link * shentsize + 0x18);
            long strSize = (long)U64(image, shoff + (long)link * shentsize + 0x20);
            Check(str >= 0 && str + strSize <= image.Length, "string table lies outside the file");
            long need = off;
            for (int n = 0; n < count; n++)
            {
                Check(need + 16 <= off + size, $"version-needs entry {n} lies outside its section");
                int auxCount = U16(image, need + 2);
                string file = Str(image, str, strSize, U32(image, need + 4), what);
                long aux = need + U32(image, need + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    Check(aux >= off && aux + 16 <= off + size, $"version entry {a} of '{file}' lies outside its section");
                    ushort flags = U16(image, aux + 4);
                    string version = Str(image, str, strSize, U32(image, aux + 8), what);
                    result.Add(new ElfVersionNeed(file, version, flags, aux + 4));
                    uint nextAux = U32(image, aux + 12);
                    if (nextAux == 0) break;
                    aux += nextAux;
                }
                uint next = U32(image, need + 12);
                if (next == 0) break;
                need += next;
            }
        }
        return result;
    }

    /// <summary>Every Vernaux entry of the ELF file at <paramref name="path"/>.</summary>
    public static List<ElfVersionNeed> Read(string path) => Read(File.ReadAllBytes(path), path);

    /// <summary>
    /// Sets VER_FLG_WEAK on every requirement of <paramref name="version"/> in the file at <paramref name="path"/>
    /// and returns how many entries changed (0: absent or already weak; the file is then left untouched). The new
    /// bytes go to a temporary file that replaces the original, so a hard link to a package cache is never edited.
    /// </summary>
    public static int MarkWeak(string path, string version)
    {
        byte[] image = File.ReadAllBytes(path);
        int changed = 0;
        foreach (ElfVersionNeed need in Read(image, path))
        {
            if (need.Version != version || need.IsWeak) continue;
            ushort flags = (ushort)(need.Flags | ElfVersionNeed.Weak);
            image[need.FlagsOffset] = (byte)flags;
            image[need.FlagsOffset + 1] = (byte)(flags >> 8);
            changed++;
        }
        if (changed == 0) return 0;
        // A new file, renamed over the old one: the old inode (maybe a hard link into the package cache) is untouched.
        string tmp = path + ".weak-tmp";
        File.WriteAllBytes(tmp, image);
        File.Delete(path);
        File.Move(tmp, path);
        return changed;
    }

    private static ushort U16(byte[] b, long at) => (ushort)(b[at] | b[at + 1] << 8);

    private static uint U32(byte[] b, long at) => (uint)(U16(b, at) | U16(b, at + 2) << 16);

    private static ulong U64(byte[] b, long at) => U32(b, at) | (ulong)U32(b, at + 4) << 32;

    private static string Str(byte[] b, long table, long size, uint index, string what)
    {
        if (index >= size) throw new InvalidDataException($"{what}: string index {index} outside the string table");
        long end = table + index;
        while (end < table + size && b[end] != 0) end++;
        return Encoding.ASCII.GetString(b, (int)(table + index), (int)(end - table - index));
    }
}

#if !HRM_TWIN_LIBRARY
/// <summary>MSBuild task: marks <see cref="Version"/> weak in each of <see cref="Files"/> that requires it.</summary>
public sealed class MarkElfVersionWeak : Microsoft.Build.Utilities.Task
{
    [Required]
    public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

    [Required]
    public string Version { get; set; } = "";

    public override bool Execute()
    {
        foreach (ITaskItem item in Files)
        {
            string path = item.GetMetadata("FullPath");
            try
            {
                int n = ElfVersionNeeds.MarkWeak(path, Version);
                Log.LogMessage(MessageImportance.Low, n > 0
                    ? $"Marked {Version} weak (VER_FLG_WEAK) in {path}"
                    : $"{path}: no non-weak requirement of {Version}; left as is");
            }
            catch (Exception e) when (e is IOException || e is InvalidDataException || e is UnauthorizedAccessException)
            {
                Log.LogError($"Could not mark {Version} weak in {path}: {e.Message}");
            }
        }
        return !Log.HasLoggedErrors;
    }
}
#endif
