namespace Hrm.Runtime.Formats;

/// <summary>Sizes and safetensors names of <see cref="TensorDType"/> values.</summary>
public static class TensorDTypes
{
    /// <summary>The supported dtype names, for error messages.</summary>
    public const string SupportedNames = "F32, BF16, F16, I32, I64, U8, F64";

    /// <summary>Bytes per element of <paramref name="dtype"/>.</summary>
    /// <param name="dtype">The element type.</param>
    /// <returns>1, 2, 4 or 8.</returns>
    public static int SizeOf(TensorDType dtype) => dtype switch
    {
        TensorDType.U8 => 1,
        TensorDType.BF16 or TensorDType.F16 => 2,
        TensorDType.F32 or TensorDType.I32 => 4,
        TensorDType.I64 or TensorDType.F64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown TensorDType"),
    };

    /// <summary>The dtype's name in a safetensors header ("F32", "BF16", ...).</summary>
    /// <param name="dtype">The element type.</param>
    /// <returns>The header string.</returns>
    public static string Name(TensorDType dtype) => dtype switch
    {
        TensorDType.F32 => "F32",
        TensorDType.BF16 => "BF16",
        TensorDType.F16 => "F16",
        TensorDType.I32 => "I32",
        TensorDType.I64 => "I64",
        TensorDType.U8 => "U8",
        TensorDType.F64 => "F64",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown TensorDType"),
    };

    /// <summary>Parses a safetensors header dtype name (case-sensitive, as the format specifies).</summary>
    /// <param name="name">The header string, e.g. "BF16".</param>
    /// <param name="dtype">The parsed element type.</param>
    /// <returns>False when the name is not one of <see cref="SupportedNames"/>.</returns>
    public static bool TryParse(string? name, out TensorDType dtype)
    {
        switch (name)
        {
            case "F32": dtype = TensorDType.F32; return true;
            case "BF16": dtype = TensorDType.BF16; return true;
            case "F16": dtype = TensorDType.F16; return true;
            case "I32": dtype = TensorDType.I32; return true;
            case "I64": dtype = TensorDType.I64; return true;
            case "U8": dtype = TensorDType.U8; return true;
            case "F64": dtype = TensorDType.F64; return true;
            default: dtype = default; return false;
        }
    }

    /// <summary>Whether the dtype holds floating-point values (F32, BF16, F16, F64).</summary>
    /// <param name="dtype">The element type.</param>
    /// <returns>True for floating-point types.</returns>
    public static bool IsFloat(TensorDType dtype) =>
        dtype is TensorDType.F32 or TensorDType.BF16 or TensorDType.F16 or TensorDType.F64;
}
