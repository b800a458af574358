using Hrm.Runtime.Backends.Reference;
using Hrm.Runtime.Config;
using Hrm.Runtime.Formats;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;
using Hrm.Runtime.Tests.TestUtil;

namespace Hrm.Runtime.Tests.Model;

public sealed class CheckpointTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("hrm-ckpt-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string PathOf(string name) => System.IO.Path.Combine(_dir.FullName, name);

    [Fact]
    public void Round_trip_restores_every_tensor_and_the_config()
    {
        HrmConfig cfg = ModelFixtures.MicroLearned();
        using HrmModel a = ModelFixtures.Create(cfg, new ReferenceBackend(), 1, false, 5);
        HrmCheckpoint.Save(a, PathOf("m.safetensors"));
        Assert.Equal(cfg, HrmCheckpoint.ReadConfig(PathOf("m.safetensors")));
        using HrmModel b = HrmCheckpoint.Load(PathOf("m.safetensors"), new ReferenceBackend());
        foreach (TensorEntry e in a.Layout.Entries)
            Assert.Equal(a.ReadParameter(e.Name), b.ReadParameter(e.Name));
        using var f = SafeTensorsFile.Open(PathOf("m.safetensors"));
        Assert.Equal(TensorDType.BF16, f.Get(ParameterLayout.Names.HInit).DType);
        Assert.Equal(TensorDType.F32, f.Get(ParameterLayout.Names.EmbedTokens).DType);
        Assert.Empty(_dir.GetFiles("*.tmp*"));
    }

    [Theory]
    [InlineData(TensorDType.BF16)]
    [InlineData(TensorDType.F16)]
    public void Two_byte_checkpoints_hold_each_value_rounded_to_nearest_and_load_as_that(TensorDType dtype)
    {
        HrmConfig cfg = ModelFixtures.MicroLearned();
        using HrmModel a = ModelFixtures.Create(cfg, new ReferenceBackend(), 1, false, 6);
        HrmCheckpoint.Save(a, PathOf("f32.safetensors"));
        HrmCheckpoint.Save(a, PathOf("half.safetensors"), null, dtype);
        Assert.Equal(cfg, HrmCheckpoint.ReadConfig(PathOf("half.safetensors")));
        using HrmModel b = HrmCheckpoint.Load(PathOf("half.safetensors"), new ReferenceBackend());
        using var f = SafeTensorsFile.Open(PathOf("half.safetensors"));
        int rounded = 0;
        foreach (TensorEntry e in a.Layout.Entries)
        {
            float[] original = a.ReadParameter(e.Name);
            float[] expected = e.StoredAsBf16 ? original // H_init/L_init: bf16 values, kept as BF16
                : original.Select(v => dtype == TensorDType.BF16 ? RoundToBf16(v) : (float)(Half)v).ToArray();
            Assert.Equal(e.StoredAsBf16 ? TensorDType.BF16 : dtype, f.Get(e.Name).DType);
            Assert.Equal(expected, b.ReadParameter(e.Name));
            rounded += original.Zip(expected).Count(p => p.First != p.Second);
        }
        Assert.True(rounded > a.Layout.ParameterCount / 2, $"{rounded} values rounded"); // not a copy of the F32 file
        long f32 = new FileInfo(PathOf("f32.safetensors")).Length;
        long half = new FileInfo(PathOf("half.safetensors")).Length;
        Assert.InRange(half, f32 / 2, f32 / 2 + 4096); // two bytes a value; the header about the same
    }

    [Fact]
    public void F16_refuses_a_value_beyond_its_range_and_other_types_are_refused()
    {
        HrmConfig cfg = ModelFixtures.Micro();
        using HrmModel a = ModelFixtures.Create(cfg, new ReferenceBackend(), 1, false, 7);
        float[] head = a.ReadParameter(ParameterLayout.Names.LmHead);
        head[5] = 65520f; // float16's largest finite value is 65504; this one rounds to infinity
        a.WriteParameter(ParameterLayout.Names.LmHead, head);
        var ex = Assert.Throws<OverflowException>(() =>
            HrmCheckpoint.Save(a, PathOf("f16.safetensors"), null, TensorDType.F16));
        Assert.Contains(ParameterLayout.Names.LmHead + " element 5 is 65520", ex.Message, StringComparison.Ordinal);
        Assert.Empty(_dir.GetFiles()); // nothing written
        head[5] = 65519f; // rounds to 65504: stored
        a.WriteParameter(ParameterLayout.Names.LmHead, head);
        HrmCheckpoint.Save(a, PathOf("f16.safetensors"), null, TensorDType.F16);
        using (HrmModel b = HrmCheckpoint.Load(PathOf("f16.safetensors"), new ReferenceBackend()))
            Assert.Equal(65504f, b.ReadParameter(ParameterLayout.Names.LmHead)[5]);
        HrmCheckpoint.Save(a, PathOf("bf16.safetensors"), null, TensorDType.BF16); // bf16 has float32's range
        foreach (TensorDType other in (TensorDType[])[TensorDType.F64, TensorDType.I32])
            Assert.Throws<ArgumentException>(() => HrmCheckpoint.Save(a, PathOf("x.safetensors"), null, other));
    }

    /// <summary>float32 to bfloat16, round to nearest even (finite values), as a float.</summary>
    private static float RoundToBf16(float v)
    {
        uint bits = BitConverter.SingleToUInt32Bits(v);
        bits += 0x7FFFu + ((bits >> 16) & 1u);
        return BitConverter.UInt32BitsToSingle(bits & 0xFFFF0000u);
    }

    [Fact]
    public void Reference_style_checkpoint_with_compile_prefix_and_no_metadata_loads_with_a_config()
    {
        HrmConfig cfg = ModelFixtures.Micro();
        var layout = new ParameterLayout(cfg);
        var w = new SafeTensorsWriter();
        int k = 0;
        foreach (TensorEntry e in layout.Entries)
            w.Add("_orig_mod." + e.Name, e.StoredAsBf16 ? TensorDType.BF16 : TensorDType.F32,
                e.Shape.Select(d => (long)d).ToArray(), TestData.Floats(k++, (int)e.Count));
        w.Save(PathOf("ref.safetensors"));
        var err = Assert.Throws<HrmFormatException>(() => HrmCheckpoint.Load(PathOf("ref.safetensors"), new ReferenceBackend()));
        Assert.Contains("--config", err.Message);
        using HrmModel m = HrmCheckpoint.Load(PathOf("ref.safetensors"), new ReferenceBackend(), cfg);
        Assert.Equal(TestData.Floats(0, (int)layout.Entries[0].Count), m.ReadParameter(layout.Entries[0].Name));
    }

    [Fact]
    public void Missing_unexpected_misshapen_and_integer_tensors_are_named()
    {
        HrmConfig cfg = ModelFixtures.Micro();
        var layout = new ParameterLayout(cfg);
        string Write(string name, Action<SafeTensorsWriter, TensorEntry> add)
        {
            var w = new SafeTensorsWriter();
            foreach (TensorEntry e in layout.Entries) add(w, e);
            w.SetMetadata(HrmCheckpoint.ConfigKey, HrmConfigJson.Serialize(cfg));
            w.Save(PathOf(name));
            return PathOf(name);
        }
        static long[] Shape(TensorEntry e) => e.Shape.Select(d => (long)d).ToArray();
        string lmHead = ParameterLayout.Names.LmHead;

        string missing = Write("missing", (w, e) =>
        {
            if (e.Name != lmHead) w.Add(e.Name, TensorDType.F32, Shape(e), new float[e.Count]);
        });
        string extra = Write("extra", (w, e) =>
        {
            w.Add(e.Name, TensorDType.F32, Shape(e), new float[e.Count]);
            if (e.Name == lmHead) w.Add("model.inner.bogus", TensorDType.F32, [3], new float[3]);
        });
        string shape = Write("shape", (w, e) =>
        {
            long[] s = Shape(e);
            if (e.Name == lmHead) s[0] += 1;
            w.Add(e.Name, TensorDType.F32, s, new float[s.Aggregate(1L, (a, b) => a * b)]);
        });
        string ints = Write("ints", (w, e) =>
        {
            if (e.Name == lmHead) w.AddInt32(e.Name, TensorDType.I32, Shape(e), new int[e.Count]);
            else w.Add(e.Name, TensorDType.F32, Shape(e), new float[e.Count]);
        });
        foreach ((string file, string expect) in new[]
                 { (missing, "missing"), (extra, "unexpected"), (shape, "does not match"), (ints, "not a float") })
        {
            var ex = Assert.Throws<HrmFormatException>(() => HrmCheckpoint.Load(file, new ReferenceBackend()));
            Assert.Contains(expect, ex.Message);
            Assert.Contains(file == extra ? "model.inner.bogus" : lmHead, ex.Message);
        }
    }

    [Fact]
    public void A_file_that_is_not_a_checkpoint_gives_a_format_error()
    {
        File.WriteAllText(PathOf("junk.safetensors"), "this is not a safetensors file at all");
        Assert.Throws<HrmFormatException>(() => HrmCheckpoint.Load(PathOf("junk.safetensors"), new ReferenceBackend()));
    }
}
