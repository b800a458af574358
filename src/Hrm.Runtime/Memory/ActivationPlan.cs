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

    /// <summary>A measuring plan (no memory behind it) or a carving plan over real regions.</summary>
    public ActivationPlan(int elemSize, nint floatBase = 0, nint intBase = 0)
    {
        _elemSize = elemSize;
        _floatBase = floatBase;
        _intBase = intBase;
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

    private Buf Take(string name, int[] shape, bool isInt)
    {
        long offset = isInt ? IntElements : FloatElements;
        var e = new PlanEntry(name, shape, offset, isInt);
        _entries.Add(e);
        long padded = (e.Count + ParameterLayout.AlignElements - 1) / ParameterLayout.AlignElements
                      * ParameterLayout.AlignElements;
        if (isInt) IntElements += padded;
        else FloatElements += padded;
        int size = isInt ? sizeof(int) : _elemSize;
        nint baseAddr = isInt ? _intBase : _floatBase;
        return baseAddr == 0 ? new Buf(0, e.Count, size) : new Buf(baseAddr + (nint)(offset * size), e.Count, size);
    }
}
