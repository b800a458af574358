using System.Runtime.InteropServices;
using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Config;
using Hrm.Runtime.Formats;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;
using Hrm.Runtime.Numerics;
using Hrm.Runtime.Solver;
using Hrm.Runtime.Tests.Model;
using Hrm.Runtime.Tests.Solver;
using Hrm.Runtime.Tests.TestUtil;

namespace Hrm.Runtime.Tests.Formats;

/// <summary>
/// The reference's own checkpoints: <c>torch.save(model.state_dict())</c> zips (written here by
/// <see cref="TorchSaveWriter"/>, opcode for opcode what PyTorch writes) load into the model with every value as
/// stored, and bad files fail with <see cref="HrmFormatException"/> only.
/// </summary>
public sealed class TorchCheckpointTests
{
    private static TorchSaveWriter StateDict(HrmModel model, string prefix = "_orig_mod.") =>
        TorchSaveWriter.Of(model, prefix);

    private static HrmModel Model(HrmConfig config, int seed)
    {
        var m = new HrmModel(config, new CpuBackend(1));
        ModelFixtures.RandomizeAll(m, seed);
        return m;
    }

    [Fact]
    public void A_reference_state_dict_loads_every_value_as_stored()
    {
        using var dir = new TempDir();
        foreach (HrmConfig config in (HrmConfig[])[ModelFixtures.Micro(), ModelFixtures.MicroLearned()])
        {
            using HrmModel source = Model(config, 3);
            string path = dir.File("step_100");
            StateDict(source).Save(path);
            Assert.Null(HrmCheckpoint.ReadConfig(path)); // the reference stores no architecture
            using HrmModel loaded = HrmCheckpoint.Load(path, new CpuBackend(1), config);
            foreach (TensorEntry e in source.Layout.Entries)
                Assert.Equal(source.ReadParameter(e.Name), loaded.ReadParameter(e.Name));
        }
    }

    /// <summary>The released reference checkpoints carry no architecture and their folders do not always hold the
    /// run's all_config.yaml: <see cref="HrmPresets.ForCheckpoint"/> gives the task's, with the puzzle table's rows.</summary>
    [Fact]
    public void A_preset_stands_in_for_the_architecture_a_reference_checkpoint_lacks()
    {
        using HrmModel source = Model(HrmPresets.Get("tiny") with { NumPuzzleIdentifiers = 7 }, 9);
        using var dir = new TempDir();
        string path = dir.File("checkpoint");
        StateDict(source).Save(path);
        HrmConfig cfg = HrmPresets.ForCheckpoint("tiny", path);
        Assert.Equal(7, cfg.NumPuzzleIdentifiers);
        using (HrmModel loaded = HrmCheckpoint.Load(path, new CpuBackend(1), cfg))
        {
            foreach (TensorEntry e in source.Layout.Entries)
                Assert.Equal(source.ReadParameter(e.Name), loaded.ReadParameter(e.Name));
        }
        using (HrmSolver solver = HrmSolver.Load(path, new SolverOptions { Device = SolverDevice.Cpu, Threads = 1, Config = cfg }))
            Assert.Equal(9, solver.SudokuSize);
        Assert.Throws<HrmConfigException>(() => HrmPresets.ForCheckpoint("no-such-task", path));
        var e2 = Assert.Throws<HrmFormatException>(() =>
            HrmCheckpoint.Load(path, new CpuBackend(1), HrmPresets.ForCheckpoint("sudoku-extreme-1k", path)));
        Assert.Contains("does not match", e2.Message, StringComparison.Ordinal); // another task's width, named
    }

    [Fact]
    public void A_state_dict_of_more_than_256_memo_entries_and_without_the_compile_prefix_loads()
    {
        // The real widths' layer count: 8 blocks of 4 tensors plus the rest, each with several memo entries (LONG_BINPUT
        // and LONG_BINGET past 255), keys as an uncompiled model saves them.
        HrmConfig config = ModelFixtures.Micro() with { HLayers = 4, LLayers = 4 };
        using HrmModel source = Model(config, 4);
        using var dir = new TempDir();
        string path = dir.File("step_1");
        StateDict(source, prefix: "").Save(path);
        using HrmModel loaded = HrmCheckpoint.Load(path, new CpuBackend(1), config);
        foreach (TensorEntry e in source.Layout.Entries)
            Assert.Equal(source.ReadParameter(e.Name), loaded.ReadParameter(e.Name));
    }

    [Fact]
    public void The_solver_gives_the_same_answers_from_the_reference_checkpoint_as_from_ours()
    {
        using var ours = new TinyCheckpoint(seed: 21);
        HrmConfig config = ours.Config;
        using HrmModel model = HrmCheckpoint.Load(ours.Path, new CpuBackend(1));
        using var dir = new TempDir();
        string torchPath = dir.File("checkpoint");
        StateDict(model).Save(torchPath);
        var options = new SolverOptions { Device = SolverDevice.Cpu, Config = config };
        using var a = HrmSolver.Load(ours.Path, options);
        using var b = HrmSolver.Load(torchPath, options);
        foreach (string p in (string[])["1.34.4122.434.21", "..34341.2143..21", "1.3.3.1.2.4.4.2."])
        {
            SudokuResult ra = a.Solve(SudokuGrid.Parse(p, 4)), rb = b.Solve(SudokuGrid.Parse(p, 4));
            Assert.Equal(ra.Answer.ToString(), rb.Answer.ToString());
            Assert.Equal(ra.HaltConfidence, rb.HaltConfidence);
        }
    }

    [Fact]
    public void Without_a_config_the_error_says_to_pass_one()
    {
        using HrmModel source = Model(ModelFixtures.Micro(), 5);
        using var dir = new TempDir();
        string path = dir.File("step_2");
        StateDict(source).Save(path);
        var e = Assert.Throws<HrmFormatException>(() => HrmCheckpoint.Load(path, new CpuBackend(1)));
        Assert.Contains("PyTorch checkpoint carries no architecture: pass --config", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_view_into_a_shared_storage_reads_its_own_elements()
    {
        // Two tensors in one storage (as tied or sliced weights are saved): q_head.weight is the storage's elements
        // 4.. of a larger one; offsets are honoured, and a transposed view is refused.
        HrmConfig config = ModelFixtures.Micro();
        using HrmModel source = Model(config, 6);
        float[] q = source.ReadParameter(ParameterLayout.Names.QHeadWeight); // (2, C)
        float[] big = [1f, 2f, 3f, 4f, .. q, 5f];
        TorchSaveWriter rebuilt = TorchSaveWriter.Of(source, prefix: "", skip: ParameterLayout.Names.QHeadWeight);
        rebuilt.Add("shared", TensorDType.F32, [big.Length], MemoryMarshal.AsBytes(big.AsSpan()).ToArray());
        string key = (source.Layout.Entries.Count - 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        int c = config.HiddenSize;
        using var dir = new TempDir();
        // "shared" itself is not a model tensor: loading must name it.
        rebuilt.AddView(ParameterLayout.Names.QHeadWeight, key, [2, c], [c, 1], 4);
        string path = dir.File("views");
        rebuilt.Save(path);
        var e1 = Assert.Throws<HrmFormatException>(() => HrmCheckpoint.Load(path, new CpuBackend(1), config));
        Assert.Contains("shared: unexpected tensor", e1.Message, StringComparison.Ordinal);
        using (var f = TorchCheckpointFile.Open(path))
        {
            var got = new float[2 * c];
            f.ReadAsFloat32(ParameterLayout.Names.QHeadWeight, got);
            Assert.Equal(q, got);
        }
        var transposed = new TorchSaveWriter();
        transposed.Add("w", TensorDType.F32, [6], MemoryMarshal.AsBytes(((float[])[1, 2, 3, 4, 5, 6]).AsSpan()).ToArray());
        transposed.AddView("wt", "0", [3, 2], [1, 3], 0);
        string tpath = dir.File("transposed");
        transposed.Save(tpath);
        var e2 = Assert.Throws<HrmFormatException>(() => TorchCheckpointFile.Open(tpath));
        Assert.Contains("wt: size [3, 2] with stride [1, 3] is not row-major", e2.Message, StringComparison.Ordinal);
    }

    /// <summary>The pickle PyTorch 2.8 wrote for <c>torch.save(torch.arange(1, 11), "tensor.pt")</c>, opcode for opcode
    /// as pickletools lists it (a tensor, not a state dict).</summary>
    [Fact]
    public void The_pickle_of_a_saved_tensor_parses_up_to_the_state_dict_check()
    {
        byte[] pkl =
        [
            0x80, 2, .. "ctorch._utils\n_rebuild_tensor_v2\n"u8, (byte)'q', 0, (byte)'(', (byte)'(',
            (byte)'X', 7, 0, 0, 0, .. "storage"u8, (byte)'q', 1, .. "ctorch\nLongStorage\n"u8, (byte)'q', 2,
            (byte)'X', 1, 0, 0, 0, (byte)'0', (byte)'q', 3, (byte)'X', 3, 0, 0, 0, .. "cpu"u8, (byte)'q', 4,
            (byte)'K', 10, (byte)'t', (byte)'q', 5, (byte)'Q', (byte)'K', 0, (byte)'K', 10, 0x85, (byte)'q', 6,
            (byte)'K', 1, 0x85, (byte)'q', 7, 0x89, .. "ccollections\nOrderedDict\n"u8, (byte)'q', 8, (byte)')',
            (byte)'R', (byte)'q', 9, (byte)'t', (byte)'q', 10, (byte)'R', (byte)'q', 11, (byte)'.',
        ];
        var w = new TorchSaveWriter { Prefix = "tensor" };
        w.Add("unused", TensorDType.I64, [10], new byte[80]);
        using var dir = new TempDir();
        string path = dir.File("tensor.pt");
        w.Save(path, pkl);
        var e = Assert.Throws<HrmFormatException>(() => TorchCheckpointFile.Open(path));
        Assert.Contains("tensor/data.pkl: holds a tensor, not a state dict", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pickle_that_would_run_code_is_refused_without_running_it()
    {
        // os.system("touch PWNED") the way a malicious pickle spells it: GLOBAL 'posix system', then REDUCE.
        byte[] pkl = [0x80, 2, .. "cposix\nsystem\n"u8, (byte)'X', 11, 0, 0, 0, .. "touch PWNED"u8, 0x85, (byte)'R',
            (byte)'.'];
        using var dir = new TempDir();
        string path = dir.File("evil.pt");
        new TorchSaveWriter().Save(path, pkl);
        var e = Assert.Throws<HrmFormatException>(() => TorchCheckpointFile.Open(path));
        Assert.Contains("calls posix.system with 1 arguments: only state dicts", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_files_are_refused_with_what_is_wrong()
    {
        using HrmModel source = Model(ModelFixtures.Micro(), 7);
        using var dir = new TempDir();
        string Check(string name, TorchSaveWriter w, Action<string>? spoil = null)
        {
            string path = dir.File(name);
            w.Save(path);
            spoil?.Invoke(path);
            return Assert.Throws<HrmFormatException>(() =>
            {
                using HrmModel m = HrmCheckpoint.Load(path, new CpuBackend(1), ModelFixtures.Micro());
            }).Message;
        }
        Assert.Contains("only little-endian storages", Check("big", new TorchSaveWriter { ByteOrder = "big" }),
            StringComparison.Ordinal);
        Assert.Contains("not a readable zip archive", Check("cut", StateDict(source),
            p => File.WriteAllBytes(p, File.ReadAllBytes(p)[..200])), StringComparison.Ordinal);
        TorchSaveWriter few = StateDict(source);
        few.Add("extra.weight", TensorDType.F32, [2], new byte[8]);
        Assert.Contains("extra.weight: unexpected tensor", Check("extra", few), StringComparison.Ordinal);
        var missing = new TorchSaveWriter();
        missing.Add(ParameterLayout.Names.EmbedTokens, TensorDType.F32, [7, 16], new byte[7 * 16 * 4]);
        Assert.Contains("missing tensor", Check("missing", missing), StringComparison.Ordinal);
        var shortStorage = new TorchSaveWriter();
        shortStorage.Add("a", TensorDType.F32, [4], new byte[16]);
        shortStorage.AddView("b", "0", [8], [1], 0);
        Assert.Contains("b: size [8] at element 0 does not fit its storage of 4 elements",
            Check("short", shortStorage), StringComparison.Ordinal);
        Assert.Contains("no PREFIX/data.pkl", Check("nopkl", new TorchSaveWriter { Prefix = "a/b" }),
            StringComparison.Ordinal);
        Assert.Contains("is compressed", Check("deflated", new TorchSaveWriter { Compression =
            System.IO.Compression.CompressionLevel.Optimal }), StringComparison.Ordinal);
        string legacy = dir.Write("legacy.pt", [0x80, 2, 0x8a, 10, .. new byte[40]]);
        Assert.Contains("legacy format", Assert.Throws<HrmFormatException>(() =>
            HrmCheckpoint.Load(legacy, new CpuBackend(1), ModelFixtures.Micro())).Message, StringComparison.Ordinal);
        // A safetensors header of 640 bytes starts 80 02 00 00: still safetensors, not a legacy pickle.
        string safe = dir.Write("safe", [0x80, 2, 0, 0, 0, 0, 0, 0, .. new byte[20]]);
        Assert.DoesNotContain("legacy", Assert.Throws<HrmFormatException>(() =>
            HrmCheckpoint.Load(safe, new CpuBackend(1), ModelFixtures.Micro())).Message, StringComparison.Ordinal);
    }

    /// <summary>Pickles that break the format's rules in the ways a hostile or damaged file would; each is refused
    /// with where and why, and nothing else escapes.</summary>
    [Theory]
    [InlineData(new byte[] { 0x80, 2, 0x8d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f }, "past the end")]
    [InlineData(new byte[] { 0x80, 2, 0x8b, 9, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, (byte)'.' }, "at most 8")]
    [InlineData(new byte[] { 0x80, 2, (byte)'(', (byte)'K', 1, (byte)'.' }, "unbalanced")]
    [InlineData(new byte[] { 0x80, 2, (byte)'2' }, "stack underflow")]
    [InlineData(new byte[] { 0x80, 2, (byte)'h', 7 }, "never stored")]
    [InlineData(new byte[] { 0x80, 2, (byte)'K', 1, (byte)'K', 2, (byte)'s' }, "not a dict")]
    [InlineData(new byte[] { 0x80, 9 }, "protocol")]
    [InlineData(new byte[] { 0x80, 2, (byte)'I', (byte)'1', (byte)'\n' }, "unsupported pickle opcode 0x49")]
    [InlineData(new byte[] { 0x80, 2, (byte)'X', 2, 0, 0, 0, 0xc3, 0x28, (byte)'.' }, "not UTF-8")]
    public void Malformed_pickles_are_refused_with_where_and_why(byte[] pickle, string expected)
    {
        using var dir = new TempDir();
        string path = dir.File("bad");
        new TorchSaveWriter().Save(path, pickle);
        var e = Assert.Throws<HrmFormatException>(() => TorchCheckpointFile.Open(path));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.Contains("bad/data.pkl: byte ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Persistent_ids_other_than_a_storage_of_a_known_type_are_refused()
    {
        using var dir = new TempDir();
        string Refusal(byte[] pid)
        {
            string path = dir.File("pid");
            new TorchSaveWriter().Save(path, [0x80, 2, .. pid, (byte)'Q', (byte)'.']);
            return Assert.Throws<HrmFormatException>(() => TorchCheckpointFile.Open(path)).Message;
        }
        byte[] Str(string s) => [(byte)'X', (byte)s.Length, 0, 0, 0, .. System.Text.Encoding.ASCII.GetBytes(s)];
        Assert.Contains("a persistent id other than", Refusal([(byte)'(', .. Str("storage"), .. "ctorch\nFloatStorage\n"u8,
            .. Str("0"), .. Str("cpu"), (byte)'t']), StringComparison.Ordinal); // 4 items, numel missing
        Assert.Contains("storage type torch.ComplexFloatStorage is not read", Refusal([(byte)'(', .. Str("storage"),
            .. "ctorch\nComplexFloatStorage\n"u8, .. Str("0"), .. Str("cpu"), (byte)'K', 4, (byte)'t']),
            StringComparison.Ordinal);
        Assert.Contains("storage 0 has -1 elements", Refusal([(byte)'(', .. Str("storage"), .. "ctorch\nFloatStorage\n"u8,
            .. Str("0"), .. Str("cpu"), (byte)'J', 0xff, 0xff, 0xff, 0xff, (byte)'t']), StringComparison.Ordinal);
    }

    [Fact]
    public void Corrupted_checkpoints_fail_cleanly()
    {
        using HrmModel source = Model(ModelFixtures.Micro(), 8);
        TorchSaveWriter w = StateDict(source);
        byte[] pickle = w.Pickle();
        using var dir = new TempDir();
        string good = dir.File("good");
        w.Save(good);
        byte[] zip = File.ReadAllBytes(good);
        var rng = new Random(97);
        string path = dir.File("fuzz");
        for (int iter = 0; iter < 600; iter++)
        {
            bool inPickle = iter % 2 == 0;
            byte[] b = (byte[])(inPickle ? pickle : zip).Clone();
            switch (rng.Next(3))
            {
                case 0: b = b[..rng.Next(b.Length)]; break;
                case 1: b[rng.Next(b.Length)] = (byte)rng.Next(256); break;
                default: b[rng.Next(b.Length)] ^= (byte)(1 << rng.Next(8)); break;
            }
            if (inPickle) w.Save(path, b);
            else File.WriteAllBytes(path, b);
            try
            {
                using HrmModel m = HrmCheckpoint.Load(path, new CpuBackend(1), ModelFixtures.Micro());
            }
            catch (HrmFormatException)
            {
                // expected for most mutations
            }
        }
    }
}
