using System.IO.MemoryMappedFiles;
using Hrm.Runtime.Formats;

namespace Hrm.Train.Data;

/// <summary>
/// A read-only memory map of a 2-D token array in an .npy file ([rows, cols], '|u1' / '&lt;u1' or '&lt;i4'),
/// viewed from the header's data offset. Rows are read by pointer; nothing is copied at open.
/// </summary>
internal sealed unsafe class MappedTokenFile : IDisposable
{
    private const long ScanChunkBytes = 1L << 28;

    private readonly MemoryMappedFile? _file;
    private readonly MemoryMappedViewAccessor? _view;
    private byte* _data;

    private MappedTokenFile(string path, string field, long rows, int cols, int itemSize, MemoryMappedFile? file,
        MemoryMappedViewAccessor? view)
    {
        Path = path;
        Field = field;
        Rows = rows;
        Cols = cols;
        ItemSize = itemSize;
        _file = file;
        _view = view;
        if (view is null) return;
        byte* p = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _data = p + view.PointerOffset;
    }

    public string Path { get; }

    public string Field { get; }

    public long Rows { get; }

    public int Cols { get; }

    /// <summary>1 (uint8) or 4 (int32).</summary>
    public int ItemSize { get; }

    /// <summary>Maps <paramref name="path"/>, checking the dtype and that the shape is [rows, seqLen].</summary>
    public static MappedTokenFile Open(string path, string field, int seqLen)
    {
        NpyHeader h = Npy.ReadHeader(path);
        if (h.Descr is not ("|u1" or "<u1" or "<i4"))
        {
            throw new HrmFormatException(path, "descr",
                $"is '{h.Descr}'; {field} must be uint8 ('|u1') or int32 ('<i4')");
        }
        if (!BitConverter.IsLittleEndian && h.ItemSize == 4)
            throw new PlatformNotSupportedException("int32 token arrays are mapped on little-endian machines only");
        if (h.Shape.Length != 2 || h.Shape[1] != seqLen)
        {
            throw new HrmFormatException(path, "shape",
                $"is {Npy.FormatShape(h.Shape)}; {field} must be [N, seq_len] with seq_len = {seqLen} (dataset.json)");
        }
        if (h.Shape[0] > int.MaxValue)
            throw new HrmFormatException(path, "shape", $"has {h.Shape[0]} rows; at most {int.MaxValue} are supported");
        if (h.DataLength == 0) return new MappedTokenFile(path, field, h.Shape[0], seqLen, h.ItemSize, null, null);
        MemoryMappedFile? file = null;
        try
        {
            file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            MemoryMappedViewAccessor view =
                file.CreateViewAccessor(h.DataOffset, h.DataLength, MemoryMappedFileAccess.Read);
            return new MappedTokenFile(path, field, h.Shape[0], seqLen, h.ItemSize, file, view);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            file?.Dispose();
            throw new HrmFormatException(path, "data", $"could not be memory-mapped ({e.Message})", e);
        }
    }

    /// <summary>Copies row <paramref name="row"/> (bounds-checked by the caller) into <paramref name="dst"/>.</summary>
    public void ReadRow(int row, Span<int> dst)
    {
        ObjectDisposedException.ThrowIf(_data == null && _view is not null, this);
        long offset = (long)row * Cols * ItemSize;
        if (ItemSize == 4)
        {
            new ReadOnlySpan<int>(_data + offset, Cols).CopyTo(dst);
            return;
        }
        var src = new ReadOnlySpan<byte>(_data + offset, Cols);
        for (int i = 0; i < src.Length; i++) dst[i] = src[i];
    }

    /// <summary>The first value outside [0, vocab) other than <paramref name="ignore"/>, described, or null.</summary>
    public string? Scan(int vocab, int? ignore)
    {
        long total = Rows * Cols;
        long chunk = ScanChunkBytes / ItemSize / Cols * Cols;
        if (chunk == 0) chunk = Cols;
        for (long start = 0; start < total; start += chunk)
        {
            int count = (int)Math.Min(chunk, total - start);
            string? problem = ItemSize == 4
                ? DatasetChecks.Tokens(new ReadOnlySpan<int>((int*)_data + start, count), vocab, ignore, Cols, start)
                : DatasetChecks.Tokens(new ReadOnlySpan<byte>(_data + start, count), vocab, ignore, Cols, start);
            if (problem is not null) return problem;
        }
        return null;
    }

    public void Dispose()
    {
        if (_view is not null && _data != null)
        {
            _data = null;
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
        }
        _view?.Dispose();
        _file?.Dispose();
    }
}
