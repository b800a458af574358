namespace Hrm.Runtime.Memory;

/// <summary>One buffer of an activation plan: name, shape, element offset into its region, int or float.</summary>
public sealed record PlanEntry(string Name, int[] Shape, long Offset, bool IsInt)
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

    /// <summary>Total bytes for a backend whose float elements have <paramref name="elemSize"/> bytes.</summary>
    public long Bytes(int elemSize) => FloatElements * elemSize + IntElements * sizeof(int);

    /// <summary>Reserves a float buffer of the given shape and returns its view.</summary>
    public Buf Carve(string name, params int[] shape) => Take(name, shape, isInt: false);

    /// <summary>Reserves an int32 buffer of the given shape and returns its view.</summary>
    public Buf CarveInts(string name, params int[] shape) => Take(name, shape, isInt: true);

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

    private Buf Take(string name, int[] shape, bool isInt)
    {
        long offset = isInt ? IntElements : FloatElements;
        var e = new PlanEntry(name, shape, offset, isInt);
        _entries.Add(e);
        long padded = (e.Count + ParameterLayout.AlignElements - 1) / ParameterLayout.AlignElements
                      * ParameterLayout.AlignElements;
        if (isInt) IntElements += padded;
        else FloatElements += padded;
        if (_rowsOf != null) return _rowsOf.Leading(_entries.Count - 1, e);
        int size = isInt ? sizeof(int) : _elemSize;
        nint baseAddr = isInt ? _intBase : _floatBase;
        return baseAddr == 0 ? new Buf(0, e.Count, size) : new Buf(baseAddr + (nint)(offset * size), e.Count, size);
    }

    private Buf Leading(int index, PlanEntry view)
    {
        PlanEntry e = index < _entries.Count ? _entries[index] : throw new InvalidOperationException(
            $"row view: buffer #{index} '{view.Name}' does not exist in the full plan ({_entries.Count} buffers)");
        if (e.Name != view.Name || e.IsInt != view.IsInt || view.Count > e.Count)
        {
            throw new InvalidOperationException(
                $"row view: buffer #{index} is '{view.Name}' [{string.Join(", ", view.Shape)}] but the full plan has " +
                $"'{e.Name}' [{string.Join(", ", e.Shape)}]");
        }
        int size = e.IsInt ? sizeof(int) : _elemSize;
        nint baseAddr = e.IsInt ? _intBase : _floatBase;
        return new Buf(baseAddr + (nint)(e.Offset * size), view.Count, size);
    }
}
