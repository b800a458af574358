namespace Hrm.Runtime.Memory;

/// <summary>
/// A view of backend-owned memory: <see cref="Address"/> is the address of element 0 and <see cref="Length"/>
/// counts elements of <see cref="ElemSize"/> bytes. Host pointer on CPU backends (float or double elements),
/// device pointer on CUDA. Slicing never allocates. The model never dereferences a Buf; only backends do.
/// </summary>
public readonly struct Buf : IEquatable<Buf>
{
    /// <summary>Creates a view.</summary>
    public Buf(nint address, long length, int elemSize)
    {
        Address = address;
        Length = length;
        ElemSize = elemSize;
    }

    /// <summary>Address of element 0.</summary>
    public nint Address { get; }

    /// <summary>Element count.</summary>
    public long Length { get; }

    /// <summary>Bytes per element.</summary>
    public int ElemSize { get; }

    /// <summary>True for the empty view (used for optional operands).</summary>
    public bool IsEmpty => Length == 0;

    /// <summary>An empty view.</summary>
    public static Buf Empty => default;

    /// <summary>Elements [offset, offset + length).</summary>
    public Buf Slice(long offset, long length)
    {
        if ((ulong)offset > (ulong)Length || (ulong)length > (ulong)(Length - offset))
            throw new ArgumentOutOfRangeException(nameof(offset),
                $"slice [{offset}, {offset + length}) is outside a buffer of {Length} elements");
        return new Buf(Address + (nint)(offset * ElemSize), length, ElemSize);
    }

    /// <summary>Elements [offset, end).</summary>
    public Buf Slice(long offset) => Slice(offset, Length - offset);

    /// <summary>Throws unless the view holds exactly <paramref name="expected"/> elements.</summary>
    public Buf Expect(long expected, string what)
    {
        if (Length != expected)
            throw new ArgumentException($"{what}: expected {expected} elements, got {Length}");
        return this;
    }

    /// <inheritdoc/>
    public bool Equals(Buf other) => Address == other.Address && Length == other.Length && ElemSize == other.ElemSize;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Buf b && Equals(b);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Address, Length, ElemSize);

    /// <summary>Equality.</summary>
    public static bool operator ==(Buf left, Buf right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(Buf left, Buf right) => !left.Equals(right);
}
