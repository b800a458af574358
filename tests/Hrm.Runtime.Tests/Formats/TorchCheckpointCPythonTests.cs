using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Config;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;
using Hrm.Runtime.Tests.Model;
using Hrm.Runtime.Tests.TestUtil;

namespace Hrm.Runtime.Tests.Formats;

/// <summary>
/// A state dict pickled by CPython's own pickler (with a stand-in for the part of PyTorch that <c>torch.save</c> uses)
/// loads as <see cref="TorchCheckpointTests"/>' hand-written ones do.
/// </summary>
public sealed class TorchCheckpointCPythonTests
{
    /// <summary>
    /// A stand-in for the part of PyTorch that <c>torch.save</c> uses, so that CPython's own pickler writes the pickle:
    /// torch.save is <c>pickle.Pickler(buf, protocol=2)</c> with a <c>persistent_id</c> that turns each storage into
    /// <c>('storage', torch.FloatStorage, key, 'cpu', numel)</c>, tensors reduce to
    /// <c>torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())</c>, and the zip holds
    /// <c>archive/data.pkl</c> and <c>archive/data/KEY</c>. Only the writing is imitated; the opcodes are CPython's.
    /// </summary>
    private const string FakeTorch = """
        import collections, io, pickle, zipfile
        from . import _utils
        __version__ = "stand-in"
        float32, bfloat16 = "F32", "BF16"
        class FloatStorage: pass
        class BFloat16Storage: pass
        class _Storage:
            def __init__(self, data, dtype): self.data, self.dtype = bytes(data), dtype
        class Tensor:
            def __init__(self, storage, shape): self.storage, self.shape = storage, list(shape)
            def reshape(self, shape): return Tensor(self.storage, shape)
            def __reduce_ex__(self, protocol):
                stride, s = [], 1
                for d in reversed(self.shape): stride.insert(0, s); s *= d
                return (_utils._rebuild_tensor_v2,
                        (self.storage, 0, tuple(self.shape), tuple(stride), False, collections.OrderedDict()))
        class Parameter:
            def __init__(self, data): self.data = data
            def __reduce_ex__(self, protocol):
                return (_utils._rebuild_parameter, (self.data, True, collections.OrderedDict()))
        def frombuffer(buf, dtype):
            return Tensor(_Storage(buf, dtype), [len(buf) // (4 if dtype == float32 else 2)])
        def save(obj, path, protocol=2):
            keys = {}
            class Pickler(pickle.Pickler):
                def persistent_id(self, o):
                    if not isinstance(o, _Storage): return None
                    key = keys.setdefault(id(o), (str(len(keys)), o))[0]
                    size = 4 if o.dtype == float32 else 2
                    location = "cuda:0" if int(key) % 2 else "cpu"
                    return ("storage", FloatStorage if o.dtype == float32 else BFloat16Storage, key, location, len(o.data) // size)
            buf = io.BytesIO()
            Pickler(buf, protocol=protocol).dump(obj)
            with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
                z.writestr("archive/data.pkl", buf.getvalue())
                z.writestr("archive/byteorder", "little")
                for key, o in keys.values(): z.writestr(f"archive/data/{key}", o.data)
                z.writestr("archive/version", "3\n")
        """;

    /// <summary>The conversion gpu-check runs with the real PyTorch: our safetensors file read by hand, every tensor
    /// saved with torch.compile's prefix, in an OrderedDict with the <c>_metadata</c> attribute a state dict has.</summary>
    private const string Convert = """
        import collections, json, struct, sys, torch
        src, dst, protocol = sys.argv[1], sys.argv[2], int(sys.argv[3])
        raw = open(src, "rb").read()
        n = struct.unpack("<Q", raw[:8])[0]
        header = json.loads(raw[8:8 + n])
        header.pop("__metadata__")
        dtypes = {"F32": torch.float32, "BF16": torch.bfloat16}
        sd = collections.OrderedDict()
        sd._metadata = collections.OrderedDict([("", {"version": 1})])
        for name, t in header.items():
            b, e = t["data_offsets"]
            tensor = torch.frombuffer(bytearray(raw[8 + n + b:8 + n + e]), dtype=dtypes[t["dtype"]]).reshape(t["shape"])
            sd["_orig_mod." + name] = torch.Parameter(tensor) if "lm_head" in name else tensor
        torch.save(sd, dst, protocol)
        """;

    /// <summary>Protocol 2 is torch.save's default; 4 and 5 (FRAME, MEMOIZE, SHORT_BINUNICODE, STACK_GLOBAL) are what
    /// <c>pickle_protocol=</c> gives. One tensor is saved as a Parameter and every other storage lives on 'cuda:0'.</summary>
    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(5)]
    public void A_state_dict_pickled_by_cpythons_own_pickler_loads(int protocol)
    {
        string? python = ChildProcess.FindOnPath("python3");
        Assert.SkipWhen(python is null, "python3 is not on PATH (its pickler writes this test's checkpoint)");
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("torch"));
        File.WriteAllText(dir.File("torch/__init__.py"), FakeTorch);
        File.WriteAllText(dir.File("torch/_utils.py"),
            "def _rebuild_tensor_v2(*args): raise NotImplementedError\ndef _rebuild_parameter(*args): raise NotImplementedError\n");
        File.WriteAllText(dir.File("convert.py"), Convert);
        HrmConfig config = ModelFixtures.Micro() with { HLayers = 2, LLayers = 2 };
        using var source = new HrmModel(config, new CpuBackend(1));
        ModelFixtures.RandomizeAll(source, 9);
        HrmCheckpoint.Save(source, dir.File("ours.safetensors"));
        (int rc, string log) = ChildProcess.Run(python!, [dir.File("convert.py"), dir.File("ours.safetensors"),
            dir.File("step_5"), protocol.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            new() { ["PYTHONPATH"] = dir.Path, ["PYTHONDONTWRITEBYTECODE"] = "1" }, 60_000);
        Assert.True(rc == 0, log);
        using HrmModel loaded = HrmCheckpoint.Load(dir.File("step_5"), new CpuBackend(1), config);
        foreach (TensorEntry e in source.Layout.Entries)
            Assert.Equal(source.ReadParameter(e.Name), loaded.ReadParameter(e.Name));
    }
}
