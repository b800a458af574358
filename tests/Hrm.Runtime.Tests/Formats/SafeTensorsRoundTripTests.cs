using System.Buffers.Binary;
using Hrm.Runtime.Formats;
using Hrm.Runtime.Numerics;

namespace Hrm.Runtime.Tests.Formats;

public sealed class SafeTensorsRoundTripTests
{
    private static float[] RandomFloats(Random rng, int n)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)((rng.NextDouble() * 8) - 4);
        return a;
    }

    private static int[] RandomInts(Random rng, int n, int min, int max)
    {
        var a = new int[n];
        for (int i = 0; i < n; i++) a[i] = rng.Next(min, max);
        return a;
    }

    [Fact]
    public void Round_trips_every_dtype_and_metadata()
    {
        using var dir = new TempDir();
        var rng = new Random(42);
        float[] f32 = RandomFloats(rng, 12), bf16 = RandomFloats(rng, 5), f16 = RandomFloats(rng, 7);
        float[] f64 = RandomFloats(rng, 3);
        int[] i32 = RandomInts(rng, 6, int.MinValue, int.MaxValue), i64 = RandomInts(rng, 4, -1000, 1000);
        int[] u8 = RandomInts(rng, 9, 0, 256);
        var w = new SafeTensorsWriter();
        w.Add("layer.weight", TensorDType.F32, [3, 4], f32);
        w.Add("layer.bias", TensorDType.BF16, [5], bf16);
        w.Add("half", TensorDType.F16, [7], f16);
        w.Add("double", TensorDType.F64, [1, 3], f64);
        w.AddInt32("ids", TensorDType.I32, [2, 3], i32);
        w.AddInt32("long", TensorDType.I64, [4], i64);
        w.AddInt32("bytes", TensorDType.U8, [3, 3], u8);
        w.SetMetadata("format", "pt");
        w.SetMetadata("step", "17");
        string path = dir.File("model.safetensors");
        w.Save(path);

        using SafeTensorsFile f = SafeTensorsFile.Open(path);
        Assert.Equal(["layer.weight", "layer.bias", "half", "double", "ids", "long", "bytes"],
            f.Tensors.Select(t => t.Name));
        Assert.Equal("pt", f.Metadata["format"]);
        Assert.Equal("17", f.Metadata["step"]);
        Assert.Equal(2, f.Metadata.Count);
        Assert.Equal(0, f.DataStart % 8);
        SafeTensorInfo weight = f.Get("layer.weight");
        Assert.Equal(TensorDType.F32, weight.DType);
        Assert.Equal([3L, 4L], weight.Shape);
        Assert.Equal(12, weight.ElementCount);

        Assert.Equal(f32, ReadFloats(f, "layer.weight"));
        Assert.Equal(bf16.Select(BFloat16.Round), ReadFloats(f, "layer.bias"));
        Assert.Equal(f16.Select(x => (float)(Half)x), ReadFloats(f, "half"));
        Assert.Equal(f64, ReadFloats(f, "double"));
        Assert.Equal(i32, ReadInts(f, "ids"));
        Assert.Equal(i64, ReadInts(f, "long"));
        Assert.Equal(u8, ReadInts(f, "bytes"));
        byte[] raw = f.ReadRaw("layer.bias");
        Assert.Equal(10, raw.Length);
        Assert.Equal(BFloat16.FromFloat(bf16[1]), BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(2)));
    }

    [Fact]
    public void Large_tensors_convert_across_chunk_boundaries()
    {
        using var dir = new TempDir();
        var rng = new Random(7);
        float[] big = RandomFloats(rng, 100_003);
        int[] ids = RandomInts(rng, 50_001, -5000, 5000);
        var w = new SafeTensorsWriter();
        w.Add("big", TensorDType.BF16, [100_003], big);
        w.AddInt32("ids", TensorDType.I64, [50_001], ids);
        string path = dir.File("big.safetensors");
        w.Save(path);
        using SafeTensorsFile f = SafeTensorsFile.Open(path);
        Assert.Equal(big.Select(BFloat16.Round), ReadFloats(f, "big"));
        Assert.Equal(ids, ReadInts(f, "ids"));
    }

    [Fact]
    public void Strips_the_torch_compile_prefix()
    {
        Assert.Equal("x", SafeTensorsFile.StripCompilePrefix("_orig_mod.x"));
        Assert.Equal("x", SafeTensorsFile.StripCompilePrefix("x"));
        Assert.Equal("a._orig_mod.x", SafeTensorsFile.StripCompilePrefix("a._orig_mod.x"));
        Assert.Equal("_orig_mod.x", SafeTensorsFile.StripCompilePrefix("_orig_mod._orig_mod.x"));

        using var dir = new TempDir();
        var w = new SafeTensorsWriter();
        w.Add("_orig_mod.inner.embed", TensorDType.F32, [2], [1.5f, -2f]);
        w.AddInt32("plain", TensorDType.I32, [], [9]);
        string path = dir.File("compiled.safetensors");
        w.Save(path);
        using SafeTensorsFile f = SafeTensorsFile.Open(path);
        Assert.Equal(["inner.embed", "plain"], f.Tensors.Select(t => t.Name));
        Assert.True(f.Contains("inner.embed"));
        Assert.True(f.Contains("_orig_mod.inner.embed"));
        Assert.False(f.Contains("embed"));
        Assert.Equal([1.5f, -2f], ReadFloats(f, "inner.embed"));
        Assert.Equal([9], ReadInts(f, "plain"));
        f.Dispose();
        Assert.Throws<ObjectDisposedException>(() => f.ReadRaw("plain"));
    }

    [Fact]
    public void Reads_a_hand_made_blob()
    {
        const string Json =
            "{\"__metadata__\":{\"format\":\"pt\"}," +
            "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}," +
            "\"b\":{\"dtype\":\"BF16\",\"shape\":[1,2],\"data_offsets\":[8,12]}," +
            "\"n\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[12,16]}}";
        byte[] data = new byte[16];
        BinaryPrimitives.WriteSingleLittleEndian(data, 1.5f);
        BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(4), -2.25f);
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(8), 0x3F80);   // 1.0
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(10), 0xC0A0);  // -5.0
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(12), -7);
        using var dir = new TempDir();
        string path = dir.Write("hand.safetensors", TempDir.SafeTensorsBlob(Json, data));
        using SafeTensorsFile f = SafeTensorsFile.Open(path);
        Assert.Equal(["w", "b", "n"], f.Tensors.Select(t => t.Name));
        Assert.Equal("pt", f.Metadata["format"]);
        Assert.Equal(8 + Json.Length, f.DataStart);
        SafeTensorInfo b = f.Get("b");
        Assert.Equal(new SafeTensorInfo("b", TensorDType.BF16, b.Shape, 8, 12), b);
        Assert.Equal([1L, 2L], b.Shape);
        Assert.Equal([1.5f, -2.25f], ReadFloats(f, "w"));
        Assert.Equal([1.0f, -5.0f], ReadFloats(f, "b"));
        Assert.Equal([-7], ReadInts(f, "n"));
        Assert.Empty(f.Get("n").Shape);
    }

    [Fact]
    public void Writer_pads_the_header_to_eight_bytes_and_lays_data_out_in_order()
    {
        using var dir = new TempDir();
        var w = new SafeTensorsWriter();
        w.AddInt32("a", TensorDType.U8, [3], [1, 2, 3]);
        w.Add("bb", TensorDType.F32, [1], [0.25f]);
        string path = dir.File("pad.safetensors");
        w.Save(path);
        byte[] blob = File.ReadAllBytes(path);
        long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(blob);
        Assert.Equal(0, (8 + n) % 8);
        Assert.Equal(8 + n + 7, blob.Length);
        Assert.Equal((byte)' ', blob[8 + n - 1]);
        Assert.Equal([1, 2, 3], blob[(int)(8 + n)..(int)(8 + n + 3)]);
        Assert.Equal(0.25f, BinaryPrimitives.ReadSingleLittleEndian(blob.AsSpan((int)(8 + n + 3))));
        string json = System.Text.Encoding.UTF8.GetString(blob, 8, (int)n);
        Assert.StartsWith("{\"a\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[0,3]}", json,
            StringComparison.Ordinal);
    }

    [Fact]
    public void Writer_rejects_duplicates_and_bad_shapes()
    {
        var w = new SafeTensorsWriter();
        w.Add("x", TensorDType.F32, [2], [1f, 2f]);
        Assert.Throws<ArgumentException>(() => w.Add("x", TensorDType.F32, [2], [1f, 2f]));
        Assert.Throws<ArgumentException>(() => w.Add("y", TensorDType.F32, [3], [1f, 2f]));
        Assert.Throws<ArgumentException>(() => w.Add("y", TensorDType.F32, [-2], [1f, 2f]));
        Assert.Throws<ArgumentException>(() => w.Add("y", TensorDType.I32, [2], [1f, 2f]));
        Assert.Throws<ArgumentException>(() => w.AddInt32("y", TensorDType.U8, [1], [256]));
        Assert.Throws<ArgumentException>(() => w.Add("__metadata__", TensorDType.F32, [1], [1f]));
        Assert.Equal(1, w.Count);
    }

    [Fact]
    public void Save_is_atomic_and_leaves_no_temp_files()
    {
        using var dir = new TempDir();
        var w = new SafeTensorsWriter();
        w.Add("x", TensorDType.F32, [2, 2], [1f, 2f, 3f, 4f]);
        string path = dir.File("m.safetensors");
        w.Save(path);
        w.Save(path); // overwrite
        Assert.Equal(["m.safetensors"], dir.Entries());

        // A directory in the way makes the final rename fail: the temp file must be removed.
        Directory.CreateDirectory(dir.File("blocked.safetensors"));
        Assert.ThrowsAny<IOException>(() => w.Save(dir.File("blocked.safetensors")));
        Assert.Equal(["blocked.safetensors", "m.safetensors"], dir.Entries());
    }

    [Fact]
    public void Reader_errors_name_the_tensor()
    {
        using var dir = new TempDir();
        var w = new SafeTensorsWriter();
        w.Add("emb", TensorDType.F32, [2, 3], [1f, 2f, 3f, 4f, 5f, 6f]);
        w.AddRaw("huge", TensorDType.I64, [1], BitConverter.GetBytes(1L << 40));
        string path = dir.File("e.safetensors");
        w.Save(path);
        using SafeTensorsFile f = SafeTensorsFile.Open(path);

        var e = Assert.Throws<HrmFormatException>(() => f.Get("missing.w"));
        Assert.Contains("missing.w", e.Message, StringComparison.Ordinal);
        Assert.Contains("'emb'", e.Message, StringComparison.Ordinal);
        Assert.Equal(path, e.Path);
        Assert.Equal("missing.w", e.Field);

        e = Assert.Throws<HrmFormatException>(() => f.ReadAsFloat32("emb", new float[5]));
        Assert.Contains("emb", e.Message, StringComparison.Ordinal);
        Assert.Contains("5", e.Message, StringComparison.Ordinal);
        Assert.Contains("6", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<HrmFormatException>(() => f.ReadAsInt32("emb", new int[6]));
        Assert.Contains("F32", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<HrmFormatException>(() => f.ReadAsFloat32("huge", new float[1]));
        Assert.Contains("I64", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<HrmFormatException>(() => f.ReadAsInt32("huge", new int[1]));
        Assert.Contains("huge", e.Message, StringComparison.Ordinal);
        Assert.Contains((1L << 40).ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message,
            StringComparison.Ordinal);
    }

    private static float[] ReadFloats(SafeTensorsFile f, string name)
    {
        var dst = new float[f.Get(name).ElementCount];
        f.ReadAsFloat32(name, dst);
        return dst;
    }

    private static int[] ReadInts(SafeTensorsFile f, string name)
    {
        var dst = new int[f.Get(name).ElementCount];
        f.ReadAsInt32(name, dst);
        return dst;
    }
}
