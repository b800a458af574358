using System.Buffers;
using System.IO.Compression;
using System.Text;

namespace Hrm.Runtime.Formats;

/// <summary>
/// A PyTorch checkpoint as <c>torch.save</c> writes it (the zip format of PyTorch 1.6 and later): <c>PREFIX/data.pkl</c>
/// pickles the object, here a state dict (names to tensors, an OrderedDict), and each tensor's storage lies in
/// <c>PREFIX/data/KEY</c> as raw little-endian elements. The reference's checkpoints (<c>step_N</c> files, the published
/// <c>sapientinc/HRM-checkpoint-*</c> ones) are such files. The pickle is read without running any code
/// (<see cref="PickleReader"/>): only OrderedDict and PyTorch's tensor and parameter rebuilders are understood, anything
/// else is an error that names it. A leading <c>_orig_mod.</c> (torch.compile) is stripped from the names.
/// Tensors must be laid out row-major in their storage (state dicts are); the storage offset may be anything.
/// </summary>
internal sealed class TorchCheckpointFile : IDisposable
{
    private const int ChunkBytes = 1 << 20;
    private const long MaxPickleBytes = 32L << 20;

    /// <summary>The most elements a tensor or storage offset may have (2^40; keeps every byte count in range).</summary>
    private const long MaxElements = 1L << 40;

    private readonly FileStream _stream;
    private readonly ZipArchive _zip;
    private readonly Dictionary<string, TorchTensor> _byName;

    /// <summary>One tensor of the state dict.</summary>
    /// <param name="Name">The state-dict key (without <c>_orig_mod.</c>).</param>
    /// <param name="DType">The storage's element type.</param>
    /// <param name="Shape">The dimensions, outermost first.</param>
    /// <param name="Entry">The zip entry holding the storage.</param>
    /// <param name="Offset">The tensor's first element in its storage.</param>
    internal sealed record TorchTensor(string Name, TensorDType DType, long[] Shape, string Entry, long Offset)
    {
        public long ElementCount => Shape.Aggregate(1L, (a, d) => a * d);

        public string ShapeText => SafeTensorInfo.FormatShape(Shape);
    }

    private TorchCheckpointFile(string path, FileStream stream, ZipArchive zip, List<TorchTensor> tensors)
    {
        Path = path;
        _stream = stream;
        _zip = zip;
        Tensors = tensors;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>The state dict's tensors in file order.</summary>
    public IReadOnlyList<TorchTensor> Tensors { get; }

    /// <summary>Whether the first bytes of <paramref name="path"/> are a zip's (a PyTorch checkpoint's) rather than
    /// a safetensors header. A bare pickle (PyTorch's format before 1.6, or <c>_use_new_zipfile_serialization=False</c>)
    /// is refused here with what to do.</summary>
    public static bool IsZip(string path)
    {
        FileReads.RefuseDirectory(path, "a checkpoint file (.safetensors, or PyTorch's .pt)");
        Span<byte> head = stackalloc byte[4];
        using FileStream f = File.OpenRead(path);
        int n = f.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        // The legacy format opens with PROTO 2 and LONG1 of PyTorch's 10-byte magic number. (A safetensors file opens
        // with its header length: 80 02 8a 0a would be a 177 MB header, beyond the format's limit.)
        if (n == 4 && head.SequenceEqual((ReadOnlySpan<byte>)[0x80, 0x02, 0x8a, 0x0a]))
            throw new HrmFormatException(path, "format", "a PyTorch checkpoint in the legacy format (a bare pickle, " +
                "PyTorch before 1.6 or _use_new_zipfile_serialization=False): load it in PyTorch and torch.save it again");
        return n == 4 && head.SequenceEqual("PK\u0003\u0004"u8);
    }

    /// <summary>Opens and checks a checkpoint: the zip, the pickle, every tensor's dtype, shape and storage size.</summary>
    public static TorchCheckpointFile Open(string path)
    {
        FileStream stream = File.OpenRead(path);
        ZipArchive? zip = null;
        try
        {
            try
            {
                zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
                _ = zip.Entries.Count;
            }
            catch (Exception e) when (IsZipFailure(e))
            {
                throw new HrmFormatException(path, "zip", $"not a readable zip archive ({e.Message})", e);
            }
            ZipArchiveEntry[] pkls = [.. zip.Entries.Where(e => e.FullName == "data.pkl" ||
                e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.IndexOf('/') == e.FullName.Length - 9)];
            if (pkls.Length != 1)
                throw new HrmFormatException(path, "data.pkl", pkls.Length == 0
                    ? "no PREFIX/data.pkl in the zip: not a torch.save checkpoint"
                    : $"{pkls.Length} data.pkl entries (one expected)");
            string prefix = pkls[0].FullName[..^"data.pkl".Length];
            if (zip.GetEntry(prefix + "byteorder") is { } order)
            {
                string text = Encoding.ASCII.GetString(ReadAll(path, order, 16)).Trim();
                if (text != "little")
                    throw new HrmFormatException(path, prefix + "byteorder", $"'{text}': only little-endian storages are read");
            }
            byte[] pickle = ReadAll(path, pkls[0], MaxPickleBytes);
            var storages = new Dictionary<string, (TensorDType DType, long Numel)>(StringComparer.Ordinal);
            object? root = PickleReader.Load(pickle, path, pkls[0].FullName,
                (g, args) => Call(path, pkls[0].FullName, g, args),
                pid => PersistentLoad(path, pkls[0].FullName, pid, storages));
            List<TorchTensor> tensors = StateDict(path, pkls[0].FullName, root, prefix);
            foreach (TorchTensor t in tensors)
            {
                ZipArchiveEntry entry = zip.GetEntry(t.Entry)
                    ?? throw new HrmFormatException(path, t.Name, $"its storage {t.Entry} is not in the zip");
                Stored(path, entry);
                long need = (t.Offset + t.ElementCount) * TensorDTypes.SizeOf(t.DType);
                if (entry.Length < need)
                    throw new HrmFormatException(path, t.Name,
                        $"its storage {t.Entry} has {entry.Length} bytes; the tensor {t.ShapeText} at element " +
                        $"{t.Offset} needs {need}");
            }
            return new TorchCheckpointFile(path, stream, zip, tensors);
        }
        catch
        {
            zip?.Dispose();
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Whether the state dict has a tensor of that name.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The tensor of that name.</summary>
    public TorchTensor Get(string name) =>
        _byName.TryGetValue(name, out TorchTensor? t) ? t : throw new HrmFormatException(Path, name, "no such tensor");

    /// <summary>A floating-point tensor (F32, BF16, F16, F64) as floats, row-major, into <paramref name="dst"/> (its
    /// length the tensor's element count).</summary>
    public void ReadAsFloat32(string name, Span<float> dst)
    {
        TorchTensor t = Get(name);
        if (!TensorDTypes.IsFloat(t.DType))
            throw new HrmFormatException(Path, name, $"has dtype {TensorDTypes.Name(t.DType)}, not a float type");
        if (dst.Length != t.ElementCount)
            throw new ArgumentException($"{Path}: {name}: {t.ElementCount} elements, destination {dst.Length}");
        int size = TensorDTypes.SizeOf(t.DType);
        ZipArchiveEntry entry = _zip.GetEntry(t.Entry)!;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            using Stream s = entry.Open();
            for (long skip = t.Offset * size; skip > 0;)
            {
                int n = s.Read(buffer, 0, (int)Math.Min(skip, ChunkBytes));
                if (n == 0) throw new HrmFormatException(Path, name, $"{t.Entry} ends early");
                skip -= n;
            }
            int perChunk = ChunkBytes / size;
            for (int done = 0; done < dst.Length; done += perChunk)
            {
                int count = Math.Min(perChunk, dst.Length - done);
                Span<byte> bytes = buffer.AsSpan(0, count * size);
                try
                {
                    s.ReadExactly(bytes);
                }
                catch (EndOfStreamException e)
                {
                    throw new HrmFormatException(Path, name, $"{t.Entry} ends early", e);
                }
                LittleEndianConvert.ToFloat32(t.DType, bytes, dst.Slice(done, count));
            }
        }
        catch (Exception e) when (e is not HrmFormatException && IsZipFailure(e))
        {
            throw new HrmFormatException(Path, name, $"{t.Entry} cannot be read ({e.Message})", e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public void Dispose()
    {
        _zip.Dispose();
        _stream.Dispose();
    }

    private static byte[] ReadAll(string path, ZipArchiveEntry entry, long max)
    {
        Stored(path, entry);
        if (entry.Length > max)
            throw new HrmFormatException(path, entry.FullName, $"{entry.Length} bytes (at most {max} are read)");
        var bytes = new byte[entry.Length];
        try
        {
            using Stream s = entry.Open();
            s.ReadExactly(bytes);
        }
        catch (Exception e) when (e is EndOfStreamException || IsZipFailure(e))
        {
            throw new HrmFormatException(path, entry.FullName, $"cannot be read ({e.Message})", e);
        }
        return bytes;
    }

    /// <summary>torch.save stores every entry uncompressed; a compressed one (a file made otherwise, or a zip bomb)
    /// is refused before anything is inflated.</summary>
    private static void Stored(string path, ZipArchiveEntry entry)
    {
        if (entry.CompressedLength != entry.Length)
            throw new HrmFormatException(path, entry.FullName, $"is compressed ({entry.CompressedLength} bytes for " +
                $"{entry.Length}): torch.save stores its entries uncompressed");
    }

    /// <summary>What .NET's zip reader throws on a corrupt archive besides InvalidDataException.</summary>
    private static bool IsZipFailure(Exception e) => e is InvalidDataException or IOException or ArgumentException
        or IndexOutOfRangeException or OverflowException or NotSupportedException;

    /// <summary>A storage reference: <c>('storage', torch.FloatStorage, key, location, numel)</c>.</summary>
    private sealed record StorageRef(TensorDType DType, string Key, long Numel);

    /// <summary>A rebuilt tensor, before the state dict's name is known.</summary>
    private sealed record TensorRef(StorageRef Storage, long Offset, long[] Shape, long[] Stride);

    private static StorageRef PersistentLoad(string path, string field, object? pid,
        Dictionary<string, (TensorDType, long)> storages)
    {
        if (pid is not PyTuple { Items: ["storage", PyGlobal type, string key, string, long numel] })
            throw new HrmFormatException(path, field, "a persistent id other than ('storage', type, key, location, numel)");
        if (type.Module != "torch" || !StorageDType(type.Name, out TensorDType dtype))
            throw new HrmFormatException(path, field, $"storage type {type} is not read (float, bfloat16, half, " +
                "double, int, long, byte)");
        if (numel is < 0 or > MaxElements)
            throw new HrmFormatException(path, field, $"storage {key} has {numel} elements");
        if (storages.TryGetValue(key, out (TensorDType DType, long Numel) seen) && seen.DType != dtype)
            throw new HrmFormatException(path, field, $"storage {key} is read as {seen.DType} and as {dtype}");
        storages[key] = (dtype, numel);
        return new StorageRef(dtype, key, numel);
    }

    private static bool StorageDType(string name, out TensorDType dtype)
    {
        (bool ok, dtype) = name switch
        {
            "FloatStorage" => (true, TensorDType.F32),
            "BFloat16Storage" => (true, TensorDType.BF16),
            "HalfStorage" => (true, TensorDType.F16),
            "DoubleStorage" => (true, TensorDType.F64),
            "IntStorage" => (true, TensorDType.I32),
            "LongStorage" => (true, TensorDType.I64),
            "ByteStorage" or "BoolStorage" => (true, TensorDType.U8),
            _ => (false, default(TensorDType)),
        };
        return ok;
    }

    /// <summary>The calls a state dict makes: OrderedDict(), torch._utils._rebuild_tensor_v2 and
    /// torch._utils._rebuild_parameter(_with_state). Nothing else runs.</summary>
    private static object? Call(string path, string field, PyGlobal g, PyTuple args)
    {
        switch (g.Module, g.Name)
        {
            case ("collections", "OrderedDict") when args.Items.Length == 0:
                return new PyDict();
            case ("torch._utils", "_rebuild_tensor_v2") when args.Items.Length is 6 or 7:
            {
                if (args.Items is not [StorageRef s, long offset, PyTuple size, PyTuple stride, ..])
                    throw new HrmFormatException(path, field, "_rebuild_tensor_v2 without (storage, offset, size, stride)");
                long[] shape = Longs(path, field, size), strides = Longs(path, field, stride);
                if (shape.Length != strides.Length || shape.Any(d => d < 0) || offset < 0)
                    throw new HrmFormatException(path, field, $"a tensor of size {SafeTensorInfo.FormatShape(shape)} " +
                        $"with stride {SafeTensorInfo.FormatShape(strides)} at offset {offset}");
                return new TensorRef(s, offset, shape, strides);
            }
            case ("torch._utils", "_rebuild_parameter" or "_rebuild_parameter_with_state")
                when args.Items is [TensorRef t, ..]:
                return t;
            default:
                throw new HrmFormatException(path, field, $"calls {g} with {args.Items.Length} arguments: only state " +
                    "dicts (OrderedDict and tensors) are read, and no code runs");
        }
    }

    private static long[] Longs(string path, string field, PyTuple t) =>
        [.. t.Items.Select(o => o is long v ? v : throw new HrmFormatException(path, field, "a size or stride that is not an integer"))];

    private static List<TorchTensor> StateDict(string path, string field, object? root, string prefix)
    {
        if (root is not PyDict dict)
            throw new HrmFormatException(path, field, $"holds a {Describe(root)}, not a state dict (names to tensors)");
        var tensors = new List<TorchTensor>(dict.Items.Count);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach ((object key, object? value) in dict.Items)
        {
            if (key is not string raw)
                throw new HrmFormatException(path, field, $"a state-dict key that is a {Describe(key)}, not a name");
            string name = SafeTensorsFile.StripCompilePrefix(raw);
            if (value is not TensorRef t)
                throw new HrmFormatException(path, name, $"holds a {Describe(value)}, not a tensor");
            if (!names.Add(name)) throw new HrmFormatException(path, name, "appears twice");
            long expect = 1;
            for (int i = t.Shape.Length - 1; i >= 0; i--)
            {
                if (t.Shape[i] != 1 && t.Stride[i] != expect && !t.Shape.Contains(0))
                    throw new HrmFormatException(path, name, $"size {SafeTensorInfo.FormatShape(t.Shape)} with stride " +
                        $"{SafeTensorInfo.FormatShape(t.Stride)} is not row-major (only contiguous tensors are read)");
                if (t.Shape[i] > MaxElements / Math.Max(expect, 1))
                    throw new HrmFormatException(path, name, $"size {SafeTensorInfo.FormatShape(t.Shape)} is too large");
                expect *= t.Shape[i];
            }
            if (t.Offset > MaxElements || t.Offset + expect > t.Storage.Numel)
                throw new HrmFormatException(path, name, $"size {SafeTensorInfo.FormatShape(t.Shape)} at element " +
                    $"{t.Offset} does not fit its storage of {t.Storage.Numel} elements");
            tensors.Add(new TorchTensor(name, t.Storage.DType, t.Shape, $"{prefix}data/{t.Storage.Key}", t.Offset));
        }
        return tensors;
    }

    private static string Describe(object? o) => o switch
    {
        null => "None",
        PyDict => "dict",
        PyTuple => "tuple",
        List<object?> => "list",
        TensorRef => "tensor",
        string => "string",
        long or double or bool => o.GetType().Name.ToLowerInvariant(),
        _ => o.GetType().Name,
    };
}
