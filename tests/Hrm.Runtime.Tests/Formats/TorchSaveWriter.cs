using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;
using Hrm.Runtime.Formats;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;

namespace Hrm.Runtime.Tests.Formats;

/// <summary>
/// Writes a state dict the way PyTorch 2.x's <c>torch.save(model.state_dict(), path)</c> does, for tests (no PyTorch
/// here): a zip of stored entries <c>NAME/data.pkl</c>, <c>NAME/data/0..</c> (raw little-endian storages),
/// <c>NAME/byteorder</c>, <c>NAME/version</c>, <c>NAME/.format_version</c>, <c>NAME/.storage_alignment</c>
/// and <c>NAME/.data/serialization_id</c>, NAME the file's name without its extension; the pickle is protocol 2 with the opcodes Python's pickler emits for it,
/// as <c>python -m pickletools</c> shows them on real checkpoints: OrderedDict() by GLOBAL + EMPTY_TUPLE + REDUCE,
/// each tensor <c>_rebuild_tensor_v2((BINPERSID ('storage', torch.FloatStorage, key, 'cpu', numel)), offset, size,
/// stride, False, OrderedDict())</c>, every string and global memoised once (BINPUT / LONG_BINPUT) and fetched again
/// with BINGET / LONG_BINGET, SETITEMS, then BUILD with the state dict's <c>_metadata</c>.
/// </summary>
internal sealed class TorchSaveWriter
{
    private readonly List<(string Name, TensorDType DType, long[] Shape, long[] Stride, long Offset, string Key)> _tensors = [];
    private readonly Dictionary<string, (TensorDType DType, byte[] Bytes)> _storages = [];

    /// <summary>The folder inside the zip: torch.save(obj, path) names it after the file (without its extension),
    /// "archive" when it writes to a stream; null: the file's name.</summary>
    public string? Prefix { get; init; }

    /// <summary>How entries are stored (torch.save: uncompressed).</summary>
    public CompressionLevel Compression { get; init; } = CompressionLevel.NoCompression;

    /// <summary>What <c>archive/byteorder</c> says.</summary>
    public string ByteOrder { get; init; } = "little";

    /// <summary>Adds a tensor with its own storage (row-major).</summary>
    public void Add(string name, TensorDType dtype, long[] shape, byte[] bytes)
    {
        string key = _storages.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _storages[key] = (dtype, bytes);
        _tensors.Add((name, dtype, shape, RowMajor(shape), 0, key));
    }

    /// <summary>A model's state dict as the reference saves it: names with <paramref name="prefix"/> (torch.compile's
    /// by default), parameters and the puzzle table F32, H_init/L_init BF16; <paramref name="skip"/> is left out.</summary>
    public static TorchSaveWriter Of(HrmModel model, string prefix = "_orig_mod.", string? skip = null)
    {
        var w = new TorchSaveWriter();
        foreach (TensorEntry e in model.Layout.Entries)
        {
            if (e.Name == skip) continue;
            float[] v = model.ReadParameter(e.Name);
            long[] shape = [.. e.Shape.Select(d => (long)d)];
            if (!e.StoredAsBf16)
            {
                w.Add(prefix + e.Name, TensorDType.F32, shape, MemoryMarshal.AsBytes(v.AsSpan()).ToArray());
                continue;
            }
            var b = new byte[v.Length * 2]; // the values are bf16 already: their upper halves, exactly
            for (int i = 0; i < v.Length; i++)
                BitConverter.TryWriteBytes(b.AsSpan(2 * i), (ushort)(BitConverter.SingleToUInt32Bits(v[i]) >> 16));
            w.Add(prefix + e.Name, TensorDType.BF16, shape, b);
        }
        return w;
    }

    /// <summary>Adds a tensor as a view of an existing storage (any offset and stride).</summary>
    public void AddView(string name, string key, long[] shape, long[] stride, long offset) =>
        _tensors.Add((name, _storages[key].DType, shape, stride, offset, key));

    /// <summary>The pickle (data.pkl) alone.</summary>
    public byte[] Pickle()
    {
        using var p = new PickleBuilder();
        p.Op(0x80).Byte(2);
        p.Global("collections", "OrderedDict").Op(')').Op('R').Put();
        p.Op('(');
        foreach ((string name, TensorDType dtype, long[] shape, long[] stride, long offset, string key) in _tensors)
        {
            p.Str(name);
            p.Global("torch._utils", "_rebuild_tensor_v2");
            p.Op('(');
            p.Op('(').Str("storage").Global("torch", StorageName(dtype)).Str(key).Str("cpu")
                .Int(_storages[key].Bytes.Length / TensorDTypes.SizeOf(dtype)).Op('t').Put();
            p.Op('Q');
            p.Int(offset);
            p.Tuple(shape).Tuple(stride);
            p.Op(0x89);
            p.Global("collections", "OrderedDict").Op(')').Op('R').Put();
            p.Op('t').Put().Op('R').Put();
        }
        p.Op('u');
        // state_dict._metadata = OrderedDict({'': {'version': 1}}): BUILD sets it on the OrderedDict.
        p.Op('}').Put().Str("_metadata").Global("collections", "OrderedDict").Op(')').Op('R').Put()
            .Op('(').Str("").Op('}').Put().Str("version").Int(1).Op('s').Op('u').Op('s').Op('b').Op('.');
        return p.ToArray();
    }

    /// <summary>Writes the checkpoint; <paramref name="pickle"/> replaces data.pkl when given.</summary>
    public void Save(string path, byte[]? pickle = null)
    {
        string prefix = Prefix ?? Path.GetFileNameWithoutExtension(path);
        using FileStream f = File.Create(path);
        using var zip = new ZipArchive(f, ZipArchiveMode.Create);
        void Entry(string name, byte[] bytes)
        {
            using Stream s = zip.CreateEntry($"{prefix}/{name}", Compression).Open();
            s.Write(bytes);
        }
        Entry("data.pkl", pickle ?? Pickle());
        Entry(".format_version", "1"u8.ToArray());
        Entry(".storage_alignment", "64"u8.ToArray());
        Entry("byteorder", Encoding.ASCII.GetBytes(ByteOrder));
        foreach ((string key, (TensorDType _, byte[] bytes)) in _storages) Entry($"data/{key}", bytes);
        Entry("version", "3\n"u8.ToArray());
        Entry(".data/serialization_id", "1234567890123456789012345678901234567890"u8.ToArray());
    }

    private static long[] RowMajor(long[] shape)
    {
        var stride = new long[shape.Length];
        long s = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            stride[i] = s;
            s *= shape[i];
        }
        return stride;
    }

    private static string StorageName(TensorDType dtype) => dtype switch
    {
        TensorDType.F32 => "FloatStorage",
        TensorDType.BF16 => "BFloat16Storage",
        TensorDType.F16 => "HalfStorage",
        TensorDType.F64 => "DoubleStorage",
        TensorDType.I32 => "IntStorage",
        TensorDType.I64 => "LongStorage",
        _ => "ByteStorage",
    };

    /// <summary>Pickle opcodes as Python's protocol-2 pickler writes them, with its memo.</summary>
    private sealed class PickleBuilder : IDisposable
    {
        private readonly MemoryStream _out = new();
        private readonly Dictionary<string, int> _memo = [];

        public PickleBuilder Op(char op) => Byte((byte)op);

        public PickleBuilder Op(byte op) => Byte(op);

        public PickleBuilder Byte(byte b)
        {
            _out.WriteByte(b);
            return this;
        }

        /// <summary>BINPUT / LONG_BINPUT of the object on top: the pickler memoises every container it writes.</summary>
        public PickleBuilder Put()
        {
            PutIndex(_memo.Count);
            _memo[$"#anon{_memo.Count}"] = _memo.Count;
            return this;
        }

        public PickleBuilder Str(string s) => Memoised("s:" + s, () =>
        {
            byte[] b = Encoding.UTF8.GetBytes(s);
            Op('X');
            _out.Write(BitConverter.GetBytes(b.Length));
            _out.Write(b);
        });

        public PickleBuilder Global(string module, string name) => Memoised($"g:{module}.{name}", () =>
        {
            Op('c');
            _out.Write(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));
        });

        public PickleBuilder Int(long v)
        {
            if (v is >= 0 and < 256) Op('K').Byte((byte)v);
            else if (v is >= 0 and < 65536) { Op('M'); _out.Write(BitConverter.GetBytes((ushort)v)); }
            else if (v is >= int.MinValue and <= int.MaxValue) { Op('J'); _out.Write(BitConverter.GetBytes((int)v)); }
            else
            {
                Op(0x8a).Byte(8);
                _out.Write(BitConverter.GetBytes(v));
            }
            return this;
        }

        public PickleBuilder Tuple(long[] items)
        {
            if (items.Length == 0) return Op(')');
            if (items.Length > 3) Op('(');
            foreach (long v in items) Int(v);
            return (items.Length switch { 1 => Op(0x85), 2 => Op(0x86), 3 => Op(0x87), _ => Op('t') }).Put();
        }

        public byte[] ToArray() => _out.ToArray();

        public void Dispose() => _out.Dispose();

        private PickleBuilder Memoised(string key, Action write)
        {
            if (_memo.TryGetValue(key, out int index))
            {
                if (index < 256) Op('h').Byte((byte)index);
                else { Op('j'); _out.Write(BitConverter.GetBytes(index)); }
                return this;
            }
            write();
            index = _memo.Count;
            _memo[key] = index;
            PutIndex(index);
            return this;
        }

        private void PutIndex(int index)
        {
            if (index < 256) Op('q').Byte((byte)index);
            else
            {
                Op('r');
                _out.Write(BitConverter.GetBytes(index));
            }
        }
    }
}
