using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Hrm.Runtime.Formats;

/// <summary>
/// A read-only safetensors file: an 8-byte little-endian header size N, N bytes of UTF-8 JSON header, then the
/// data buffer. <see cref="Open"/> reads and fully validates the header and keeps the file open; tensor data is
/// read on demand with positional reads (safe to call from several threads at once). Tensors whose names start
/// with <see cref="CompilePrefix"/> are exposed without it.
/// </summary>
public sealed class SafeTensorsFile : IDisposable
{
    /// <summary>The prefix <c>torch.compile</c> adds to every parameter name of a compiled module.</summary>
    public const string CompilePrefix = "_orig_mod.";

    private const int ChunkBytes = 64 * 1024;

    private readonly SafeFileHandle _handle;
    private readonly Dictionary<string, SafeTensorInfo> _byName;

    private SafeTensorsFile(string path, SafeFileHandle handle, long dataStart, SafeTensorsHeader header)
    {
        Path = path;
        _handle = handle;
        DataStart = dataStart;
        Tensors = header.Tensors.AsReadOnly();
        Metadata = header.Metadata.AsReadOnly();
        _byName = new Dictionary<string, SafeTensorInfo>(header.Tensors.Count, StringComparer.Ordinal);
        foreach (SafeTensorInfo t in header.Tensors) _byName.Add(t.Name, t);
    }

    /// <summary>The path the file was opened from.</summary>
    public string Path { get; }

    /// <summary>File offset of the data buffer (8 + header size); tensor offsets are relative to it.</summary>
    public long DataStart { get; }

    /// <summary>All tensors, in header order, under their stripped names.</summary>
    public IReadOnlyList<SafeTensorInfo> Tensors { get; }

    /// <summary>The header's <c>__metadata__</c> entries (empty when the header has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Opens <paramref name="path"/> and validates its header.</summary>
    /// <param name="path">The safetensors file.</param>
    /// <returns>The open file; dispose it to close the file.</returns>
    /// <exception cref="HrmFormatException">The file is not a valid safetensors file.</exception>
    /// <exception cref="IOException">The file cannot be opened (missing, locked, ...).</exception>
    public static SafeTensorsFile Open(string path)
    {
        FileReads.RefuseDirectory(path, "a safetensors file");
        SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read,
            FileOptions.RandomAccess);
        try
        {
            (long dataStart, SafeTensorsHeader header) = ReadHeader(path, handle);
            return new SafeTensorsFile(path, handle, dataStart, header);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Removes one leading <see cref="CompilePrefix"/> (<c>_orig_mod.</c>) from a tensor name.</summary>
    /// <param name="name">A tensor name as stored in a checkpoint.</param>
    /// <returns>The name without the prefix, or <paramref name="name"/> unchanged when it has none.</returns>
    public static string StripCompilePrefix(string name) =>
        name.StartsWith(CompilePrefix, StringComparison.Ordinal) ? name[CompilePrefix.Length..] : name;

    /// <summary>Whether the file holds a tensor called <paramref name="name"/> (stripped or not).</summary>
    /// <param name="name">The tensor name.</param>
    /// <returns>True when <see cref="Get"/> would succeed.</returns>
    public bool Contains(string name) => TryGet(name, out _);

    /// <summary>Looks up a tensor; a name carrying <see cref="CompilePrefix"/> also finds its stripped form.</summary>
    /// <param name="name">The tensor name.</param>
    /// <param name="info">The tensor's header entry, when found.</param>
    /// <returns>True when found.</returns>
    public bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SafeTensorInfo? info) =>
        _byName.TryGetValue(name, out info) || _byName.TryGetValue(StripCompilePrefix(name), out info);

    /// <summary>The header entry of tensor <paramref name="name"/>.</summary>
    /// <param name="name">The tensor name.</param>
    /// <returns>The tensor's header entry.</returns>
    /// <exception cref="HrmFormatException">No such tensor; the message lists some present ones.</exception>
    public SafeTensorInfo Get(string name)
    {
        if (TryGet(name, out SafeTensorInfo? info)) return info;
        const int Shown = 8;
        string present = Tensors.Count == 0
            ? "the file holds no tensors"
            : $"the file holds {Tensors.Count} tensors, e.g. " +
              string.Join(", ", Tensors.Take(Shown).Select(t => $"'{t.Name}'")) +
              (Tensors.Count > Shown ? ", ..." : "");
        throw new HrmFormatException(Path, name, $"no such tensor; {present}");
    }

    /// <summary>
    /// Reads a floating-point tensor (F32, BF16, F16 or F64) converted to float into <paramref name="dst"/>,
    /// whose length must equal the tensor's element count.
    /// </summary>
    /// <param name="name">The tensor name.</param>
    /// <param name="dst">Receives the elements in row-major order.</param>
    /// <exception cref="HrmFormatException">Missing tensor, non-float dtype, or wrong destination length.</exception>
    public void ReadAsFloat32(string name, Span<float> dst)
    {
        SafeTensorInfo t = Prepare(name, dst.Length, nameof(ReadAsFloat32));
        if (!TensorDTypes.IsFloat(t.DType))
        {
            throw new HrmFormatException(Path, t.Name,
                $"has dtype {TensorDTypes.Name(t.DType)}; ReadAsFloat32 reads F32, BF16, F16 or F64 (use ReadAsInt32)");
        }
        long offset = DataStart + t.DataOffsetBegin;
        if (t.DType == TensorDType.F32)
        {
            FileReads.ReadExactly(_handle, MemoryMarshal.AsBytes(dst), offset, Path, t.Name);
            if (!BitConverter.IsLittleEndian) LittleEndianConvert.ReverseInPlace(dst);
            return;
        }
        int size = TensorDTypes.SizeOf(t.DType);
        int perChunk = ChunkBytes / size;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            for (int done = 0; done < dst.Length; done += perChunk)
            {
                int n = Math.Min(perChunk, dst.Length - done);
                Span<byte> bytes = buffer.AsSpan(0, n * size);
                FileReads.ReadExactly(_handle, bytes, offset + ((long)done * size), Path, t.Name);
                LittleEndianConvert.ToFloat32(t.DType, bytes, dst.Slice(done, n));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Reads an integer tensor (I32, I64 or U8) converted to int into <paramref name="dst"/>, whose length must
    /// equal the tensor's element count. I64 values outside the int range are an error.
    /// </summary>
    /// <param name="name">The tensor name.</param>
    /// <param name="dst">Receives the elements in row-major order.</param>
    /// <exception cref="HrmFormatException">
    /// Missing tensor, non-integer dtype, wrong length, or out-of-range value.
    /// </exception>
    public void ReadAsInt32(string name, Span<int> dst)
    {
        SafeTensorInfo t = Prepare(name, dst.Length, nameof(ReadAsInt32));
        if (TensorDTypes.IsFloat(t.DType))
        {
            throw new HrmFormatException(Path, t.Name,
                $"has dtype {TensorDTypes.Name(t.DType)}; ReadAsInt32 reads I32, I64 or U8 (use ReadAsFloat32)");
        }
        long offset = DataStart + t.DataOffsetBegin;
        int size = TensorDTypes.SizeOf(t.DType);
        int perChunk = ChunkBytes / size;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            for (int done = 0; done < dst.Length; done += perChunk)
            {
                int n = Math.Min(perChunk, dst.Length - done);
                Span<byte> bytes = buffer.AsSpan(0, n * size);
                FileReads.ReadExactly(_handle, bytes, offset + ((long)done * size), Path, t.Name);
                int bad = LittleEndianConvert.ToInt32(t.DType, bytes, dst.Slice(done, n), out long value);
                if (bad >= 0)
                {
                    throw new HrmFormatException(Path, t.Name,
                        $"element {done + bad} is {value}, outside the int32 range [{int.MinValue}, {int.MaxValue}]");
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Reads a tensor's bytes exactly as stored (little-endian elements, row-major).</summary>
    /// <param name="name">The tensor name.</param>
    /// <returns>A new array of <see cref="SafeTensorInfo.ByteLength"/> bytes.</returns>
    /// <exception cref="HrmFormatException">Missing tensor, or a tensor too large for one array.</exception>
    public byte[] ReadRaw(string name)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        SafeTensorInfo t = Get(name);
        if (t.ByteLength > Array.MaxLength)
        {
            throw new HrmFormatException(Path, t.Name,
                $"is {t.ByteLength} bytes, more than one array can hold ({Array.MaxLength})");
        }
        byte[] result = new byte[t.ByteLength];
        FileReads.ReadExactly(_handle, result, DataStart + t.DataOffsetBegin, Path, t.Name);
        return result;
    }

    /// <summary>Closes the file.</summary>
    public void Dispose() => _handle.Dispose();

    private SafeTensorInfo Prepare(string name, int dstLength, string method)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        SafeTensorInfo t = Get(name);
        if (t.ElementCount != dstLength)
        {
            throw new HrmFormatException(Path, t.Name,
                $"{method} destination has {dstLength} elements but the tensor has {t.ElementCount} " +
                $"(shape {t.ShapeText})");
        }
        return t;
    }

    private static (long DataStart, SafeTensorsHeader Header) ReadHeader(string path, SafeFileHandle handle)
    {
        const string Field = "header size";
        long length = RandomAccess.GetLength(handle);
        if (length < 8)
        {
            throw new HrmFormatException(path, Field,
                $"file is {length} bytes long; expected at least 8 (a little-endian u64 header size, then the header)");
        }
        Span<byte> prefix = stackalloc byte[8];
        FileReads.ReadExactly(handle, prefix, 0, path, Field);
        ulong size = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (size == 0) throw new HrmFormatException(path, Field, "is 0; expected a JSON header of at least 2 bytes");
        if (size > (ulong)(length - 8))
        {
            throw new HrmFormatException(path, Field,
                $"is {size} but only {length - 8} bytes follow the 8-byte prefix " +
                "(truncated, or not a safetensors file?)");
        }
        if (size > SafeTensorsHeader.MaxHeaderBytes)
        {
            throw new HrmFormatException(path, Field,
                $"is {size} bytes, more than the {SafeTensorsHeader.MaxHeaderBytes}-byte (100 MB) limit");
        }
        int n = (int)size;
        byte[] json = ArrayPool<byte>.Shared.Rent(n);
        try
        {
            FileReads.ReadExactly(handle, json.AsSpan(0, n), 8, path, "header");
            long dataStart = 8 + n;
            return (dataStart, SafeTensorsHeader.Parse(path, json.AsMemory(0, n), length - dataStart));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(json);
        }
    }
}
