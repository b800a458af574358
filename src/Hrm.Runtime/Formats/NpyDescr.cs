namespace Hrm.Runtime.Formats;

/// <summary>The numpy dtype strings this runtime reads and writes.</summary>
internal static class NpyDescr
{
    /// <summary>The supported dtype strings, for error messages.</summary>
    public const string Supported = "'|u1', '<u1', '|i1', '<i4', '<i8', '<f4', '<f8'";

    /// <summary>Whether <paramref name="descr"/> is one of <see cref="Supported"/>.</summary>
    public static bool IsSupported(string descr) =>
        descr is "|u1" or "<u1" or "|i1" or "<i4" or "<i8" or "<f4" or "<f8";

    /// <summary>Bytes per element of a supported dtype string.</summary>
    public static int ItemSize(string descr) => descr.Length == 3 ? descr[2] - '0' : 0;

    /// <summary>The dtype without its byte-order character: "u1", "i1", "i4", "i8", "f4" or "f8".</summary>
    public static string Kind(string descr) => descr.Length == 3 ? descr[1..] : descr;

    /// <summary>Throws unless <paramref name="descr"/> is supported, explaining why not.</summary>
    public static void Validate(string path, string descr)
    {
        if (IsSupported(descr)) return;
        if (descr.StartsWith('>') || descr.StartsWith('!'))
        {
            throw new HrmFormatException(path, "descr",
                $"'{descr}' is big-endian, which is unsupported; re-save the array little-endian " +
                $"(e.g. arr.astype('<{descr[1..]}')); supported: {Supported}");
        }
        throw new HrmFormatException(path, "descr", $"unsupported dtype '{descr}'; supported: {Supported}");
    }
}
