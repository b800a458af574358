using System.Buffers.Binary;
using System.Text;
using Hrm.Runtime.Formats;

namespace Hrm.Runtime.Tests.Formats;

public sealed class NpyTests
{
    public static TheoryData<long[]> Shapes => new([5L], [3L, 4L], []);

    /// <summary>An .npy file as numpy writes it: magic, version, length, dict padded with spaces and '\n'.</summary>
    internal static byte[] Crafted(string dict, byte[] data, int major = 1, int align = 64)
    {
        int prefix = major == 1 ? 10 : 12;
        int total = prefix + dict.Length + 1;
        int padded = (total + align - 1) / align * align;
        byte[] blob = new byte[padded + data.Length];
        blob[0] = 0x93;
        Encoding.ASCII.GetBytes("NUMPY", blob.AsSpan(1));
        blob[6] = (byte)major;
        if (major == 1) BinaryPrimitives.WriteUInt16LittleEndian(blob.AsSpan(8), (ushort)(padded - prefix));
        else BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(8), (uint)(padded - prefix));
        Encoding.UTF8.GetBytes(dict, blob.AsSpan(prefix));
        blob.AsSpan(prefix + dict.Length, padded - total).Fill((byte)' ');
        blob[padded - 1] = (byte)'\n';
        data.CopyTo(blob, padded);
        return blob;
    }

    private static long Product(long[] shape) => shape.Aggregate(1L, (a, b) => a * b);

    [Theory]
    [MemberData(nameof(Shapes))]
    public void UInt8_round_trip(long[] shape)
    {
        using var dir = new TempDir();
        var rng = new Random(11);
        byte[] data = new byte[Product(shape)];
        rng.NextBytes(data);
        data[0] |= 1;
        string path = dir.File("u8.npy");
        Npy.WriteUInt8(path, data, shape);
        NpyArray a = Npy.Read(path);
        Assert.Equal("|u1", a.Descr);
        Assert.Equal(shape, a.Shape);
        Assert.Equal(data.Length, a.Count);
        Assert.Equal(data, a.ToBytes());
        Assert.Equal(data.Select(b => (int)b), a.ToInt32());
        Assert.Equal(0, a.Header.DataOffset % 64);
        Assert.Equal(["u8.npy"], dir.Entries());
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Int32_round_trip(long[] shape)
    {
        using var dir = new TempDir();
        var rng = new Random(12);
        int[] data = [.. Enumerable.Range(0, (int)Product(shape)).Select(_ => rng.Next(int.MinValue, int.MaxValue))];
        string path = dir.File("i4.npy");
        Npy.WriteInt32(path, data, shape);
        NpyArray a = Npy.Read(path);
        Assert.Equal("<i4", a.Descr);
        Assert.Equal(shape, a.Shape);
        Assert.Equal(data, a.ToInt32());
        Assert.Equal(a.Header.DataOffset + (4 * data.Length), new FileInfo(path).Length);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Float32_round_trip(long[] shape)
    {
        using var dir = new TempDir();
        var rng = new Random(13);
        float[] data = [.. Enumerable.Range(0, (int)Product(shape)).Select(_ => (float)(rng.NextDouble() - 0.5))];
        string path = dir.File("f4.npy");
        Npy.WriteFloat32(path, data, shape);
        NpyArray a = Npy.Read(path);
        Assert.Equal("<f4", a.Descr);
        Assert.Equal(shape, a.Shape);
        Assert.Equal(data, a.ToFloat32());
    }

    [Fact]
    public void Formats_shapes_like_python()
    {
        Assert.Equal("()", Npy.FormatShape([]));
        Assert.Equal("(3,)", Npy.FormatShape([3]));
        Assert.Equal("(2, 81)", Npy.FormatShape([2, 81]));
    }

    [Fact]
    public void Header_matches_numpy_save()
    {
        byte[] h = Npy.BuildHeader("<i4", [2, 3]);
        // numpy >= 1.24: dict, 21 - len("2") growth spaces, padding to 64, '\n'.
        Assert.Equal(128, h.Length);
        Assert.Equal([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0], h[..8]);
        Assert.Equal(118, BinaryPrimitives.ReadUInt16LittleEndian(h.AsSpan(8)));
        string text = Encoding.ASCII.GetString(h, 10, 118);
        Assert.Equal("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }" + new string(' ', 58) + "\n", text);
        Assert.Equal(128, Npy.BuildHeader("<f4", []).Length);
        Assert.EndsWith("'shape': (), }", Encoding.ASCII.GetString(Npy.BuildHeader("|u1", [])).TrimEnd(),
            StringComparison.Ordinal);
    }

    [Fact]
    public void Huge_headers_use_version_2()
    {
        long[] shape = [.. Enumerable.Repeat(1L, 25_000)];
        byte[] h = Npy.BuildHeader("|u1", shape);
        Assert.Equal(2, h[6]);
        Assert.Equal(0, h.Length % 64);
        Assert.Equal(h.Length - 12, (int)BinaryPrimitives.ReadUInt32LittleEndian(h.AsSpan(8)));
        using var dir = new TempDir();
        string path = dir.File("deep.npy");
        Npy.WriteUInt8(path, [42], shape);
        NpyArray a = Npy.Read(path);
        Assert.Equal(2, a.Header.MajorVersion);
        Assert.Equal(shape, a.Shape);
        Assert.Equal([42], a.ToBytes());
        Assert.Throws<ArgumentException>(() => Npy.BuildHeader(">i4", [1]));
    }

    [Fact]
    public void Reads_a_hand_crafted_version_1_file()
    {
        byte[] data = new byte[24];
        for (int i = 0; i < 6; i++) BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(4 * i), (i * 7) - 20);
        byte[] blob = Crafted("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", data);
        Assert.Equal(128, blob.Length - data.Length);
        using var dir = new TempDir();
        string path = dir.Write("crafted.npy", blob);

        NpyHeader h = Npy.ReadHeader(path);
        Assert.Equal((1, 0), (h.MajorVersion, h.MinorVersion));
        Assert.Equal("<i4", h.Descr);
        Assert.Equal([2L, 3L], h.Shape);
        Assert.Equal(128, h.DataOffset);
        Assert.Equal(6, h.Count);
        Assert.Equal(24, h.DataLength);

        NpyArray a = Npy.Read(path);
        Assert.Equal([-20, -13, -6, 1, 8, 15], a.ToInt32());
    }

    [Theory]
    [InlineData("{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }")]
    [InlineData("{'shape': (3,), 'fortran_order': False, 'descr': '<u1'}")]
    [InlineData("{\"descr\": \"|u1\", \"fortran_order\": False, \"shape\": (3, )}")]
    [InlineData("  {'descr':'|u1','fortran_order':False,'shape':(3,),}")]
    public void Header_dict_variants_parse(string dict)
    {
        using var dir = new TempDir();
        string path = dir.Write("v.npy", Crafted(dict, [7, 8, 9], align: 16));
        Assert.Equal([7, 8, 9], Npy.Read(path).ToBytes());
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Reads_versions_2_and_3(int major)
    {
        byte[] data = new byte[16];
        BinaryPrimitives.WriteDoubleLittleEndian(data, 0.1);
        BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(8), -3e38);
        using var dir = new TempDir();
        string path = dir.Write("v.npy",
            Crafted("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", data, major));
        NpyArray a = Npy.Read(path);
        Assert.Equal(major, a.Header.MajorVersion);
        Assert.Equal([0.1f, -3e38f], a.ToFloat32());
    }

    [Fact]
    public void Reads_int8_and_int64()
    {
        using var dir = new TempDir();
        string i1 = dir.Write("i1.npy",
            Crafted("{'descr': '|i1', 'fortran_order': False, 'shape': (3,), }", [0xFF, 5, 0x80]));
        Assert.Equal([-1, 5, -128], Npy.Read(i1).ToInt32());

        byte[] data = new byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(data, -123456789);
        BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(8), 1L << 33);
        string i8 = dir.Write("i8.npy", Crafted("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", data));
        NpyArray a = Npy.Read(i8);
        var e = Assert.Throws<HrmFormatException>(a.ToInt32);
        Assert.Contains("element 1", e.Message, StringComparison.Ordinal);
        Assert.Contains((1L << 33).ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message,
            StringComparison.Ordinal);
        BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(8), int.MinValue);
        i8 = dir.Write("i8b.npy", Crafted("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", data));
        Assert.Equal([-123456789, int.MinValue], Npy.Read(i8).ToInt32());
    }

    [Fact]
    public void Accessors_reject_the_wrong_dtype()
    {
        using var dir = new TempDir();
        string path = dir.File("f.npy");
        Npy.WriteFloat32(path, [1f, 2f], [2]);
        NpyArray a = Npy.Read(path);
        var e = Assert.Throws<HrmFormatException>(a.ToInt32);
        Assert.Contains("<f4", e.Message, StringComparison.Ordinal);
        Assert.Equal("descr", e.Field);
        Assert.Throws<HrmFormatException>(a.ToBytes);
    }

    [Fact]
    public void Writers_check_the_shape_and_leave_no_temp_files()
    {
        using var dir = new TempDir();
        string path = dir.File("w.npy");
        Assert.Throws<ArgumentException>(() => Npy.WriteInt32(path, [1, 2, 3], [2, 2]));
        Assert.Throws<ArgumentException>(() => Npy.WriteUInt8(path, [1, 2], [-1, -2]));
        Assert.Throws<ArgumentException>(() => Npy.WriteUInt8(path, [1, 2], []));
        Assert.Empty(dir.Entries());
        Npy.WriteUInt8(path, [], [0, 5]);
        Npy.WriteUInt8(path, [1, 2], [2]);
        Assert.Equal(["w.npy"], dir.Entries());
        Assert.Equal([1, 2], Npy.Read(path).ToBytes());
    }
}
