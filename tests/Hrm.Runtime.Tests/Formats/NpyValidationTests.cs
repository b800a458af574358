using System.Buffers.Binary;
using Hrm.Runtime.Formats;

namespace Hrm.Runtime.Tests.Formats;

public sealed class NpyValidationTests
{
    private const string I4x3 = "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }";

    private static HrmFormatException Fails(byte[] blob, string field, params string[] fragments)
    {
        using var dir = new TempDir();
        string path = dir.Write("bad.npy", blob);
        var e = Assert.Throws<HrmFormatException>(() => Npy.Read(path));
        var fromHeader = Assert.Throws<HrmFormatException>(() => Npy.ReadHeader(path));
        Assert.Equal(e.Message, fromHeader.Message);
        Assert.Equal(path, e.Path);
        Assert.Equal(field, e.Field);
        Assert.StartsWith($"{path}: {field}: ", e.Message, StringComparison.Ordinal);
        foreach (string s in fragments) Assert.Contains(s, e.Message, StringComparison.Ordinal);
        return e;
    }

    private static byte[] Dict(string dict, int dataBytes) => NpyTests.Crafted(dict, TempDir.Pattern(dataBytes));

    [Fact]
    public void Truncated_data() => Fails(Dict(I4x3, 10), "data", "truncated", "needs 12 bytes", "found 10");

    [Fact]
    public void Extra_data() => Fails(Dict(I4x3, 13), "data", "1 extra bytes", "needs 12 bytes");

    [Fact]
    public void Bad_magic()
    {
        byte[] blob = Dict(I4x3, 12);
        blob[0] = (byte)'P';
        Fails(blob, "magic", "\\x93NUMPY", "504E554D5059");
    }

    [Fact]
    public void File_too_short_for_the_magic() => Fails([0x93, (byte)'N', (byte)'U'], "magic", "3 bytes");

    [Fact]
    public void Unsupported_version()
    {
        byte[] blob = Dict(I4x3, 12);
        blob[6] = 4;
        Fails(blob, "version", "4.0", "1.0, 2.0 or 3.0");
    }

    [Fact]
    public void Truncated_header()
    {
        byte[] blob = Dict(I4x3, 0)[..40];
        Fails(blob, "header", "118 bytes", "only 30", "truncated");
    }

    [Fact]
    public void Big_endian_is_rejected() =>
        Fails(Dict("{'descr': '>i4', 'fortran_order': False, 'shape': (3,), }", 12), "descr", "'>i4'", "big-endian");

    [Fact]
    public void Fortran_order_is_rejected() =>
        Fails(Dict("{'descr': '<i4', 'fortran_order': True, 'shape': (3,), }", 12), "fortran_order", "C-order");

    [Fact]
    public void Unsupported_dtype_lists_the_supported_ones() =>
        Fails(Dict("{'descr': '<c8', 'fortran_order': False, 'shape': (3,), }", 24), "descr", "'<c8'", "'<i4'",
            "'|u1'", "'<f8'");

    [Theory]
    [InlineData("{'descr': '<i4', 'fortran_order': False, 'shape': (3), }", "shape", "not a tuple")]
    [InlineData("{'descr': '<i4', 'fortran_order': False, 'shape': [3], }", "shape", "tuple")]
    [InlineData("{'descr': '<i4', 'fortran_order': False, 'shape': (-3,), }", "shape", "negative")]
    [InlineData("{'descr': '<i4', 'fortran_order': False, 'shape': (3.0,), }", "shape", "',' or ')'")]
    [InlineData("{'descr': '<i4', 'fortran_order': 0, 'shape': (3,), }", "fortran_order", "True or False")]
    [InlineData("{'descr': '<i4', 'shape': (3,), }", "fortran_order", "missing")]
    [InlineData("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), 'x': 1}", "header", "'x'")]
    [InlineData("{'descr': '<i4', 'descr': '<i4', 'fortran_order': False, 'shape': (3,)}", "descr", "twice")]
    [InlineData("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), } junk", "header", "after the dictionary")]
    [InlineData("{'descr': '<i4' 'fortran_order': False, 'shape': (3,), }", "header", "expected ','")]
    [InlineData("'descr': '<i4'", "header", "expected '{'")]
    [InlineData("{'descr: '<i4', 'fortran_order': False, 'shape': (3,)}", "header", "expected ':'")]
    public void Unparseable_headers(string dict, string field, string fragment) =>
        Fails(Dict(dict, 12), field, fragment);

    [Fact]
    public void Shape_byte_count_overflow() =>
        Fails(Dict("{'descr': '<i8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", 8), "shape",
            "64-bit");

    [Fact]
    public void Header_length_over_the_limit()
    {
        byte[] blob = Dict(I4x3, 12);
        blob[6] = 2;
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(8), uint.MaxValue);
        Fails(blob, "header", uint.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture), "limit");
    }
}
