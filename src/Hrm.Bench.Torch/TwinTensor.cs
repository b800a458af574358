namespace Hrm.Bench.Torch;

/// <summary>One tensor of a checkpoint, converted to fp32 (row-major values).</summary>
public sealed record TwinTensor(string Name, long[] Shape, float[] Values);
