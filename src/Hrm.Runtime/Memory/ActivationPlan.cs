namespace Hrm.Runtime.Memory;

/// <summary>
/// One buffer of an activation plan: name, shape, offset into its region (in the region's elements), int or float;
/// a float buffer may hold bf16 elements (<see cref="ActivationPlan.CarveBf16"/>).
/// </summary>
public sealed record PlanEntry(string Name, int[] Shape, long Offset, bool IsInt, bool IsBf16 = false)
{
    /// <summary>Element count.</summary>
    public long Count => Shape.Aggregate(1L, (a, d) => a * d);
}

/// <summary>
/// The explicit list of every activation, scratch and I/O buffer a model needs for a batch size: built once
/// by <see cref="Carve"/> in two passes (measure, then carve the real region), so the list printed by
/// <c>hrm info</c> is the one the model uses. Offsets are aligned to 16 elements.
/// </summary>
public sealed class ActivationPlan
{
    private const int Bf16Bytes = 2;
    private const int Bf16AlignBytes = 256;

    private readonly List<PlanEntry> _entries = [];
    private readonly nint _floatBase, _intBase;
    private readonly int _elemSize;
    private readonly ActivationPlan? _rowsOf;   // set for a view of the first rows of another plan's buffers

    /// <summary>A measuring plan (no memory behind it) or a carving plan over real regions.</summary>
    public ActivationPlan(int elemSize, nint floatBase = 0, nint intBase = 0)
    {
        _elemSize = elemSize;
        _floatBase = floatBase;
        _intBase = intBase;
    }

    private ActivationPlan(ActivationPlan full)
        : this(full._elemSize)
    {
        _rowsOf = full;
    }

    /// <summary>Entries in carve order.</summary>
    public IReadOnlyList<PlanEntry> Entries => _entries;

    /// <summary>Floating-point elements (with padding).</summary>
    public long FloatElements { get; private set; }

    /// <summary>Int32 elements (with padding).</summary>
    public long IntElements { get; private set; }

    /// <summary>
    /// Total bytes for a backend whose float elements have <paramref name="elemSize"/> bytes. A plan with bf16 buffers
    /// (sized in this plan's own element size) can only be measured in that size.
    /// </summary>
    public long Bytes(int elemSize)
    {
        if (elemSize != _elemSize && _entries.Exists(e => e.IsBf16))
            throw new ArgumentException($"this plan holds bf16 buffers sized for {_elemSize}-byte elements; " +
                $"measure it with {_elemSize}, not {elemSize}", nameof(elemSize));
        return FloatElements * elemSize + IntElements * sizeof(int);
    }

    /// <summary>Reserves a float buffer of the given shape and returns its view.</summary>
    public Buf Carve(string name, params int[] shape) => Take(name, shape, isInt: false);

    /// <summary>Reserves an int32 buffer of the given shape and returns its view.</summary>
    public Buf CarveInts(string name, params int[] shape) => Take(name, shape, isInt: true);

    /// <summary>
    /// Reserves a bf16 buffer of the given shape in the float region (2-byte elements, as many of the region's
    /// elements as cover them, starting 256 bytes into the region or a multiple of that: the region's base must be
    /// 256-byte aligned, as device allocations are) and returns its view: for backends that store some activations in bf16
    /// (<see cref="Backends.IHrmBackend.Bf16Intermediates"/>).
    /// </summary>
    public Buf CarveBf16(string name, params int[] shape) => Take(name, shape, isInt: false, isBf16: true);

    /// <summary>
    /// A plan that allocates nothing: its k-th Carve returns the leading elements of the k-th buffer of
    /// <paramref name="full"/> (a carving plan), checked to have the same name and at most its size. Carving the
    /// same buffers with a smaller batch gives a view of their first rows (every batch-shaped buffer is row-major
    /// with B leading), which is how a model runs a segment on the first n of its reserved rows.
    /// </summary>
    internal static ActivationPlan RowsOf(ActivationPlan full)
    {
        if (full._floatBase == 0) throw new ArgumentException("a row view needs a carving plan over real regions", nameof(full));
        return new ActivationPlan(full);
    }

    private Buf Take(string name, int[] shape, bool isInt, bool isBf16 = false)
    {
        if (isBf16) // a GEMM operand or output: on a 256-byte boundary, the alignment cuBLASLt plans assume
        {
            long align = Bf16AlignBytes / _elemSize;
            FloatElements = (FloatElements + align - 1) / align * align;
        }
        long offset = isInt ? IntElements : FloatElements;
        var e = new PlanEntry(name, shape, offset, isInt, isBf16);
        _entries.Add(e);
        long slots = isBf16 ? (e.Count * Bf16Bytes + _elemSize - 1) / _elemSize : e.Count; // region elements covered
        long padded = (slots + ParameterLayout.AlignElements - 1) / ParameterLayout.AlignElements
                      * ParameterLayout.AlignElements;
        if (isInt) IntElements += padded;
        else FloatElements += padded;
        if (_rowsOf != null) return _rowsOf.Leading(_entries.Count - 1, e);
        int size = isInt ? sizeof(int) : isBf16 ? Bf16Bytes : _elemSize;
        nint baseAddr = isInt ? _intBase : _floatBase;
        int slot = isInt ? sizeof(int) : _elemSize;   // bytes per region element: offsets count those
        return baseAddr == 0 ? new Buf(0, e.Count, size) : new Buf(baseAddr + (nint)(offset * slot), e.Count, size);
    }

    private static string Kind(PlanEntry e) => e.IsInt ? "int32" : e.IsBf16 ? "bf16" : "float";

    private Buf Leading(int index, PlanEntry view)
    {
        PlanEntry e = index < _entries.Count ? _entries[index] : throw new InvalidOperationException(
            $"row view: buffer #{index} '{view.Name}' does not exist in the full plan ({_entries.Count} buffers)");
        if (e.Name != view.Name || e.IsInt != view.IsInt || e.IsBf16 != view.IsBf16 || view.Count > e.Count)
        {
            throw new InvalidOperationException(
                $"row view: buffer #{index} is '{view.Name}' [{string.Join(", ", view.Shape)}] {Kind(view)} but the " +
                $"full plan has '{e.Name}' [{string.Join(", ", e.Shape)}] {Kind(e)}");
        }
        nint baseAddr = e.IsInt ? _intBase : _floatBase;
        int slot = e.IsInt ? sizeof(int) : _elemSize;
        return new Buf(baseAddr + (nint)(e.Offset * slot), view.Count, e.IsInt ? sizeof(int) : e.IsBf16 ? Bf16Bytes : _elemSize);
    }
}
