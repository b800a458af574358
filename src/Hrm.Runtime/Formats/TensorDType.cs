namespace Hrm.Runtime.Formats;

/// <summary>Element types of safetensors tensors supported by this runtime (a subset of the format's).</summary>
public enum TensorDType
{
    /// <summary>IEEE-754 binary32 ("F32"), 4 bytes.</summary>
    F32,

    /// <summary>bfloat16 ("BF16"), the upper half of a binary32, 2 bytes.</summary>
    BF16,

    /// <summary>IEEE-754 binary16 ("F16"), 2 bytes.</summary>
    F16,

    /// <summary>Signed 32-bit integer ("I32"), 4 bytes.</summary>
    I32,

    /// <summary>Signed 64-bit integer ("I64"), 8 bytes.</summary>
    I64,

    /// <summary>Unsigned 8-bit integer ("U8"), 1 byte.</summary>
    U8,

    /// <summary>IEEE-754 binary64 ("F64"), 8 bytes.</summary>
    F64,
}
