using System.Buffers.Binary;
using Hrm.Runtime.Formats;

namespace Hrm.Runtime.Tests.Formats;

public sealed class SafeTensorsValidationTests
{
    private static string Entry(string name, string dtype, string shape, string offsets) =>
        $"\"{name}\":{{\"dtype\":{dtype},\"shape\":{shape},\"data_offsets\":{offsets}}}";

    private static HrmFormatException Fails(byte[] blob, params string[] fragments)
    {
        using var dir = new TempDir();
        string path = dir.Write("bad.safetensors", blob);
        var e = Assert.Throws<HrmFormatException>(() => SafeTensorsFile.Open(path).Dispose());
        Assert.Equal(path, e.Path);
        Assert.StartsWith(path + ": ", e.Message, StringComparison.Ordinal);
        foreach (string s in fragments) Assert.Contains(s, e.Message, StringComparison.Ordinal);
        return e;
    }

    private static HrmFormatException FailsJson(string json, int dataBytes, params string[] fragments) =>
        Fails(TempDir.SafeTensorsBlob(json, TempDir.Pattern(dataBytes)), fragments);

    [Fact]
    public void File_shorter_than_eight_bytes() => Fails([1, 2, 3, 4, 5], "header size", "5 bytes");

    [Fact]
    public void Header_size_zero() => Fails(TempDir.SafeTensorsBlob("", [1, 2, 3]), "header size", "is 0");

    [Fact]
    public void Header_size_beyond_the_file() =>
        Fails(TempDir.SafeTensorsBlob("{}", [], headerSize: 50), "header size", "50", "only 2 bytes");

    [Fact]
    public void Header_size_over_100_MB()
    {
        using var dir = new TempDir();
        string path = dir.File("huge.safetensors");
        using (var s = new FileStream(path, FileMode.CreateNew))
        {
            byte[] prefix = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(prefix, 100L * 1024 * 1024 + 1);
            s.Write(prefix);
            s.SetLength(101L * 1024 * 1024); // sparse: cheap to create
        }
        var e = Assert.Throws<HrmFormatException>(() => SafeTensorsFile.Open(path).Dispose());
        Assert.Contains("100 MB", e.Message, StringComparison.Ordinal);
        Assert.Equal("header size", e.Field);
    }

    [Fact]
    public void Header_not_utf8()
    {
        byte[] blob = TempDir.SafeTensorsBlob("{\"a\":\"xx\"}", []);
        blob[8 + 6] = 0xFF;
        Fails(blob, "header", "UTF-8");
    }

    [Theory]
    [InlineData("{not json}", "not valid JSON")]
    [InlineData("[1, 2]", "expected a JSON object")]
    [InlineData("\"text\"", "expected a JSON object")]
    public void Header_not_a_json_object(string json, string fragment) =>
        Assert.Equal("header", FailsJson(json, 0, fragment).Field);

    [Theory]
    [InlineData("{\"t.w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", "missing \"dtype\"")]
    [InlineData("{\"t.w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", "missing \"shape\"")]
    [InlineData("{\"t.w\":{\"dtype\":\"F32\",\"shape\":[1]}}", "missing \"data_offsets\"")]
    [InlineData("{\"t.w\":[1,2]}", "expected an object")]
    [InlineData("{\"t.w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", "unexpected key \"x\"")]
    public void Entry_missing_or_extra_keys(string json, string fragment) =>
        Assert.Equal("t.w", FailsJson(json, 4, "t.w", fragment).Field);

    [Theory]
    [InlineData("5", "[1]", "[0,4]", "\"dtype\" must be a string")]
    [InlineData("\"F32\"", "\"1\"", "[0,4]", "\"shape\" must be an array")]
    [InlineData("\"F32\"", "[1.5]", "[0,4]", "dimension 0 must be an integer")]
    [InlineData("\"F32\"", "[null]", "[0,4]", "dimension 0 must be an integer")]
    [InlineData("\"F32\"", "[1]", "{\"a\":1}", "\"data_offsets\" must be [begin, end]")]
    [InlineData("\"F32\"", "[1]", "[0,\"4\"]", "\"data_offsets\" must be [begin, end]")]
    public void Entry_with_wrong_json_types(string dtype, string shape, string offsets, string fragment) =>
        FailsJson("{" + Entry("t.w", dtype, shape, offsets) + "}", 4, "t.w", fragment);

    [Fact]
    public void Unknown_dtype() =>
        FailsJson("{" + Entry("t.w", "\"Q8\"", "[1]", "[0,1]") + "}", 1, "t.w", "\"Q8\"", "supported: F32");

    [Fact]
    public void Negative_dimension() =>
        FailsJson("{" + Entry("t.w", "\"F32\"", "[2,-1]", "[0,4]") + "}", 4, "t.w", "dimension 1 is -1");

    [Theory]
    [InlineData("[0]")]
    [InlineData("[0,4,8]")]
    [InlineData("[-4,0]")]
    [InlineData("[8,4]")]
    [InlineData("[0,4.5]")]
    public void Bad_data_offsets(string offsets) =>
        FailsJson("{" + Entry("t.w", "\"F32\"", "[1]", offsets) + "}", 16, "t.w", "data_offsets");

    [Fact]
    public void Offsets_beyond_the_data_buffer() =>
        FailsJson("{" + Entry("t.w", "\"F32\"", "[2]", "[4,12]") + "}", 10, "t.w", "end 12", "10 bytes");

    [Fact]
    public void Offsets_disagree_with_shape_and_dtype() =>
        FailsJson("{" + Entry("t.w", "\"BF16\"", "[2,3]", "[0,8]") + "}", 16,
            "t.w", "span 8 bytes", "[2, 3]", "BF16", "needs 12 bytes");

    [Fact]
    public void Element_count_overflow() =>
        FailsJson("{" + Entry("t.w", "\"F32\"", "[4294967296,4294967296,4]", "[0,4]") + "}", 4,
            "t.w", "64-bit");

    [Fact]
    public void Byte_count_overflow() =>
        FailsJson("{" + Entry("t.w", "\"F64\"", "[4611686018427387904]", "[0,4]") + "}", 4, "t.w", "64-bit");

    [Fact]
    public void Overlapping_tensors()
    {
        string json = "{" + Entry("first", "\"F32\"", "[2]", "[0,8]") + "," +
                      Entry("second", "\"F32\"", "[2]", "[4,12]") + "}";
        Assert.Equal("second", FailsJson(json, 12, "second", "'first'", "overlap").Field);
    }

    [Fact]
    public void Holes_and_empty_tensors_are_accepted()
    {
        string json = "{" + Entry("a", "\"U8\"", "[2]", "[0,2]") + "," + Entry("e", "\"F32\"", "[0,3]", "[1,1]") +
                      "," + Entry("b", "\"U8\"", "[2]", "[4,6]") + "}";
        using var dir = new TempDir();
        string path = dir.Write("holes.safetensors", TempDir.SafeTensorsBlob(json, TempDir.Pattern(6)));
        using SafeTensorsFile f = SafeTensorsFile.Open(path);
        var b = new int[2];
        f.ReadAsInt32("b", b);
        Assert.Equal([5, 6], b);
        f.ReadAsFloat32("e", Span<float>.Empty);
    }

    [Theory]
    [InlineData("[1]", "expected an object of string values")]
    [InlineData("{\"k\":3}", "key 'k' must be a string")]
    public void Metadata_not_strings(string metadata, string fragment) =>
        Assert.Equal("__metadata__", FailsJson("{\"__metadata__\":" + metadata + "}", 0, fragment).Field);

    [Fact]
    public void Duplicate_names_after_stripping_the_compile_prefix()
    {
        string json = "{" + Entry("_orig_mod.w", "\"U8\"", "[1]", "[0,1]") + "," +
                      Entry("w", "\"U8\"", "[1]", "[1,2]") + "}";
        FailsJson(json, 2, "'_orig_mod.w'", "'w'", "duplicate");
    }

    [Fact]
    public void Duplicate_names_in_the_header() =>
        FailsJson("{" + Entry("w", "\"U8\"", "[1]", "[0,1]") + "," + Entry("w", "\"U8\"", "[1]", "[1,2]") + "}", 2,
            "w", "appears twice");
}
