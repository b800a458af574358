namespace Hrm.Runtime.Formats;

/// <summary>One tensor entry of a safetensors header.</summary>
/// <param name="Name">The tensor name (with a leading <c>_orig_mod.</c> already stripped by the reader).</param>
/// <param name="DType">The element type.</param>
/// <param name="Shape">The dimensions, outermost first; empty for a scalar.</param>
/// <param name="DataOffsetBegin">First byte of the tensor, relative to the start of the data buffer.</param>
/// <param name="DataOffsetEnd">One past the last byte of the tensor, relative to the start of the data buffer.</param>
public sealed record SafeTensorInfo(
    string Name, TensorDType DType, long[] Shape, long DataOffsetBegin, long DataOffsetEnd)
{
    /// <summary>The number of elements (product of <see cref="Shape"/>; 1 for a scalar).</summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (long d in Shape) n *= d;
            return n;
        }
    }

    /// <summary>The tensor's size in bytes.</summary>
    public long ByteLength => DataOffsetEnd - DataOffsetBegin;

    /// <summary>The shape formatted as <c>[2, 3]</c>, for messages.</summary>
    public string ShapeText => FormatShape(Shape);

    /// <summary>Formats a shape as <c>[2, 3]</c>.</summary>
    /// <param name="shape">The dimensions.</param>
    /// <returns>The bracketed, comma-separated dimensions.</returns>
    public static string FormatShape(ReadOnlySpan<long> shape)
    {
        var sb = new System.Text.StringBuilder("[");
        for (int i = 0; i < shape.Length; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(shape[i].ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return sb.Append(']').ToString();
    }
}
